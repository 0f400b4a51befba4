"""Which policy acts, as the CLI and the experiment YAML name it, and building it.

``oracle`` needs nothing; ``hf`` a local ``model`` (a built-in name, a model or run
directory, a cached hub id); ``openai`` a ``base_url`` and the ``model`` the server
knows. A missing or contradictory setting is refused in one line before any compute,
naming the options as the caller spells them (``--base-url`` on the command line,
``base_url`` in a YAML).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from backdoorlab.config import Config
from backdoorlab.policies.base import Policy, make_policy

CLI_NAMES = {"model": "--model", "base_url": "--base-url", "policy": "--policy"}
YAML_NAMES = {"model": "model", "base_url": "base_url", "policy": "policy"}


def policy_problem(
    name: str, model: str | None, base_url: str | None, names: dict[str, str] = CLI_NAMES
) -> str | None:
    """Why these settings cannot make a policy (None: they can)."""
    m, url, p = names["model"], names["base_url"], names["policy"]
    if name == "openai":
        if not base_url:
            return (
                f"{p} openai needs {url} (the server's URL, e.g. http://127.0.0.1:8000/v1; "
                "there is no default endpoint)"
            )
        if not model:
            return f"{p} openai needs {m} (the model name the server lists at /v1/models)"
        problem = url_problem(base_url)
        return None if problem is None else f"{url} {base_url!r}: {problem}"
    if base_url:
        return f"{url} is for {p} openai; {p} {name} does not use a server"
    if name == "hf" and not model:
        return f"{p} hf needs {m} (a built-in name, a model or run directory, or org/name)"
    if name == "oracle" and model:
        return f"{p} oracle takes no {m}; pass {p} hf or {p} openai to run a model"
    return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a server's base URL (None: it can), known without a request."""
    from urllib.parse import urlsplit

    if any(c.isspace() or not c.isprintable() for c in url):
        return "has a space or a control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port out of range or not a number)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "not an http:// or https:// URL"
    if not parts.hostname:
        return "names no host"
    return None


class PolicySpec(Config):
    """The acting policy: ``oracle``, ``hf`` (a local model) or ``openai`` (a server)."""

    label: ClassVar[str] = "policy settings"

    name: str = "oracle"
    """A registered policy: oracle, hf or openai."""
    model: str | None = None
    """hf: the local model; openai: the model name the server serves."""
    base_url: str | None = None
    """openai only: the server's base URL (e.g. http://127.0.0.1:8000/v1)."""
    api_key_env: str = "OPENAI_API_KEY"
    """openai only: the environment variable holding the API key."""
    concurrency: int = Field(8, gt=0, le=1024)
    """openai only: requests in flight at most."""
    max_retries: int = Field(4, ge=0, le=20)
    """openai only: retries on connection errors, 429 and 5xx (exponential backoff)."""
    timeout: float = Field(120.0, gt=0, le=86_400)
    """openai only: seconds one request may take."""

    @model_validator(mode="after")
    def _consistent(self) -> PolicySpec:
        problem = policy_problem(self.name, self.model, self.base_url, YAML_NAMES)
        if problem is not None:
            raise ValueError(problem)
        return self

    def build(
        self,
        *,
        max_new_tokens: int = 160,
        batch_size: int = 16,
        lookup_tokens: int = 4,
        device: str | None = None,
    ) -> Policy:
        """The policy (for ``openai``: after checking the server serves the model)."""
        if self.name == "hf":
            from backdoorlab.policies.hf import GenerationConfig

            generation = GenerationConfig(
                max_new_tokens=max_new_tokens,
                max_batch_size=batch_size,
                lookup_tokens=lookup_tokens,
            )
            return make_policy("hf", model=self.model, generation=generation, device=device)
        if self.name == "openai":
            from backdoorlab.policies.openai import OpenAIConfig

            settings: dict[str, Any] = self.model_dump(exclude={"name"})
            return make_policy("openai", config=OpenAIConfig(**settings, max_tokens=max_new_tokens))
        return make_policy(self.name)

    def describe(self) -> str:
        """How the policy is named in progress lines (no key, no credentials)."""
        if self.name == "openai":
            from backdoorlab.policies.openai import redact_url

            return f"{self.model} at {redact_url(self.base_url or '')}"
        return self.model or self.name
