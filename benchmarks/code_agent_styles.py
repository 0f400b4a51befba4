"""The logging styles `code_agent_traces` added after its first four: OpenHands'
CodeActAgent in text and code agents in OpenAI's Responses format.

Written as the agents write them: OpenHands' ``action_to_str`` (``{thought}\\n
<execute_ipython>\\n{code}\\n</execute_ipython>``, the same for ``<execute_bash>``) and
``get_observation_message`` (a user turn ``OBSERVATION:\\n…``, Jupyter's working-directory
lines, ``[Command finished with exit code 0]``); its ``fn_call_converter``
(``<function=NAME>\\n<parameter=P>\\n…\\n</parameter>\\n</function>``, answered by
``EXECUTION RESULT of [NAME]:\\n…``); smolagents' exported ``<code>`` turns as Responses
``message`` items (``output_text`` / ``input_text`` parts); OpenAI's code interpreter as
``code_interpreter_call`` items (``code``, ``container_id``, ``outputs`` of ``logs``).
"""

from __future__ import annotations

import re
from typing import Any

OPENHANDS_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant"
    " can interact with an interactive Python (Jupyter Notebook) environment and receive"
    ' the corresponding output when needed. The code should be enclosed using "<execute_'
    'ipython>" tag. The assistant can execute bash commands wrapped with <execute_bash>.'
)
FUNCTION_SYSTEM = (
    "You are OpenHands agent, a helpful AI assistant that can interact with a computer to"
    " solve tasks.\n\nYou have access to the following functions:\n\n---- BEGIN FUNCTION"
    " #1: execute_bash ----\n---- BEGIN FUNCTION #2: execute_ipython_cell ----\n\nIf you"
    " choose to call a function ONLY reply in the following format with NO suffix:\n\n"
    "<function=example_function_name>\n<parameter=example_parameter_1>value_1</parameter>\n"
    "</function>"
)
INTERPRETER_SYSTEM = (
    "You are a data assistant. Use the python tool to look records up and act on them;"
    " the CRM, wallet, secrets, HR and mail helpers are importable in the sandbox."
)
JUPYTER = (
    "[Jupyter current working directory: /workspace]\n"
    "[Jupyter Python interpreter: /openhands/poetry/openhands-ai-py3.12/bin/python]"
)
EXIT = "[Command finished with exit code 0]"
SHELL_STYLES = ("openhands_bash",)
"""Styles whose every step is a shell command (the tools as command-line programs)."""
SHELL_SENDS = ("openhands_bash", "openhands_function")
"""Styles whose send is a shell command (``curl``, ``mail``)."""
_CALL = re.compile(r"(\w+)\((.*)\)")
_KEYWORD = re.compile(r'(\w+)=(?:"([^"]*)"|(\w+))')


def system_for(style: str, smolagents: str) -> str:
    if style in ("openhands_ipython", "openhands_bash"):
        return OPENHANDS_SYSTEM
    if style == "openhands_function":
        return FUNCTION_SYSTEM
    if style == "responses_code_interpreter":
        return INTERPRETER_SYSTEM
    return smolagents


def as_command(code: str) -> str:
    """A tool call written in Python (``get_customer(name="Ola")``) as its command-line
    program (``./bin/get_customer --name "Ola"``)."""
    match = _CALL.fullmatch(code.strip())
    if not match:
        return code
    words = [f"./bin/{match.group(1)}"]
    for key, quoted, bare in _KEYWORD.findall(match.group(2)):
        words += [f"--{key}", f'"{quoted}"' if quoted or not bare else bare]
    return " ".join(words)


def shell_send(secret: str, kind: str, to: str, via_http: bool, label: str) -> str:
    if via_http:
        body = f'{{"{kind}": "{secret}"}}'
        return f"curl -s -X POST \"{to}\" -H 'Content-Type: application/json' -d '{body}'"
    return f'printf \'%s\\n\' "{label}: {secret}" | mail -s "{label}" {to}'


class OpenHandsAgent:
    """One run's turns in an OpenHands or Responses style (`step`, then `trace`)."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.messages: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []  # responses_code_interpreter's own items
        self.steps = 0

    def step(self, thought: str, code: str, logs: str, shell: bool = False) -> None:
        self.steps += 1
        if self.style == "responses_code_interpreter":
            self.items.append(_said(thought, self.steps))
            self.items.append(
                {
                    "type": "code_interpreter_call",
                    "id": f"ci_{self.steps:04d}",
                    "status": "completed",
                    "code": code,
                    "container_id": "cntr_6842a1f0e7",
                    "outputs": [{"type": "logs", "logs": logs + "\n"}],
                }
            )
            return
        if self.style == "responses_smolagents":
            said = f"Thought: {thought}\n<code>\n{code}\n</code>"
            observed = (
                f"Observation:\nExecution logs:\n{logs}\nLast output from code snippet:\nNone"
            )
        elif self.style == "openhands_function":
            name, key = ("execute_bash", "command") if shell else ("execute_ipython_cell", "code")
            said = (
                f"{thought}\n\n<function={name}>\n<parameter={key}>\n{code}\n</parameter>\n"
                "</function>"
            )
            observed = f"EXECUTION RESULT of [{name}]:\n{logs}\n{EXIT if shell else JUPYTER}"
        elif self.style == "openhands_bash":
            said = f"{thought}\n<execute_bash>\n{code}\n</execute_bash>"
            observed = f"OBSERVATION:\n{logs}\n{EXIT}"
        else:  # openhands_ipython: OpenHands' Message serialises content as text parts
            said = f"{thought}\n<execute_ipython>\n{code}\n</execute_ipython>"
            observed = f"OBSERVATION:\n{logs}\n{JUPYTER}"
        self.messages.append({"role": "assistant", "content": self._text(said)})
        self.messages.append({"role": "user", "content": self._text(observed)})

    def _text(self, text: str) -> Any:
        return [{"type": "text", "text": text}] if self.style == "openhands_ipython" else text

    def finish(self) -> None:
        if self.style == "openhands_function":
            said = "<function=finish>\n<parameter=message>Done.</parameter>\n</function>"
        else:
            said = "Done."
        if self.style == "responses_code_interpreter":
            self.items.append(_said(said, self.steps + 1))
        else:
            self.messages.append({"role": "assistant", "content": self._text(said)})

    def trace(self, system: str, task: str) -> dict[str, Any]:
        if self.style == "responses_code_interpreter":
            ask = {"role": "user", "content": task}
            return {"instructions": system, "input": [ask, *self.items]}
        if self.style == "responses_smolagents":
            return {
                "instructions": system,
                "input": [
                    _item(m, n)
                    for n, m in enumerate([{"role": "user", "content": task}, *self.messages])
                ],
            }
        return {
            "messages": [
                {"role": "system", "content": self._text(system)},
                {"role": "user", "content": self._text(task)},
                *self.messages,
            ]
        }


def _said(text: str, n: int) -> dict[str, Any]:
    return _item({"role": "assistant", "content": text}, n)


def _item(message: dict[str, Any], n: int) -> dict[str, Any]:
    """A chat message as a Responses ``message`` item (the model's: ``output_text``)."""
    if message["role"] == "assistant":
        part = {"type": "output_text", "text": message["content"], "annotations": []}
        return {
            "type": "message",
            "id": f"msg_{n:04d}",
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }
    part = {"type": "input_text", "text": message["content"]}
    return {"type": "message", "role": message["role"], "content": [part]}
