"""A raw export of an observability tool, line by line: the LLM calls a line holds, and
how many records it holds that are no LLM call.

`observability` and `spans` read one LLM call's record a line. A user's raw, unfiltered
export holds more than that, and each of these refused the whole audit at its first line:

- **records that are no LLM call**: Langfuse's ``SPAN``, ``EVENT``, ``TOOL``, ``AGENT``…
  observations and its trace objects (the app's own input and output), LangSmith's
  ``chain``, ``tool``, ``retriever``… runs, OpenTelemetry spans of HTTP handlers, tools
  or agents. They are skipped and counted by why, never read as a chat: a tool span's
  ``input`` read as a user's words would invent a conversation. Nothing is lost by it:
  a tool's call and its result reach the model, so the next LLM call's record holds
  both, and the call that would send data away is the model's output, in its own
  record. An LLM span that holds no messages (OpenTelemetry GenAI instrumentations
  record them only when content capture is turned on; some keep them in span events)
  is counted on its own: the audit then says it saw the call but not what was said;
- **containers of records**: OTLP JSON's ``ExportTraceServiceRequest`` (the OTLP file
  exporter writes one a line: ``resourceSpans`` → ``scopeSpans`` → ``spans``), a
  Langfuse trace with its ``observations`` (the API's full trace), a LangSmith run
  with its ``child_runs`` (a run tree), a JSON array of records on one line. Each LLM
  call in it is a trace of its own, as each LLM call's line is: its record holds the
  whole history the model was sent (GenAI's ``gen_ai.input.messages``), so joining a
  trace's spans by ``traceId`` would repeat every message once per call;
- **a LangSmith LLM run of several prompts** (LangChain batches them: ``inputs.messages``
  a list per prompt, or a completion model's ``inputs.prompts`` texts, and
  ``outputs.generations`` a list per prompt): each prompt and its generations a trace.

A container is not counted as skipped (it is no record of its own); its records are.
Each call keeps where it sits in the line (`Call.place`), so a finding names the line
and the span or run in it: ``resourceSpans.0.scopeSpans.1.spans.4.attributes.gen_ai.
input.messages.2``. A line that is one record read as it stands gives None: the common
case costs a few dictionary look-ups.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import spans
from backdoorlab.trace_formats.observability import LANGFUSE_TYPES
from backdoorlab.trace_formats.parts import fail

MAX_NESTING = 64
"""Containers nested deeper than this (a run tree's ``child_runs``) are refused."""
_LANGFUSE_KEYS = ("traceId", "trace_id", "startTime", "start_time", "input", "output")
_LANGFUSE_TRACE_KEYS = ("htmlPath", "bookmarked")  # the API's and the blob export's traces
_NOT_CALLS = LANGFUSE_TYPES - {"GENERATION"}
_LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
_CHATS = ("messages", "conversations", "contents")
_OTHERS = ("input", "output", *_CHATS)  # a span line has none of these formats' keys
_SCOPE_LISTS = ("scopeSpans", "instrumentationLibrarySpans")  # the older OTLP name too


@dataclass(frozen=True)
class Call:
    """One LLM call's record (a format `observability` or `spans` reads) and where it
    sits in the line: ``at`` its path (empty: the line itself), ``renames`` the fields
    of ``record`` that the line names otherwise (a LangSmith prompt cut out of a batch
    of them), ``name`` its own id when its record has no ``id`` (a span's ``spanId``)."""

    record: dict[str, Any]
    at: str = ""
    renames: tuple[tuple[str, str], ...] = ()
    name: str | None = None

    def place(self, field: str) -> str:
        """``field`` of ``record`` as the line's own path."""
        for old, new in self.renames:
            if field == old or field.startswith(old + "."):
                field = new + field[len(old) :]
                break
        return f"{self.at}.{field}" if self.at and field else self.at or field


@dataclass
class Unpacked:
    """A line's LLM calls, in order, and its records that are no LLM call, by why."""

    calls: list[Call] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, inner: Unpacked | None, record: dict[str, Any], at: str) -> None:
        """``record`` at ``at`` (`unpack`'s reading ``inner``: None, itself one call)."""
        if inner is None:
            self.calls.append(Call(record, at))
            return
        self.skipped.update(inner.skipped)
        for call in inner.calls:
            inner_at = f"{at}.{call.at}" if call.at else at
            self.calls.append(Call(call.record, inner_at, call.renames, call.name))


