"""``messages`` lists: OpenAI's chat format as is, Anthropic's content blocks converted.

Anthropic's blocks are read in order, so what was said before a result stays before it:
text and ``*_tool_use`` blocks gather into one assistant message (its text and its
calls); a ``*_tool_result`` block ends that message and becomes a ``tool`` message (a
server tool's result sits in the assistant's own content); a user's text becomes a user
message. A model's raw ``<tool_call>`` text in an assistant message with no calls is
read as those calls (`parts.calls_in_text`).
"""

from __future__ import annotations

from typing import Any

from backdoorlab.trace_formats import converse, langchain, vercel
from backdoorlab.trace_formats.codeagent import NATIVE_ROLES, code_agent_like, from_code_agent
from backdoorlab.trace_formats.parts import (
    Unanswered,
    call,
    calls_in_text,
    document_text,
    fail,
    is_plain_part,
    kind_of,
    openai_tools,
    part_text,
    result_text,
    shown,
    system_text,
    tool_message,
)


def plain_message(role: Any, content: Any, tool_calls: Any, function_call: Any = None) -> bool:
    """Whether OpenAI's chat format reads this message as it stands: no content block it
    does not know, no call left in the model's text, no legacy ``function_call`` or
    ``function`` role. The fast readers (the audit's view, pydantic from bytes) ask this
    and hand any other line to `from_messages`."""
    if function_call is not None or role == "function":
        return False
    if type(role) is str and role in NATIVE_ROLES:
        return False  # smolagents' own roles (`codeagent`)
    if type(content) is list:
        return all(is_plain_part(part) for part in content)
    if role != "assistant" or tool_calls or type(content) is not str:
        return True
    return calls_in_text(content) is None


