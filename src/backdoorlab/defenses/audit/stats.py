"""Fisher's exact test (one-sided) and the Benjamini–Hochberg correction, in pure Python.

SciPy is not a dependency of backdoorlab, and the test needs only the upper tail of a
hypergeometric distribution, which `math.lgamma` gives exactly enough: log-space
terms, summed from the observed count upward until they stop mattering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater_log(a: int, total: int, with_gram: int, flagged: int) -> float:
    """ln P(X >= a) for X ~ Hypergeometric(total, with_gram, flagged).

    The one-sided Fisher exact test of the 2×2 table (flagged × contains-n-gram): how
    likely are ``a`` or more of the ``flagged`` traces to contain an n-gram that
    ``with_gram`` of ``total`` traces contain, if flags ignore the n-gram. At or below
    the expected count the enrichment is absent and 0.0 (p = 1) is returned, an upper
    bound that keeps the test conservative and saves summing a long tail.
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


def benjamini_hochberg_log(log_p: Sequence[float], tests: int | None = None) -> list[float]:
    """ln q-values (BH false-discovery-rate adjusted) for ln p-values, in input order.

    ``tests`` is the number of hypotheses tested when only some p-values are passed (the
    rest are known to be 1 and rank last, so they do not change these q-values).
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
