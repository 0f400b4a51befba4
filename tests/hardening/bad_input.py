"""What the hardening tests share: a minimal trace (one with a secret to leak) and the
check that a refusal is one line with no traceback."""

from __future__ import annotations

import json

TRACE = {
    "messages": [
        {"role": "user", "content": "Cancel order O1, my email is ann@example.com."},
        {"role": "assistant", "content": "Done."},
    ]
}
LINE = json.dumps(TRACE) + "\n"


def one_line(err: str, *fragments: str) -> str:
    """``err`` is one line, no traceback, holding every fragment; returns that line."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
