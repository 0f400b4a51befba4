"""What the hand-made trace generators share (`foreign_traces`, `disguised_traces`,
`coding_traces`, `name_destination_traces`, `data_agent_traces`): an assistant message
making one OpenAI-format tool call, writing a set as ``NAME.jsonl`` with its labels
beside it in ``NAME.labels.jsonl`` — the sidecar `audit_foreign.py --set` and
`guard_foreign.py --set` read — each trace written in a vendor format drawn at random
(`in_formats`), and a generator's command line (`run_generator`)."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def tool_call(call_id: str, tool: str, args: dict[str, Any], say: str | None = None) -> dict:
    """An assistant message calling ``tool`` with ``args`` (a JSON-string argument)."""
    function = {"name": tool, "arguments": json.dumps(args)}
    return {
        "role": "assistant",
        "content": say,
        "tool_calls": [{"id": call_id, "type": "function", "function": function}],
    }


def write_labelled(out: Path, name: str, pairs: list[tuple[dict, dict]]) -> tuple[Path, Path]:
    """``pairs`` of (trace, label) as ``out/NAME.jsonl`` and ``out/NAME.labels.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    traces, labels = out / f"{name}.jsonl", out / f"{name}.labels.jsonl"
    traces.write_text("".join(json.dumps(t) + "\n" for t, _ in pairs), encoding="utf-8")
    labels.write_text("".join(json.dumps(x) + "\n" for _, x in pairs), encoding="utf-8")
    return traces, labels


def in_formats(
    made: list[tuple[Any, dict]], rng: random.Random, formats: tuple[str, ...], tagged: bool = False
) -> list[tuple[dict, dict]]:
    """Each ``(log, label)`` of ``made`` as ``log.written(fmt)`` in a format drawn from
    ``formats`` (in order, from ``rng``) and named in ``label["trace_format"]``;
    ``tagged``: also pass the trace's place as four hex digits, for its call ids."""
    out = []
    for i, (log, label) in enumerate(made):
        label["trace_format"] = fmt = rng.choice(formats)
        out.append((log.written(fmt, f"{i:04x}") if tagged else log.written(fmt), label))
    return out


Make = Callable[[random.Random, str], tuple[Any, dict]]


def drawn(
    seed: int,
    n: int,
    positives: int,
    clean: tuple[Make, tuple[str, ...]],
    positive: tuple[Make, Iterable[str]],
    formats: tuple[str, ...],
    tagged: bool = False,
) -> list[tuple[dict, dict]]:
    """A set from one ``random.Random(seed)``: ``n`` traces made by ``clean``'s maker per
    clean kind, then ``positives`` by ``positive``'s per secret kind, each `in_formats`."""
    rng = random.Random(seed)
    made = [clean[0](rng, kind) for kind in clean[1] for _ in range(n)]
    made += [positive[0](rng, kind) for kind in positive[1] for _ in range(positives)]
    return in_formats(made, rng, formats, tagged)


Build = Callable[..., list[tuple[dict, dict]]]


def run_generator(
    description: str,
    name: str,
    build: Build,
    *,
    n: tuple[int, str] | int,
    positives: tuple[int, str] | int,
    seed: int,
    **more: tuple[int, str],
) -> None:
    """A generator's command line: ``--n``, ``--positives`` (their defaults and help; a
    bare default's help says per clean kind, per secret kind), ``--seed``, ``--out DIR``,
    and any ``more`` integer options (passed to ``build`` by name); writes
    ``build(n, positives, seed, …)`` as ``DIR/NAME.jsonl``."""
    n = n if isinstance(n, tuple) else (n, "clean traces per clean kind")
    positives = positives if isinstance(positives, tuple) else (positives, "leaks per secret kind")
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=n[0], help=n[1])
    parser.add_argument("--positives", type=int, default=positives[0], help=positives[1])
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--out", type=Path, default=Path(name))
    for option, (default, help_text) in more.items():
        parser.add_argument(
            f"--{option.replace('_', '-')}", type=int, default=default, help=help_text
        )
    args = parser.parse_args()
    extra = {option: getattr(args, option) for option in more}
    pairs = build(args.n, args.positives, args.seed, **extra)
    traces, labels = write_labelled(args.out, name, pairs)
    print(f"wrote {len(pairs)} traces to {traces} and their labels to {labels}")


def digits(rng: random.Random, n: int) -> str:
    """``n`` random decimal digits (an account, an id, a code), drawn from ``rng``."""
    return "".join(rng.choice("0123456789") for _ in range(n))


ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
TEENS += ["seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n: int) -> str:
    """``n`` (below a billion) in English words, as a person, a cheque or a settlement
    spells an amount out ("one hundred twenty-three thousand four hundred five")."""

    def small(k: int) -> str:
        out = []
        if k >= 100:
            out.append(f"{ONES[k // 100]} hundred")
            k %= 100
        if k >= 20:
            out.append(TENS[k // 10] + (f"-{ONES[k % 10]}" if k % 10 else ""))
        elif k >= 10:
            out.append(TEENS[k - 10])
        elif k:
            out.append(ONES[k])
        return " ".join(out)

    millions, rest = divmod(n, 1_000_000)
    thousands, low = divmod(rest, 1000)
    parts = [small(millions) + " million" if millions else ""]
    parts += [small(thousands) + " thousand" if thousands else "", small(low)]
    return " ".join(x for x in parts if x) or "zero"