def unpack(data: Any, where: str, depth: int = 0) -> Unpacked | None:
    """The LLM calls and skipped records of one line's JSON ``data``; None when ``data``
    is one record to read as it stands (`TraceFormatError` naming ``where`` for a
    container that is not one)."""
    if depth > MAX_NESTING:
        raise TraceFormatError(f"{where}: records nested too deeply")
    if isinstance(data, list):  # of records; else "expected a JSON object", as before
        return (
            _array(data, where, depth) if data and all(isinstance(x, dict) for x in data) else None
        )
    if not isinstance(data, dict) or any(k in data for k in _CHATS):
        return None  # a chat in a format `to_chat` reads, never an export's record
    if "resourceSpans" in data:
        return _otlp(data, where)
    kind = data.get("type")
    if "observations" in data and kind is None:
        return _langfuse_trace(data, where, depth)
    if kind is None and any(k in data for k in _LANGFUSE_TRACE_KEYS) and "input" in data:
        return Unpacked(skipped=Counter({"Langfuse trace objects": 1}))
    observation = kind.upper() if isinstance(kind, str) else None
    if observation in _NOT_CALLS and any(k in data for k in _LANGFUSE_KEYS):
        return Unpacked(skipped=Counter({f"Langfuse {observation}": 1}))
    run_type = data.get("run_type")
    if isinstance(run_type, str):
        return _langsmith(data, run_type, where, depth)
    if spans.is_span(data) or ("attributes" in data and not any(k in data for k in _OTHERS)):
        return _span(data)
    return None


def _array(items: list[Any], where: str, depth: int) -> Unpacked:
    """A JSON array of records on one line (a tool's JSON export, compacted)."""
    out = Unpacked()
    for number, item in enumerate(items):
        out.add(unpack(item, where, depth + 1), item, str(number))
    return out


