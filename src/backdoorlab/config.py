"""One base for every config: pydantic models whose fields document and validate themselves.

Every setting of every stage (training, FAB, scan, evaluation, the experiment YAML) is a
field of a `Config` subclass, written as TRL and inspect_ai write theirs:

- the type and ``Field`` constraints (``gt=0``, ``Literal[...]``) are the validation, so no
  hand-written ``validate()`` drifts from the declaration;
- the docstring under each field is its help text (``use_attribute_docstrings``), shown by
  ``--help`` and by ``backdoorlab config``-style listings;
- unknown keys are refused (``extra="forbid"``): a typo in a YAML or a ``--set`` fails at
  once, with the field's dotted path, before any compute;
- numbers are numbers: NaN and infinity are refused, and so is a boolean where a number
  is expected (pydantic would read ``epochs: yes`` as 1); bounds shared by many fields
  live in `backdoorlab.bounds`;
- ``aliases`` maps names users bring from elsewhere (TRL's ``num_train_epochs``) to ours.

`ConfigError` is a `BackdoorlabError`, so the CLI prints it as one line and exits 2.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Self, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from backdoorlab.errors import BackdoorlabError

__all__ = [
    "Config",
    "ConfigError",
    "describe_validation_error",
    "field_error",
    "parse_assignments",
]


_VALIDATING: ContextVar[bool] = ContextVar("backdoorlab_config_validating", default=False)
"""True while a config is being validated, so nested configs leave error paths to it."""


class ConfigError(BackdoorlabError):
    """A config value is missing, unknown or out of range; the message names the field.

    The message is one line whatever the user wrote: a value or key it quotes has its
    line breaks and other control characters escaped (``'\\n'``)."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


def _one_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _is_tag(part: Any) -> bool:
    """A union member's tag in an error location (``list[...]``, ``dict[str,...]``):
    pydantic's name of the schema tried, not a field the user wrote."""
    return isinstance(part, str) and part.endswith("]") and "[" in part


def _first_error(errors: Sequence[Any]) -> tuple[Any, str]:
    """The error to report and its message. A value that fits no member of a union
    (``list[Path] | dict[str, list[Path]]``) gives one error per member, each located
    under the member's tag: the one that got furthest into the value is the user's
    mistake; members failing at the same depth are named together."""
    first = errors[0]
    loc = list(first["loc"])
    if first["type"] == "extra_forbidden":
        loc = loc[:-1]  # the last part is the user's unknown key ("zz[]"), never a tag
    at = next((n for n, part in enumerate(loc) if _is_tag(part)), None)
    if at is None:
        return first, first["msg"]
    members = [e for e in errors if len(e["loc"]) > at and list(e["loc"][:at]) == loc[:at]]
    members = [e for e in members if _is_tag(e["loc"][at])]  # the same union's members
    depth = max(len(e["loc"]) for e in members)
    deepest = [e for e in members if len(e["loc"]) == depth]
    lead = "Input should be "
    words = [deepest[0]["msg"]] + [
        e["msg"].removeprefix(lead) for e in deepest[1:] if e["msg"] != deepest[0]["msg"]
    ]
    return deepest[0], " or ".join(dict.fromkeys(words))


def describe_validation_error(exc: ValidationError, where: str = "", prefix: str = "") -> str:
    """The first problem of a pydantic error as one line: ``where: field 'a.b': message``.

    ``prefix`` is the dotted path of the validated object inside a larger document (an
    experiment YAML's ``train`` section, say), so the path printed is the user's.
    """
    first, message = _first_error(exc.errors())
    loc = list(first["loc"])
    key = loc.pop() if first["type"] == "extra_forbidden" and loc else None
    parts = [p for p in loc if not _is_tag(p)] + ([key] if key is not None else [])
    path = _location([p for p in (prefix,) if p] + parts)
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    head = f"{where}: " if where else ""
    return f"{head}field '{path}': {message}" if path else f"{head}{message}"


def field_error(loc: str | Sequence[str], message: str) -> ValidationError:
    """An error located at a field (``"a"``, or ``("trl", "key")`` inside one), for checks
    a ``Field`` constraint cannot express: raised from a model validator it reads
    ``field 'a': message`` like a constraint's error, where a plain ``ValueError`` would
    have no location and pydantic's ``Value error,`` prefix."""
    detail = InitErrorDetails(
        type=PydanticCustomError("invalid", message),
        loc=(loc,) if isinstance(loc, str) else tuple(loc),
        input=None,
    )
    return ValidationError.from_exception_data("config", [detail])