def from_messages(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` with its messages in OpenAI's chat format (``data`` itself when they are);
    ``origin`` gets, for each message of a converted copy, the field it came from."""
    messages = data["messages"]
    if not isinstance(messages, list):
        return data  # the trace model names what is wrong
    given = messages
    made_ids: set[str] = set()  # ids given here to calls a log wrote without one
    messages = [_typed(m, where, i, made_ids) for i, m in enumerate(messages)]
    system = data.get("system")
    prepend = system is not None and not any(
        isinstance(m, dict) and m.get("role") == "system" for m in messages
    )
    tools = data.get("tools")
    if tools is None and "toolConfig" in data:  # Bedrock Converse's declarations
        tools = converse.declared_tools(data["toolConfig"])
    new_tools = openai_tools(tools) if tools is not None else None
    plain = [not isinstance(m, dict) or _plain(m) for m in messages]
    code = from_code_agent(messages, where) if code_agent_like(messages) else {}
    same = all(a is b for a, b in zip(messages, given, strict=True))
    if same and all(plain) and not code and not prepend and new_tools == data.get("tools"):
        return data
    if code:  # a code agent's turns, read as calls and results (`codeagent`)
        messages = [code.get(i, m) for i, m in enumerate(messages)]
        plain = [m is None or not isinstance(m, dict) or _plain(m) for m in messages]
    out = dict(data)
    read: list[Any] = []
    if prepend:
        text = system_text(system)
        if text is None:
            raise fail(where, "system", "neither a string nor a list of text blocks")
        read.append({"role": "system", "content": text})
        origin.append("system")
        del out["system"]
    names: dict[str, str] = {}
    unanswered = Unanswered()  # calls the log gave no id: their results answer in order
    for index, message in enumerate(messages):
        if message is None:
            continue  # a smolagents tool-call message, its calls joined to the turn before
        if isinstance(message, dict) and message.get("role") == "function":
            call_id = unanswered.take() if unanswered else None  # a legacy call's result
            name = message.get("name")
            name = str(name) if name is not None else names.get(call_id or "")
            read.append(tool_message(call_id, name, result_text(message.get("content"))))
            origin.append(f"messages.{index}")
            continue
        if plain[index]:
            if isinstance(message, dict) and message.get("role") == "tool" and unanswered:
                message = _answering(message, unanswered, names)
            read.append(message)
            origin.append(f"messages.{index}")
            for tool_call in _calls(message):
                if isinstance(tool_call, dict) and isinstance(tool_call.get("function"), dict):
                    names[str(tool_call.get("id"))] = str(tool_call["function"].get("name"))
                    if isinstance(tool_call.get("id"), str) and tool_call["id"] in made_ids:
                        unanswered.add(tool_call["id"], names[tool_call["id"]])
            continue
        converted, made = _converted(message, f"messages.{index}", where, names, len(read), origin)
        for call_id in made:
            unanswered.add(call_id, names.get(call_id))
        read += converted
    out["messages"] = read
    if new_tools is not None:
        out["tools"] = new_tools
        out.pop("toolConfig", None)
    return out


def _typed(message: Any, where: str, index: int, made_ids: set[str]) -> Any:
    """A message of another framework's shape in OpenAI's (a LangChain message) or with
    Anthropic's typed blocks (Bedrock Converse's, the Vercel AI SDK's parts), its calls
    given ids where the log has none; the message itself when it is none of these."""
    field = f"messages.{index}"
    if langchain.is_langchain(message):
        message = langchain.as_chat(message, where, field)
    if isinstance(message, dict):
        message = vercel.as_typed(converse.as_typed(message), where, field)
        return _with_ids(message, index, made_ids)
    return message


def _with_ids(message: dict[str, Any], index: int, made_ids: set[str]) -> dict[str, Any]:
    """An assistant's calls with an id each. Chat templates (transformers' tool use, many
    Hub datasets) write calls without ids and results with only the tool's ``name``: each
    result then answers the oldest unanswered call of its name (`_answering`)."""
    calls = message.get("tool_calls")
    if not isinstance(calls, list) or all(not isinstance(c, dict) or "id" in c for c in calls):
        return message
    named = []
    for number, tool_call in enumerate(calls):
        if isinstance(tool_call, dict) and "id" not in tool_call:
            tool_call = {"id": f"call_{index}_{number}", **tool_call}
            made_ids.add(tool_call["id"])
        named.append(tool_call)
    return {**message, "tool_calls": named}


def _answering(
    message: dict[str, Any], unanswered: Unanswered, names: dict[str, str]
) -> dict[str, Any]:
    """A tool message after calls the log gave no id (read from a model's text, or
    written without one): its call id is the oldest unanswered one's of the tool it names
    (else the oldest's) unless it names one of them."""
    given = message.get("tool_call_id")
    if not isinstance(given, str | None):
        return message  # the trace model names what is wrong
    if given in unanswered:
        unanswered.take(given)
        return message
    if given in names:
        return message  # it answers a call the log parsed itself
    name = message.get("name") if isinstance(message.get("name"), str) else None
    call_id = unanswered.take(name=name)
    return {**message, "tool_call_id": call_id, "name": name or names[call_id]}


def _calls(message: Any) -> list[Any]:
    """A message's ``tool_calls`` when they are a list (else the trace model objects)."""
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    return list(calls) if isinstance(calls, list) else []


def _plain(message: dict[str, Any]) -> bool:
    return plain_message(
        message.get("role"),
        message.get("content"),
        message.get("tool_calls"),
        message.get("function_call"),
    )


def _converted(
    message: dict[str, Any],
    field: str,
    where: str,
    names: dict[str, str],
    at: int,
    origin: list[str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """``message`` as chat messages, and the ids made for calls the log gave none (a
    model's raw text, a legacy ``function_call``): the results that follow answer them.
    ``origin`` gets each message's field: the message's, or the block a result or a
    turn's first text or call came from."""
    role = message.get("role")
    content = message.get("content")
    skip = ("content", "tool_calls", "function_call")
    rest = {k: v for k, v in message.items() if k not in skip}
    calls = _calls(message)
    legacy = message.get("function_call")
    new: list[dict[str, Any]] = []
    if isinstance(legacy, dict):  # OpenAI's function calling before tools
        new.append(call(f"call_{at}_f", legacy.get("name", "?"), legacy.get("arguments", "{}")))
    elif legacy is not None:
        raise fail(where, f"{field}.function_call", "not an object with a name and arguments")
    text = content
    if type(content) is str or content is None:  # an assistant's text, calls written in it
        text, found = calls_in_text(content or "") or (content, [])
        new += [call(f"call_{at}_{i}", name, args) for i, (name, args) in enumerate(found)]
    calls += new
    made = [c["id"] for c in new]
    names.update((c["id"], c["function"]["name"]) for c in new)
    if type(content) is not list:
        said = {**rest, "content": text}
        origin.append(field)
        return [said | {"tool_calls": calls} if calls else said], made
    out: list[dict[str, Any]] = []
    texts: list[str] = []
    opened: list[str] = []  # the block the message being gathered began at

    def flush() -> None:
        if texts or calls:
            said = {**rest, "content": "".join(texts)}
            if calls:
                said["tool_calls"] = list(calls)
            out.append(said)
            origin.append(opened[0] if opened else field)
        texts.clear()
        calls.clear()
        opened.clear()

    for number, block in enumerate(content):
        where_block = f"{field}.content.{number}"
        if isinstance(block, dict) and vercel.FIELD in block:
            where_block = block[vercel.FIELD]  # a UIMessage's part, not a block of the file
        kind = kind_of(block)
        if not opened:
            opened.append(where_block)
        if is_plain_part(block):
            texts.append(part_text(block))
        elif kind == "document":
            texts.append(document_text(block))
        elif kind is not None and kind.endswith("tool_use"):
            if role != "assistant":
                raise fail(where, f"{where_block}.type", f"a {kind} block in a {role} message")
            call_id = str(block.get("id", f"call_{at}_{number}"))
            name = block.get("name", kind)
            names[call_id] = str(name)
            calls.append(call(call_id, name, block.get("input", {})))
        elif kind is not None and kind.endswith("tool_result"):
            flush()
            call_id = block.get("tool_use_id")
            call_id = None if call_id is None else str(call_id)
            name = names.get(call_id or "")
            out.append(tool_message(call_id, name, result_text(block.get("content"))))
            origin.append(where_block)
        else:
            raise fail(
                where,
                f"{where_block}.type",
                f"content block {shown(block.get('type') if isinstance(block, dict) else block)}"
                " is not read (text, tool_use, tool_result, images and"
                " thinking are); convert it to OpenAI's chat format",
            )
    flush()
    return out, made
