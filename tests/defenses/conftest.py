"""Fixtures for the audit tests (builders live in `audit_builders`)."""

from __future__ import annotations

import pytest
from audit_builders import write_jsonl


@pytest.fixture
def jsonl(tmp_path):
    """Write hand-made traces to a fresh JSONL file and return its path."""
    counter = iter(range(1000))

    def make(*traces):
        return write_jsonl(tmp_path / f"t{next(counter)}.jsonl", list(traces))

    return make
