"""Finding helpers: masked secrets in messages and the order of severities."""

from __future__ import annotations

from backdoorlab.defenses.audit.findings import mask, severity_rank


def test_mask_and_severity():
    assert mask("jennifer@yahoo.com") == "je…(18)…om"
    assert mask("1234") == "****"
    assert (
        severity_rank("low")
        < severity_rank("medium")
        < severity_rank("high")
        < severity_rank("none")
    )