class Config(BaseModel):
    """Base of every config: strict keys, field docstrings as help, one-line errors."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_assignment=True,
        protected_namespaces=(),
        allow_inf_nan=False,
    )

    aliases: ClassVar[dict[str, str]] = {}
    """Foreign setting names accepted for ours, e.g. ``{"num_train_epochs": "epochs"}``."""
    label: ClassVar[str] = "config"
    """How errors name this config when no file is involved (``training config``)."""

    @field_validator("*", mode="before")
    @classmethod
    def _plain_types(cls, value: Any, info: ValidationInfo) -> Any:
        """A boolean is no number here; a nested config's setting names are text (pydantic
        would pass a YAML ``1:`` key to ``__init__`` as a keyword: a TypeError)."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        if isinstance(value, bool) and _numeric(field.annotation):
            raise PydanticCustomError("bool_for_number", "expected a number, not a boolean")
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping) and _holds_config(field.annotation):
                for key in item:
                    if not isinstance(key, str):
                        raise PydanticCustomError(
                            "setting_name", "unknown setting {key} (not a name)", {"key": key}
                        )
        return value

    def __init__(self, **data: Any) -> None:
        # Built from Python (a CLI command, a test) rather than from a file: the same
        # one-line error, named after the config, instead of pydantic's multi-line one.
        # pydantic also calls this for a config nested in another one; there the error
        # must stay a ValidationError so the outer config reports its full path.
        data = type(self).canonical(data, self.label)
        if _VALIDATING.get():
            super().__init__(**data)
            return
        token = _VALIDATING.set(True)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, self.label)) from None
        finally:
            _VALIDATING.reset(token)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """pydantic's; a config nested in this one leaves its errors to this one, which
        knows their full path (callers that validate by hand see a ValidationError)."""
        if isinstance(obj, Mapping):  # YAML reads `1: x` as an int key; pydantic's TypeError
            for key in obj:
                if not isinstance(key, str):
                    raise field_error(str(key), "unknown setting (not a name)")
        token = _VALIDATING.set(True)
        try:
            return super().model_validate(obj, **kwargs)
        finally:
            _VALIDATING.reset(token)

    @classmethod
    def canonical(cls, data: Mapping[str, Any], where: str = "", prefix: str = "") -> dict:
        """``data`` with aliased keys renamed; a key given under both names is an error."""
        out: dict[str, Any] = {}
        head = f"{where}: " if where else ""
        for key, value in data.items():
            name = cls.aliases.get(key, key)
            if name in out:
                path = f"{prefix}.{name}" if prefix else name
                raise ConfigError(f"{head}field '{path}': given twice (as '{key}' too)")
            out[name] = value
        return out

    @classmethod
    def load(cls, data: Mapping[str, Any] | None, where: str = "", prefix: str = "") -> Self:
        """Validate a mapping (a YAML section, parsed CLI assignments) into this config.

        ``where`` names the source (a file, ``--set``) and ``prefix`` the section inside it;
        both appear in the one-line error.
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            head = f"{where}: " if where else ""
            raise ConfigError(f"{head}field '{prefix}': expected a mapping of settings")
        token = _VALIDATING.set(True)
        try:
            return cls.model_validate(cls.canonical(data, where or cls.label, prefix))
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, where or cls.label, prefix)) from None
        finally:
            _VALIDATING.reset(token)

    def updated(self, changes: Mapping[str, Any], where: str = "", prefix: str = "") -> Self:
        """A copy with ``changes`` applied and the whole config validated again."""
        merged = self.model_dump()
        merged.update(self.canonical(changes, where, prefix))
        return type(self).load(merged, where, prefix)

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """Each field's one-paragraph help text (its docstring), by name."""
        fields = cls.model_fields.items()
        return {name: " ".join((field.description or "").split()) for name, field in fields}


def _numeric(annotation: Any) -> bool:
    """Whether a field of this type holds an int or a float (None allowed), not a bool."""
    kinds = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    kinds = tuple(k for k in kinds or (annotation,) if k is not type(None))
    return bool(kinds) and all(k in (int, float) for k in kinds)


def _holds_config(annotation: Any) -> bool:
    """Whether a field of this type holds a config (``Sub``, ``Sub | None``, ``list[Sub]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_config(arg) for arg in get_args(annotation))


def parse_assignments(items: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """``["learning_rate=1e-4", "lora_target_modules=[q_proj, v_proj]"]`` → a mapping.

    Values are read as YAML, so numbers, booleans, lists and ``null`` need no quoting
    rules of their own; the config's validation then checks each against its field.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{option} '{item}': expected NAME=VALUE, e.g. learning_rate=1e-4")
        try:
            out[key] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key] = value
    return out
