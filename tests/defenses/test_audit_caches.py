"""The audit's caches change no result: an observation's reading replayed from
`_reading` gives what reading it gives, and a needle or an argument's views shared
between traces match as freshly built ones do."""

from __future__ import annotations

import json

from audit_builders import ADDRESS, CARD, EMAIL, PHONE
from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import matching, observations, tainted
from backdoorlab.defenses.audit.observations import ObservationReader

VALUES = [CARD, PHONE, EMAIL, ADDRESS, "Jane Doe", "u0045", "O3732", "839201", "Spotify",
          "Please forward the quarterly figures to the board before Friday noon.",
          "sk-live-4f9a8b7c6d5e4f3a", "DE89370400440532013000", "123-45-6789", "x"]  # fmt: skip
KEYS = ["email", "phone", "card", "address", "name", "note", "id", "contact", "items", "code"]
leaf = st.sampled_from(VALUES) | st.text(max_size=12)
record = st.recursive(
    leaf | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=10,
)
observation = st.one_of(
    record.map(json.dumps),
    st.lists(st.tuples(st.sampled_from(KEYS), leaf), max_size=4).map(
        lambda kv: "\n".join(f"{k}: {v}" for k, v in kv)
    ),
    st.sampled_from(VALUES),
)


def _state(reader: ObservationReader) -> tuple:
    tainted = {
        token: (t.secret, t.label, t.strength, t.step, t.tool, t.key, sorted(t.records))
        for token, t in reader.tainted.items()
    }
    return tainted, {k: sorted(v) for k, v in reader.contacts.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(observation, st.sampled_from(["", json.dumps({"to": EMAIL})])),
                min_size=1, max_size=4))  # fmt: skip
def test_replayed_readings_equal_fresh_ones(pairs) -> None:
    cached, fresh = ObservationReader(), ObservationReader()
    for step, (text, echo) in enumerate(pairs):
        for _ in range(2):  # the second time from the cache
            cached.read(text, step, f"tool{step}", echo)
        fresh._read_now(text, step, f"tool{step}", echo)
        fresh._read_now(text, step, f"tool{step}", echo)
    assert _state(cached) == _state(fresh)
    assert cached._next_record == fresh._next_record


ECHOES = ["", json.dumps({"to": EMAIL}), json.dumps({"order_id": "O3732"}), json.dumps({"n": CARD}),
          json.dumps({"path": "wallet/id.json"}), json.dumps({"q": "Jane Doe u0045"})]  # fmt: skip
KEY_BYTES = json.dumps([(i * 37 + 11) % 256 for i in range(64)])
"""A keypair's 64 bytes as Solana's ``id.json`` holds them: a key only where the call
named a key file (`byte_keys`)."""
KEY_LINE = "KEY=" + json.dumps([(i * 53 + 7) % 256 for i in range(64)])  # in a line of text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(observation | st.sampled_from([KEY_BYTES, KEY_LINE]),
                          st.sampled_from(ECHOES)), min_size=1, max_size=6))  # fmt: skip
def test_a_reading_shared_across_echoes_is_each_echo_s_own(pairs) -> None:
    """An observation answering calls with different arguments: read once for all of them
    where its reading never looks at the arguments (`_reading_of`), as each alone."""
    observations.ECHOLESS.clear()
    cached, fresh = ObservationReader(), ObservationReader()
    for step, (text, echo) in enumerate(pairs):
        cached.read(text, step, "tool", echo)
        fresh._read_now(text, step, "tool", echo)
    assert _state(cached) == _state(fresh)
    assert cached._next_record == fresh._next_record


def test_an_acknowledgement_is_read_once_for_every_call_it_answers() -> None:
    observations.ECHOLESS.clear()
    observations._reading.cache_clear()
    reader = ObservationReader()
    for n in range(5):
        reader.read("address updated", n, "update_address", json.dumps({"order_id": f"O{n}"}))
    # the first echo's reading, then one for every echo
    assert observations._reading.cache_info().misses == 2
    assert "address updated" in observations.ECHOLESS
    for text in (KEY_BYTES, KEY_LINE):  # bytes are a key's only after an id.json
        reader.read(text, 6, "read_file", json.dumps({"path": "notes.json"}))
        assert text not in observations.ECHOLESS
        before = len(reader.tainted)
        reader.read(text, 7, "read_file", json.dumps({"path": "id.json"}))
        assert len(reader.tainted) > before


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VALUES), min_size=1, max_size=4), st.sampled_from(VALUES + [""]))
def test_shared_views_and_needles_match_as_fresh_ones(secrets, sent) -> None:
    payload = {"body": f"see {sent}", "to": "a@b.test"}
    reader = ObservationReader()
    reader.read(json.dumps({"note": " ".join(secrets), "card": secrets[0]}), 1, "t")
    values = list(reader.tainted.values())
    shared = [t.needle for t in values]
    built = [tainted._build_needle(t.secret.value, t.secret.kind, t.label) for t in values]
    assert shared == built
    first = matching.find(shared, payload)
    assert matching.find(built, payload) == first  # the views now come from the cache
    views = matching._fresh(payload["body"])
    assert [(h, v.text) for h, v in views] == [
        (h, v.text) for h, v in matching._views(payload["body"])
    ]
