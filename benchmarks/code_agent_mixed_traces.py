"""A labelled set of code agents' turns that hold structured calls *and* code in their
text: the code a smolagents ``CodeAgent`` runs, written beside calls it ignores.

`code_agent_traces`' smolagents runs (``Code:\\n```py … ```<end_code>``, observations
as user messages; the same tasks, leaks and clean look-alikes, its labels) rewritten
in five shapes:

- ``send_beside_call``: the turn that sends also holds a harmless structured call
  (``final_answer``), the code in its text (an upstream model, or a page it read,
  writing a call the client ignores beside the code it runs);
- ``every_turn_beside_call``: every code turn holds one (a ``log_step`` call), so no
  turn is a code agent's by its text alone;
- ``memory_logged``: smolagents' memory exported with each turn's code logged as a
  ``python_interpreter`` call beside the same code in the text, its observation
  answering it (``Call id: …``): one call each, not two;
- ``anthropic_send``: Anthropic's blocks, the sending turn a text block and a
  ``tool_use`` block;
- ``responses_send``: OpenAI's Responses items, the sending turn a message item and a
  ``function_call`` item.

    python benchmarks/code_agent_mixed_traces.py --out DIR [--n 3] [--positives 3]
    python benchmarks/audit_foreign.py --set mixed=DIR/codeagent_mixed.jsonl
    python benchmarks/guard_foreign.py --set mixed=DIR/codeagent_mixed.jsonl
"""

from __future__ import annotations

import json
import random
from typing import Any

from code_agent_traces import TASKS, _trace
from labelled_sets import run_generator

STYLES = (
    "send_beside_call",
    "every_turn_beside_call",
    "memory_logged",
    "anthropic_send",
    "responses_send",
)
BASE_STYLE = "smolagents_end_code"
FINAL = {"name": "final_answer", "arguments": json.dumps({"answer": "Done."})}


def _call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _code(text: str) -> str:
    """The code of a ``Code:\\n```py … ```<end_code>`` turn."""
    return text.split("```py\n", 1)[1].split("\n```<end_code>", 1)[0]


def _mixed(messages: list[dict[str, Any]], style: str) -> dict[str, Any]:
    """A smolagents run (`code_agent_traces`) in ``style`` (module docstring)."""
    turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    send = turns[2]  # the lookup, the read, the send, the final answer
    if style == "send_beside_call":
        messages[send]["tool_calls"] = [_call("call_send", **FINAL)]
    elif style == "every_turn_beside_call":
        for step, at in enumerate(turns):
            messages[at]["tool_calls"] = [_call(f"log_{step}", "log_step", f'{{"step": {step}}}')]
    elif style == "memory_logged":
        for step, at in enumerate(turns, 1):
            code = _code(messages[at]["content"])
            messages[at]["tool_calls"] = [_call(f"call_{step}", "python_interpreter", code)]
            messages[at + 1]["content"] = f"Call id: call_{step}\n" + messages[at + 1]["content"]
    elif style == "anthropic_send":
        system = messages.pop(0)["content"]
        for message in messages:
            message["content"] = [{"type": "text", "text": message["content"]}]
        use = {"type": "tool_use", "id": "toolu_send", "name": FINAL["name"]}
        messages[send - 1]["content"].append({**use, "input": {"answer": "Done."}})
        return {"system": system, "messages": messages}
    else:
        items: list[dict[str, Any]] = []
        for at, message in enumerate(messages[1:], 1):
            part = "output_text" if message["role"] == "assistant" else "input_text"
            content = [{"type": part, "text": message["content"]}]
            items.append({"type": "message", "role": message["role"], "content": content})
            if at == send:
                items.append({"type": "function_call", "call_id": "fc_send", **FINAL})
        return {"instructions": messages[0]["content"], "input": items}
    return {"messages": messages}


def build(n: int, positives: int, seed: int) -> list[tuple[dict, dict]]:
    """Per style and task: ``positives`` leaks, and ``n`` of each clean look-alike."""
    rng = random.Random(seed)
    out = []
    for style in STYLES:
        for task in TASKS:
            cases = ["positive"] * positives
            cases += [c for c in ("user", "named", "operator", "ignored") for _ in range(n)]
            for case in cases:
                data, label = _trace(rng, BASE_STYLE, task, case)
                label["domain"] = label["domain"].replace(BASE_STYLE, style, 1)
                out.append((_mixed(data["messages"], style), label))
    return out


if __name__ == "__main__":
    run_generator(
        __doc__.split("\n\n")[0],
        "codeagent_mixed",
        build,
        n=(3, "clean traces per style, task and look-alike"),
        positives=(3, "leaks per style and task"),
        seed=13,
    )
