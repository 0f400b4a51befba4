"""`backdoorlab.stats` against textbook values, exact integer sums and SciPy itself."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest, false_discovery_control, fisher_exact, hypergeom

from backdoorlab.stats import (
    Rate,
    benjamini_hochberg,
    benjamini_hochberg_log,
    binomial_greater,
    fisher_greater,
    fisher_greater_log,
    holm,
    wilson_interval,
)

# --------------------------------------------------------------------------- Wilson, Rate


def test_wilson_interval_known_values():
    # reference values from the closed form (Wilson 1927), z = 1.96
    low, high = wilson_interval(80, 100)
    assert low == pytest.approx(0.7112, abs=1e-4)
    assert high == pytest.approx(0.8666, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), pytest.approx(1.0))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 3), (7, 16), (80, 100), (999, 1000)])
def test_wilson_interval_is_the_closed_form(k, n):
    z = 1.959963984540054  # the 97.5% normal quantile
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert high == pytest.approx(min(1.0, centre + half), abs=1e-12)
    assert wilson_interval(k, n, confidence=0.99)[1] > high or high == 1.0  # wider


def test_rate_formats_count_and_interval():
    rate = Rate.of(2, 100)
    assert rate.rate == 0.02
    assert str(rate).endswith("(2/100)")
    assert math.isnan(Rate.of(0, 0).rate)
    assert str(Rate.of(0, 0)) == "n/a"
    assert str(Rate.of(80, 100)) == "80.0% [71.1%, 86.7%] (80/100)"


# --------------------------------------------------------------------------- exact tests


def test_fisher_greater_textbook():
    # Fisher's tea-tasting experiment: 3 of 4 cups right, one-sided p = 17/70
    assert fisher_greater(Rate.of(3, 4), Rate.of(1, 4)) == pytest.approx(17 / 70)
    assert fisher_greater(Rate.of(3, 4), Rate.of(0, 0)) == 1.0
    table = [[10, 6], [0, 16]]
    expected = fisher_exact(table, alternative="greater").pvalue
    assert fisher_greater(Rate.of(10, 16), Rate.of(0, 16)) == expected


def test_binomial_greater_is_binomtest():
    for k, n, p in [(0, 16, 0.02), (1, 16, 0.02), (6, 16, 0.02), (30, 50, 0.5)]:
        expected = binomtest(k, n, p, alternative="greater").pvalue
        assert binomial_greater(Rate.of(k, n), p) == pytest.approx(expected, rel=1e-12)
    assert binomial_greater(Rate.of(0, 0), 0.02) == 1.0
    assert binomial_greater(Rate.of(2, 2), 0.5) == pytest.approx(0.25)  # both heads


def brute(a, total, with_gram, flagged):
    top = min(with_gram, flagged)
    num = sum(
        math.comb(with_gram, x) * math.comb(total - with_gram, flagged - x)
        for x in range(a, top + 1)
    )
    return num / math.comb(total, flagged)


TABLES = [
    (5, 100, 10, 20),
    (50, 1000, 50, 50),
    (3, 1000, 3, 50),
    (10, 1000, 60, 100),
    (2, 10, 3, 4),
]


@pytest.mark.parametrize("table", TABLES)
def test_fisher_matches_the_exact_tail(table):
    assert math.exp(fisher_greater_log(*table)) == pytest.approx(brute(*table), rel=1e-9)


@pytest.mark.parametrize(
    "table", [*TABLES, (622, 100_000, 1327, 6891), (8352, 1_000_000, 132_301, 28_632)]
)
def test_fisher_log_agrees_with_scipy(table):
    a, total, with_gram, flagged = table
    expected = hypergeom.logsf(a - 1, total, with_gram, flagged)
    assert fisher_greater_log(*table) == pytest.approx(expected, rel=1e-9)


def test_fisher_log_where_p_underflows():
    # p = e^-2586: zero as a float, still ranked and corrected in log space
    log_p = fisher_greater_log(8352, 1_000_000, 132_301, 28_632)
    assert math.exp(log_p) == 0.0 and log_p == pytest.approx(-2586.2464, abs=1e-3)


def test_fisher_is_one_when_nothing_is_enriched():
    assert fisher_greater_log(1, 100, 50, 10) == 0.0
    with pytest.raises(ValueError):
        fisher_greater_log(5, 100, 3, 10)


# --------------------------------------------------------------------------- corrections


def test_holm():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.3, 0.001]) == pytest.approx([0.3, 0.002])  # never below an earlier one
    assert holm([]) == []


def test_benjamini_hochberg():
    q = [
        math.exp(x) for x in benjamini_hochberg_log([math.log(p) for p in (0.01, 0.04, 0.03, 1.0)])
    ]
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 1.0])
    # untested hypotheses still count towards m
    assert math.exp(benjamini_hochberg_log([math.log(0.01)], tests=10)[0]) == pytest.approx(0.1)


def test_benjamini_hochberg_log_agrees_with_scipy():
    p = [0.001, 0.2, 0.013, 0.04, 0.5, 0.0002, 0.04, 0.9]
    expected = false_discovery_control(p, method="bh")
    assert benjamini_hochberg(p) == pytest.approx(list(expected))
    log_q = benjamini_hochberg_log([math.log(x) for x in p])
    assert [math.exp(x) for x in log_q] == pytest.approx(list(expected))
    padded = false_discovery_control([*p, 1.0, 1.0], method="bh")[: len(p)]
    assert benjamini_hochberg(p, tests=10) == pytest.approx(list(padded))
    assert [math.exp(x) for x in benjamini_hochberg_log([math.log(x) for x in p], tests=10)] == (
        pytest.approx(list(padded))
    )
    assert benjamini_hochberg([]) == []


def test_wilson_interval_is_scipys_to_the_bit():
    """The 95% interval is computed without SciPy (start-up time) but must be SciPy's
    floats exactly: reports and JSON outputs print them whole."""
    from scipy.special import ndtri

    from backdoorlab.stats import _Z

    assert _Z[0.95] == float(ndtri(0.975))
    pairs = [(k, n) for n in range(1, 60) for k in range(n + 1)]
    pairs += [(k, 10**6) for k in (0, 1, 7, 4999, 50_000, 999_999, 10**6)]
    for k, n in pairs:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        expected = (max(0.0, float(ci.low)), min(1.0, float(ci.high)))
        assert wilson_interval(k, n) == expected, (k, n)
