"""The statistics every stage reports with: rates with Wilson intervals, one-sided exact
tests, and multiple-testing corrections.

One module so that `evaluate`, `scan`, the training monitor and the audit's trigger
mining count, test and correct the same way. SciPy does the distributions
(`binomtest(...).proportion_ci`, `fisher_exact`, `binom.sf`, `false_discovery_control`);
what SciPy lacks or cannot do at our scale is written here, each with the reason:

- `holm`: SciPy has no Holm–Bonferroni adjustment (statsmodels has, a heavy dependency
  for six lines);
- `fisher_greater_log` and `benjamini_hochberg_log`: trigger mining tests every n-gram
  of up to millions of traces, whose p-values underflow float64 (1e-5000 is common),
  so both work on ln p — SciPy's corrections take p itself.

SciPy is imported inside the functions that use it: ``scipy.stats`` takes a second or
two to import, which ``backdoorlab audit`` (whose trigger mining needs only the
log-space pieces) should not pay at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Rate",
    "benjamini_hochberg",
    "benjamini_hochberg_log",
    "binomial_greater",
    "fisher_greater",
    "fisher_greater_log",
    "holm",
    "log_comb",
    "wilson_interval",
]


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (default: 95%).

    Wilson rather than the normal approximation because our rates sit at 0% and 100%
    (no leak, full success), where the normal interval collapses to a point. ``n = 0``
    gives the uninformative ``(0, 1)``.
    """
    if n == 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    z = _Z.get(confidence)
    if z is None:
        from scipy.stats import binomtest

        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        return (max(0.0, float(ci.low)), min(1.0, float(ci.high)))
    # SciPy's own arithmetic (`scipy.stats._binomtest._binom_wilson_conf_int`), operation
    # for operation, so the bounds are the same floats; test_stats checks it against SciPy
    p = k / n
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    low = 0.0 if k == 0 else center - delta
    high = 1.0 if k == n else center + delta
    return (max(0.0, low), min(1.0, high))


_Z = {0.95: 1.959963984540054}
"""``scipy.special.ndtri(0.975)``, the two-sided 95% normal quantile, as SciPy computes it
(`statistics.NormalDist` differs in the last bit): every rate this project prints is a 95%
interval, and importing ``scipy.stats`` for it cost ``collect`` one to four seconds of
start-up. Other levels still go through SciPy."""


@dataclass(frozen=True)
class Rate:
    """k successes out of n, with the Wilson score interval.

    Every rate carries its count and interval, because at n = 100 a rate of 80% means
    anything from 71% to 87%.
    """

    k: int
    n: int
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, k: int, n: int, confidence: float = 0.95) -> Rate:
        low, high = wilson_interval(k, n, confidence)
        return cls(k=k, n=n, rate=k / n if n else float("nan"), low=low, high=high)

    def __str__(self) -> str:
        if not self.n:
            return "n/a"
        return f"{self.rate:.1%} [{self.low:.1%}, {self.high:.1%}] ({self.k}/{self.n})"


# --------------------------------------------------------------------------- tests


def fisher_greater(observed: Rate, reference: Rate) -> float:
    """One-sided Fisher exact p-value that ``observed``'s rate exceeds ``reference``'s
    (1.0 when either has no trials)."""
    if observed.n == 0 or reference.n == 0:
        return 1.0
    from scipy.stats import fisher_exact

    table = [[observed.k, observed.n - observed.k], [reference.k, reference.n - reference.k]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def binomial_greater(observed: Rate, rate: float) -> float:
    """One-sided exact binomial p-value that ``observed``'s rate exceeds ``rate``:
    P(X >= k) for X ~ Binomial(n, rate), as `binomtest(..., alternative="greater")`."""
    if observed.n == 0:
        return 1.0
    from scipy.stats import binom

    return float(binom.sf(observed.k - 1, observed.n, rate))


def log_comb(n: int, k: int) -> float:
    """ln C(n, k)."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater_log(a: int, total: int, with_gram: int, flagged: int) -> float:
    """ln P(X >= a) for X ~ Hypergeometric(total, with_gram, flagged).

    The one-sided Fisher exact test of the 2×2 table (flagged × contains-n-gram): how
    likely are ``a`` or more of the ``flagged`` traces to contain an n-gram that
    ``with_gram`` of ``total`` traces contain, if flags ignore the n-gram. At or below
    the expected count the enrichment is absent and 0.0 (p = 1) is returned, an upper
    bound that keeps the test conservative and saves summing a long tail.

    Not `scipy.stats.hypergeom.logsf`: that gives the same accuracy (about 1e-14
    relative against exact integer arithmetic) but costs about 0.5 ms a call against
    5 µs here (it sums the tail in a Python loop over ``logsumexp``), and trigger
    mining calls this once per candidate n-gram. It also differs in the last bits, which
    would change the p- and q-values the audit reports and its benchmark records. The
    tests check this function against SciPy and against exact integer sums.
    """
    if not 0 <= a <= min(with_gram, flagged) or with_gram > total or flagged > total:
        raise ValueError("inconsistent 2x2 table")
    if a <= with_gram * flagged / total:
        return 0.0
    denominator = log_comb(total, flagged)
    top = min(with_gram, flagged)
    first = log_comb(with_gram, a) + log_comb(total - with_gram, flagged - a) - denominator
    acc = 1.0  # terms relative to the first; past the mode each is smaller than the last
    term = 1.0
    for x in range(a, top):
        # ratio of pmf(x + 1) to pmf(x)
        term *= (with_gram - x) * (flagged - x) / ((x + 1) * (total - with_gram - flagged + x + 1))
        acc += term
        if term < acc * 1e-17:
            break
    return min(0.0, first + math.log(acc))


# --------------------------------------------------------------------------- corrections


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (family-wise error control), in input order.

    Written here because SciPy has no Holm adjustment: the step-down is a running max
    over the sorted p-values times the number of hypotheses not yet rejected.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float], tests: int | None = None) -> list[float]:
    """Benjamini–Hochberg q-values (false-discovery rate) for p-values, in input order.

    ``tests`` is the number of hypotheses tested when only some p-values are passed (the
    rest are known to be 1 and rank last, so they do not change these q-values).
    """
    if not p_values:
        return []
    import numpy as np
    from scipy.stats import false_discovery_control

    m = max(tests if tests is not None else len(p_values), len(p_values))
    padded = np.ones(m)
    padded[: len(p_values)] = p_values
    return false_discovery_control(padded, method="bh")[: len(p_values)].tolist()


def benjamini_hochberg_log(log_p: Sequence[float], tests: int | None = None) -> list[float]:
    """ln q-values (BH false-discovery-rate adjusted) for ln p-values, in input order.

    `benjamini_hochberg` in log space, for p-values that underflow float64 (trigger
    mining over a million traces reaches ln p = -10^5): SciPy's
    `false_discovery_control` would see them all as 0 and tie them. ``tests`` as there.
    """
    m = max(tests if tests is not None else len(log_p), len(log_p))
    order = sorted(range(len(log_p)), key=lambda i: log_p[i])
    q = [0.0] * len(log_p)
    running = 0.0
    for rank in range(len(order), 0, -1):
        i = order[rank - 1]
        running = min(running, log_p[i] + math.log(m) - math.log(rank))
        q[i] = running
    return q
