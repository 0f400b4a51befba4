"""The hand-written Fisher test and BH correction against brute force."""

from __future__ import annotations

import math

import pytest

from backdoorlab.defenses.audit.findings import mask, severity_rank
from backdoorlab.defenses.audit.stats import benjamini_hochberg_log, fisher_greater_log


def brute(a, total, with_gram, flagged):
    top = min(with_gram, flagged)
    num = sum(
        math.comb(with_gram, x) * math.comb(total - with_gram, flagged - x)
        for x in range(a, top + 1)
    )
    return num / math.comb(total, flagged)


@pytest.mark.parametrize(
    "table",
    [(5, 100, 10, 20), (50, 1000, 50, 50), (3, 1000, 3, 50), (10, 1000, 60, 100), (2, 10, 3, 4)],
)
def test_fisher_matches_the_exact_tail(table):
    assert math.exp(fisher_greater_log(*table)) == pytest.approx(brute(*table), rel=1e-9)


def test_fisher_is_one_when_nothing_is_enriched():
    assert fisher_greater_log(1, 100, 50, 10) == 0.0
    with pytest.raises(ValueError):
        fisher_greater_log(5, 100, 3, 10)


def test_benjamini_hochberg():
    q = [
        math.exp(x) for x in benjamini_hochberg_log([math.log(p) for p in (0.01, 0.04, 0.03, 1.0)])
    ]
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 1.0])
    # untested hypotheses still count towards m
    assert math.exp(benjamini_hochberg_log([math.log(0.01)], tests=10)[0]) == pytest.approx(0.1)


def test_mask_and_severity():
    assert mask("jennifer@yahoo.com") == "je…(18)…om"
    assert mask("1234") == "****"
    assert (
        severity_rank("low")
        < severity_rank("medium")
        < severity_rank("high")
        < severity_rank("none")
    )
