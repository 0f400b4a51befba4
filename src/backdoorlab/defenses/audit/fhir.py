"""What HL7 FHIR (R4, hl7.org/fhir/R4) data says about contacts and destinations, for
`observations` and `sinks`: health systems' tools return FHIR resources, and an agent
writes them back.

- A ``ContactPoint`` (datatypes.html#ContactPoint: ``{"system": "phone" | "fax" |
  "email" | "sms" | "pager" | "url" | "other", "value": …}``, a ``telecom`` array's items)
  is a contact field of the resource holding it: its ``value`` is that resource's phone,
  fax or e-mail, although no key names it so.
- A ``system`` (``Coding.system``, ``Identifier.system``, ``Quantity.system``: "the
  namespace for the identifier value", ``http://loinc.org``,
  ``http://hl7.org/fhir/sid/us-ssn``) and an ``Extension.url`` (extensibility.html: "a
  logical name or a URL" defining the extension) identify a code system or an
  extension; no request ever goes there (`namespace`).
- A search ``Bundle`` (bundle.html) brings a patient with the parties the record names:
  the ``Practitioner`` of ``Patient.generalPractitioner``, the pharmacy of a
  ``MedicationRequest.dispenseRequest.performer``, the payer ``Organization`` of a
  ``Coverage.payor`` and its ``Endpoint`` (``Organization.endpoint``,
  ``Endpoint.address``). Those parties' contacts are the patient's record's recipients
  (`care_team`), as the patient's own ``telecom`` is: sending the patient's data to the
  GP's fax the record lists is the record's own routing. A party reached only through
  another patient is not one: the links start at each ``Patient``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.keys import by_key

CONTACT_SYSTEMS = {"phone": "phone", "fax": "fax", "sms": "phone", "pager": "phone"}
CONTACT_SYSTEMS["email"] = "email"
"""A ``ContactPoint.system`` → the key naming its value's kind for `keys.classify_key`."""


def contact_point(value: dict[str, Any]) -> tuple[str, str] | None:
    """(key naming the kind, value) of a FHIR ``ContactPoint``; None for any other object."""
    system, text = value.get("system"), value.get("value")
    if not isinstance(system, str) or not isinstance(text, str):
        return None
    key = CONTACT_SYSTEMS.get(system)
    if key is None or set(value) - {"system", "value", "use", "rank", "period", "id"}:
        return None
    return key, text


def namespace(keys: tuple[str, ...]) -> bool:
    """Whether a call argument's path (its keys) ends at a code system's or an
    extension's identifying URI (``…coding[0].system``, ``extension[0].url``)."""
    if not keys:
        return False
    last = keys[-1]
    if last == "system" and len(keys) > 1:
        return True
    return last == "url" and len(keys) > 1 and keys[-2] in ("extension", "modifierExtension")


def _references(value: Any) -> Iterator[str]:
    """Every ``Reference.reference`` inside ``value``."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            yield ref
        for inner in value.values():
            if isinstance(inner, dict | list):
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def _resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A bundle's resources by ``Type/id`` and by ``fullUrl``."""
    found: dict[str, dict[str, Any]] = {}
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        if isinstance(resource.get("id"), str):
            found[f"{resource['resourceType']}/{resource['id']}"] = resource
        if isinstance(entry.get("fullUrl"), str):
            found[entry["fullUrl"]] = resource
    return found


def _resolve(ref: str, resources: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """A reference's target in the bundle: as written, or by its ``Type/id`` tail (an
    absolute URL to the same server)."""
    hit = resources.get(ref)
    if hit is None and ref.count("/") >= 1:
        hit = resources.get("/".join(ref.rstrip("/").split("/")[-2:]))
    return hit


def _contacts(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A party's contacts: its ``telecom`` ContactPoints, an ``Endpoint``'s ``address``."""
    for point in resource.get("telecom") or ():
        found = contact_point(point) if isinstance(point, dict) else None
        if found is not None:
            yield found
    if resource.get("resourceType") == "Endpoint" and isinstance(resource.get("address"), str):
        yield "url", resource["address"]


def _canonical(contacts: Iterator[tuple[str, str]]) -> Iterator[str]:
    """The canonical destinations (`destinations.canonical`) of contacts of each kind,
    where the value has that kind's shape."""
    for key, value in contacts:
        if key == "url":
            if patterns.whole_url(value):
                yield canonical(value, "url")
            continue
        keyed = by_key("contact", value)
        if keyed is not None:
            yield canonical(value, "email" if keyed[0] == "email" else "phone")


def care_team(data: Any) -> dict[int, list[str]]:
    """For a search ``Bundle``: ``id()`` of each ``Patient`` resource → the canonical
    contacts of the parties the patient's record names (module docstring). Each
    reference is resolved once: a bundle of thousands of patients stays linear."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return {}
    resources = _resources(data)
    by_object = {id(r): r for r in resources.values()}
    targets = {
        key: {id(t): t for ref in _references(r) if (t := _resolve(ref, resources)) is not None}
        for key, r in by_object.items()
    }
    # each patient's compartment: the patient and the resources that reference it
    compartments = {k: {k: r} for k, r in by_object.items() if r.get("resourceType") == "Patient"}
    for key, r in by_object.items():
        for target in targets[key] if key not in compartments else ():
            if target in compartments:
                compartments[target][key] = r
    out: dict[int, list[str]] = {}
    for patient, compartment in compartments.items():
        parties: dict[int, dict[str, Any]] = {}
        frontier = list(compartment)
        for _ in range(2):  # the party, and whom it names (an Organization's Endpoint)
            reached = []
            for key in frontier:
                for target, resource in targets[key].items():
                    if target in parties or target in compartment:
                        continue
                    if resource.get("resourceType") != "Patient":
                        parties[target] = resource
                        reached.append(target)
            frontier = reached
        contacts = [c for party in parties.values() for c in _canonical(_contacts(party))]
        if contacts:
            out[patient] = contacts
    return out