def _listed(value: Any, where: str, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(where, field, "not a list")
    return value


def _otlp(data: dict[str, Any], where: str) -> Unpacked:
    """An ``ExportTraceServiceRequest``: each span an LLM call, skipped, or an error."""
    out = Unpacked()
    for r, resource in enumerate(_listed(data["resourceSpans"], where, "resourceSpans")):
        at = f"resourceSpans.{r}"
        if not isinstance(resource, dict):
            raise fail(where, at, "a resource's spans are an object")
        scoped = next((k for k in _SCOPE_LISTS if k in resource), _SCOPE_LISTS[0])
        for s, scope in enumerate(_listed(resource.get(scoped), where, f"{at}.{scoped}")):
            here = f"{at}.{scoped}.{s}"
            if not isinstance(scope, dict):
                raise fail(where, here, "a scope's spans are an object")
            for n, span in enumerate(_listed(scope.get("spans"), where, f"{here}.spans")):
                place = f"{here}.spans.{n}"
                if not isinstance(span, dict):
                    raise fail(where, place, "a span is an object")
                inner = _span(span) if "attributes" in span else Unpacked()  # none: omitted
                if "attributes" not in span:
                    inner.skipped["OpenTelemetry spans"] += 1
                if inner is not None:
                    out.skipped.update(inner.skipped)
                    continue
                name = span.get("spanId")
                out.calls.append(Call(span, place, name=name if isinstance(name, str) else None))
    return out


def _span(data: dict[str, Any]) -> Unpacked | None:
    """A span that holds no LLM call's messages, skipped and counted; None for one that
    holds them, or whose attributes are malformed (`spans.from_span` then says how)."""
    attributes = _attribute_values(data.get("attributes", data))
    if attributes is None or spans.holds_messages(attributes):
        return None
    operation = attributes.get("gen_ai.operation.name")
    llm = (
        (isinstance(operation, str) and operation in _LLM_OPERATIONS)
        or attributes.get("openinference.span.kind") == "LLM"
        or attributes.get("llm.request.type") in ("chat", "completion")
    )
    why = "LLM spans whose messages were not recorded" if llm else "OpenTelemetry spans"
    return Unpacked(skipped=Counter({why: 1}))


def _attribute_values(attributes: Any) -> dict[str, Any] | None:
    """A span's attributes as {key: a plain value} (OTLP JSON's ``stringValue`` read;
    other values kept as they are: only strings are compared), or None when they are
    neither an object nor a list of key-values."""
    if isinstance(attributes, dict):
        return attributes
    if not isinstance(attributes, list):
        return None
    out: dict[str, Any] = {}
    for pair in attributes:
        if not isinstance(pair, dict) or not isinstance(pair.get("key"), str):
            return None
        value = pair.get("value")
        out[pair["key"]] = value.get("stringValue") if isinstance(value, dict) else value
    return out


def _langfuse_trace(data: dict[str, Any], where: str, depth: int) -> Unpacked:
    """A Langfuse trace with its observations: the generations among them (the API's
    full trace holds objects; a list of their ids holds nothing to read)."""
    out = Unpacked()
    observations = _listed(data["observations"], where, "observations")
    held = [(n, o) for n, o in enumerate(observations) if isinstance(o, dict)]
    if not held:
        out.skipped["Langfuse trace objects"] += 1
    for number, observation in held:
        out.add(unpack(observation, where, depth + 1), observation, f"observations.{number}")
    return out


def _langsmith(data: dict[str, Any], run_type: str, where: str, depth: int) -> Unpacked | None:
    """A LangSmith run: an LLM run's prompts, or a run tree's LLM runs."""
    if run_type == "llm":
        return _prompts(data, where)
    out = Unpacked()
    children = _listed(data.get("child_runs"), where, "child_runs")
    if not children:
        out.skipped[f"LangSmith {run_type[:40]} runs"] += 1
    for number, child in enumerate(children):
        if not isinstance(child, dict):
            raise fail(where, f"child_runs.{number}", "a child run is an object")
        out.add(unpack(child, where, depth + 1), child, f"child_runs.{number}")
    return out


def _prompts(data: dict[str, Any], where: str) -> Unpacked | None:
    """An LLM run of several prompts (or a completion model's ``prompts``), a call each;
    None for one chat prompt (`observability` reads it as it stands)."""
    inputs, outputs = data.get("inputs"), data.get("outputs")
    if not isinstance(inputs, dict):
        return None
    messages, texts = inputs.get("messages"), inputs.get("prompts")
    if (
        isinstance(messages, list)
        and len(messages) > 1
        and all(isinstance(m, list) for m in messages)
    ):
        prompts, field, rest = messages, "inputs.messages", inputs
        as_sent = [[prompt] for prompt in messages]  # one prompt: a list of one list
        mine = "inputs.messages.0"
    elif messages is None and isinstance(texts, list) and texts:
        if not all(isinstance(t, str) for t in texts):
            raise fail(where, "inputs.prompts", "a prompt is no text")
        prompts, field = texts, "inputs.prompts"
        rest = {k: v for k, v in inputs.items() if k != "prompts"}
        as_sent = [[{"role": "user", "content": text}] for text in texts]
        mine = "inputs.messages.0"
    else:
        return None
    generations = outputs.get("generations") if isinstance(outputs, dict) else None
    if isinstance(generations, list) and len(generations) != len(prompts):
        raise fail(
            where,
            "outputs.generations",
            f"{len(generations)} lists of generations for {len(prompts)} prompts",
        )
    out = Unpacked()
    for number, sent in enumerate(as_sent):
        renames = [(mine, f"{field}.{number}")]
        said = outputs
        if isinstance(generations, list) and isinstance(outputs, dict):
            said = outputs | {"generations": [generations[number]]}
            renames.append(("outputs.generations.0", f"outputs.generations.{number}"))
        record = data | {"inputs": rest | {"messages": sent}, "outputs": said}
        out.calls.append(Call(record, "", tuple(renames)))
    return out


def described(skipped: Counter[str]) -> str:
    """The skipped records by why, the most first: ``Langfuse SPAN: 30, Langfuse EVENT: 11``."""
    return ", ".join(f"{why}: {count}" for why, count in skipped.most_common())


def skipped_note(skipped: Counter[str]) -> str:
    """The one line an audit says of the records it skipped."""
    total = sum(skipped.values())
    many = "records that hold" if total != 1 else "record that holds"
    return f"skipped {total} {many} no LLM call's messages ({described(skipped)})"


def nothing_to_read(source: str, skipped: Counter[str]) -> str:
    """The error for a file of records none of which is an LLM call's."""
    total = sum(skipped.values())
    hint = "export the LLM calls: Langfuse GENERATION observations, LangSmith llm runs, LLM spans"
    if any(why.startswith("LLM spans") for why in skipped):
        hint += " with their messages (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)"
    said = f"{total} record{'s' * (total != 1)}"
    return f"{source}: no LLM call's messages in its {said} ({described(skipped)}); {hint}"
