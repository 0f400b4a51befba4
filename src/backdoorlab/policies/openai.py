"""`openai`: any OpenAI-compatible chat-completions endpoint as the agent.

vLLM, SGLang, a llama.cpp server, ``backdoorlab serve`` or a hosted API: the policy
sends each episode's conversation with the environment's tools (native ``tools`` /
``tool_calls``) through the official ``openai`` client and turns the reply into the
same `Action` the ``hf`` policy returns, so rollouts, collection, evaluation and scans
run unchanged over HTTP.

- **In flight.** One request per active episode, at most ``concurrency`` at a time, on
  a thread pool over the client's synchronous API (thread-safe, one connection pool):
  a policy called from code that already runs an event loop (a notebook) works the same.
- **Failures.** The client itself retries connection errors, timeouts, 408/409/429 and
  5xx with exponential backoff and jitter, honouring ``Retry-After``
  (``max_retries``); what still fails ends the run with one line naming the server
  (a `ServerError`), never a traceback.
- **Checked first.** Building the policy asks ``/v1/models`` for the model, so an
  unreachable server or a wrong model name fails before the first episode.
- **The key** is read from the environment (``api_key_env``), passed to the client and
  nowhere else: traces record ``openai:MODEL``, and errors name the server URL with
  any ``user:password@`` part removed.
- **Off-line.** There is no default endpoint (the client's own, api.openai.com, and
  ``OPENAI_BASE_URL`` are never used): ``base_url`` must be given, and giving it is the
  user's consent to reach that address, loopback or not.
- **Output.** Greedy unless asked (``temperature`` 0, which servers read as greedy),
  ``max_tokens`` as the ``hf`` policy's ``max_new_tokens``. A tool call whose arguments
  are not a JSON object, or a reply whose text holds an unparsed tool call (a server
  without a tool parser), is an invalid action, flagged, never raised.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from backdoorlab.bounds import Seed
from backdoorlab.chat import parse_assistant_output
from backdoorlab.config import Config
from backdoorlab.errors import BackdoorlabError
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.traces import FunctionCall, Message, ToolCall

__all__ = ["OpenAIConfig", "OpenAIPolicy", "ServerError", "redact_url"]

NO_KEY = "EMPTY"
"""Sent when no key is set: servers without authentication (vLLM's default) accept any."""


class ServerError(BackdoorlabError):
    """The chat-completions server cannot be reached, or refuses what it is asked."""


class OpenAIConfig(Config):
    """Where the served model is and how it is asked."""

    label: ClassVar[str] = "openai policy settings"

    base_url: str = Field(min_length=1)
    """The endpoint's base URL, e.g. http://127.0.0.1:8000/v1 (no default: reaching it is
    the user's explicit choice)."""
    model: str = Field(min_length=1)
    """The model name the server knows (as listed by its /v1/models)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key (unset: no key is sent)."""
    concurrency: int = Field(8, gt=0, le=1024)
    """Requests in flight at most."""
    max_retries: int = Field(4, ge=0, le=20)
    """Retries of a request after a connection error, a timeout, 408/409/429 or 5xx (the
    client's exponential backoff, 0.5 s doubling to 8 s, with jitter)."""
    timeout: float = Field(120.0, gt=0, le=86_400)
    """Seconds one request may take."""
    max_tokens: int = Field(160, gt=0, le=1_048_576)
    """Tokens per turn (as the hf policy's max_new_tokens)."""
    temperature: float = Field(0.0, ge=0, le=2)
    """0: greedy; above, sampled at that temperature."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling mass (with a temperature above 0)."""
    seed: Seed | None = None
    """Sampling seed passed to the server (servers may ignore it)."""


def redact_url(url: str) -> str:
    """``url`` without a ``user:password@`` part, safe to print."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class OpenAIPolicy(Policy):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    name = "openai"

    def __init__(self, config: OpenAIConfig | None = None, **settings: Any) -> None:
        import openai

        self.config = config if config is not None else OpenAIConfig(**settings)
        self.url = redact_url(self.config.base_url)
        self.client = openai.OpenAI(
            base_url=self.config.base_url,
            api_key=os.environ.get(self.config.api_key_env) or NO_KEY,
            max_retries=self.config.max_retries,
            timeout=self.config.timeout,
        )
        self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="openai")
        self.check_model()

    def describe(self) -> str:
        return f"openai:{self.config.model}"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def check_model(self) -> None:
        """Fail now, in one line, if the server is unreachable or lacks the model."""
        retries = min(self.config.max_retries, 2)
        try:
            served = [m.id for m in self.client.with_options(max_retries=retries).models.list()]
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            raise self._error(exc, "listing its models", retries) from None
        if self.config.model not in served:
            listing = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
            raise ServerError(
                f"the server at {self.url} does not serve model '{self.config.model}' "
                f"(it serves: {listing or 'nothing'}); pass one of these as --model"
            )

    def act(self, episodes: list[Episode]) -> list[Action]:
        futures = [self._pool.submit(self._complete, episode) for episode in episodes]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f in done and f.exception() is not None]
        if failed:
            for future in pending:
                future.cancel()
            raise _first_exception(failed)
        return [f.result() for f in futures]

    def _complete(self, episode: Episode) -> Action:
        c = self.config
        sampling: dict[str, Any] = {"temperature": c.temperature}
        if c.temperature > 0:
            sampling["top_p"] = c.top_p
        if c.seed is not None:
            sampling["seed"] = c.seed
        if episode.env.tools:  # no "tools": null for a tool-less environment
            sampling["tools"] = list(episode.env.tools)
        try:
            response = self.client.chat.completions.create(
                model=c.model,
                messages=[_wire(m) for m in episode.messages],  # type: ignore[misc]
                max_tokens=c.max_tokens,
                **sampling,
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            doing = f"a chat completion (episode {episode.task.id})"
            raise self._error(exc, doing, c.max_retries) from None
        return to_action(response, call_id_prefix=f"call_{episode.steps}")

    def _error(self, exc: Exception, doing: str, retried: int) -> ServerError:
        import openai

        where = f"the server at {self.url}"
        if isinstance(exc, openai.APITimeoutError):
            detail = f"{where} did not answer {doing} within {self.config.timeout:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            detail = f"cannot reach {where} ({doing}): {_cause(exc)}"
        elif isinstance(exc, openai.AuthenticationError):
            detail = (
                f"{where} refused the API key ({doing}, 401); set it in "
                f"{self.config.api_key_env} or name another variable with --api-key-env"
            )
        elif isinstance(exc, openai.NotFoundError):
            detail = f"{where} has no such model or endpoint ({doing}, 404): {_body(exc)}"
        elif isinstance(exc, openai.APIStatusError):
            detail = f"{where} failed {doing} with HTTP {exc.status_code}: {_body(exc)}"
        else:
            detail = f"{where}: {doing} failed: {type(exc).__name__}: {exc}"
        if isinstance(exc, openai.APIConnectionError | openai.APIStatusError) and retried:
            detail += f" (after {retried} retries)"
        return ServerError(" ".join(detail.split()))


def to_action(response: Any, *, call_id_prefix: str) -> Action:
    """A chat completion as the assistant message the rollout appends (see the module doc)."""
    choices = getattr(response, "choices", None) or []
    if not choices or choices[0].message is None:
        return Action(Message(role="assistant", content=""), invalid=True)
    reply = choices[0].message
    content = reply.content
    if not reply.tool_calls:
        parsed = parse_assistant_output(content or "", call_id_prefix=call_id_prefix)
        return Action(parsed.message, invalid=parsed.invalid)
    calls, invalid = [], False
    for index, call in enumerate(reply.tool_calls):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        arguments = getattr(function, "arguments", None) or "{}"
        if not isinstance(name, str) or not _json_object(arguments):
            invalid = True
        calls.append(
            ToolCall(
                id=call.id or f"{call_id_prefix}_{index}",
                function=FunctionCall(name=str(name), arguments=str(arguments)),
            )
        )
    if invalid:  # the rollout must not run it: keep the text only, flagged
        text = json.dumps([c.function.model_dump() for c in calls], ensure_ascii=False)
        return Action(Message(role="assistant", content=(content or "") + text), invalid=True)
    return Action(Message(role="assistant", content=content, tool_calls=calls))


def _wire(message: Message) -> dict[str, Any]:
    """A message as the chat-completions API takes it (extra trace fields left out)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": c.function.model_dump()}
            for c in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
        if message.name:
            out["name"] = message.name
    return out


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError, TypeError):  # ValueError: a 4,300-digit number
        return False


def _first_exception(failed: list[Future[Action]]) -> BaseException:
    error = failed[0].exception()
    assert error is not None
    return error


def _cause(exc: BaseException) -> str:
    """The innermost cause's message (``Connection refused``), on one line."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__


def _body(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:300]
    return str(getattr(exc, "message", exc))[:300]
