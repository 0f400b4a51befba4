"""The audit's cheap pre-filters only skip work that would have found nothing."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import code_places, invented, patterns, taint

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


PLACE_PIECES = ["repo", "REPO", "Bucket", "s3://", "S3A://", "abfss://", "wasb://", "gh ", "git\t"]
PLACE_PIECES += [
    "az\n",
    "xgit ",
    "_gh ",
    "ſ3://",
    "\u212aaz ",
    "gist",
    "paste",
    "channel",
    "Container",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PLACE_PIECES), st.text(max_size=4)), max_size=10))
def test_the_place_hint_is_its_expression(parts: list[str]) -> None:
    text = "".join(parts)
    assert code_places.may_name_place(text) == (code_places.HINT.search(text) is not None)


def test_the_set_up_hint_is_its_expression() -> None:
    old = re.compile(r"[=>]|tee|cp |mv |tar |zip |copy|COPY|remote|config")
    for text in ('{"path": "a.txt"}', '{"cmd": "cp a b"}', "x=1", "a > b", "git remote add",
                 "Copy", "COPY x", "configure", "tar  x", "", "cpu mv\tx"):  # fmt: skip
        assert taint._may_set_up(text) == (old.search(text) is not None)


COMMAND_PIECES = ["curl ", "-d ", "'a;b'", '"x&y"', "|", "| ", "&&", "||", "&", ";", ">", "2>&1"]
COMMAND_PIECES += ["\\", "'", '"', "echo $X", " https://a.example/x ", "\\;", "&>", "|&"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(COMMAND_PIECES), st.text(max_size=3)), max_size=10))
def test_a_line_with_no_separator_is_one_command_at_most(parts: list[str]) -> None:
    """`invented.reaching` skips a text with no ";", "&" or "||": `_commands` splits it
    into one command or none."""
    text = "".join(parts)
    commands = invented._commands(text)
    if ";" not in text and "&" not in text and "||" not in text:
        assert commands is None or len(commands) <= 1
