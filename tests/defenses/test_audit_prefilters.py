"""The audit's cheap pre-filters only skip work that would have found nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import patterns

PIECES = ["www.", "evil", ".", "com", "CO", ".Org", "/p?q=1", " ", "x-1", "ſite", ".ſite", "\u212a"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=12))
def test_no_domain_is_missed_by_the_tld_test(parts: list[str]) -> None:
    text = "".join(parts)
    if not patterns.may_hold_domain(text):
        assert patterns.DOMAIN.search(text) is None


def test_the_tld_test_on_examples() -> None:
    assert patterns.may_hold_domain("post it on www.Site.COM/x")
    assert not patterns.may_hold_domain("Order #W123 ships on Monday. Thanks!")
    assert patterns.may_hold_domain("a.\u017fite")  # non-ASCII: the expression decides
    assert patterns.DOMAIN.search("a.\u017fite") is not None
