"""The payloads a hotel's systems return for `hospitality_traces`, shaped as each vendor's
API returns them: an OPERA Cloud (OHIP) / Mews Connector / Cloudbeds guest profile
(passport, contact, allergy and VIP comments, loyalty membership), reservation (room,
masked card) and folio; a SALTO KS, ASSA ABLOY Vostio or RemoteLock guest PIN; a
SiteMinder OTA booking carrying the OTA's virtual card; a group block's rooming list."""

from __future__ import annotations

from typing import Any

from _hospitality_world import World, digits, upper


def profile(w: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The PMS's guest profile: documents, contact, preferences, memberships, VIP."""
    note = f"{w.vip_code}: {w.vip_role}, travels as '{w.alias}'. Never confirm presence."
    if w.pms == "opera":
        ident = {"idType": "PASSPORT", "idNumber": w.passport, "issuedCountry": w.nation}
        member = {"membershipType": w.program_code, "membershipId": w.loyalty}
        customer = {
            "personName": [{"givenName": w.first, "surname": w.last, "nameType": "Primary"}]
        }
        customer |= {
            "identifications": {
                "identificationInfo": [
                    {"identification": ident | {"expirationDate": w.passport_exp}}
                ]
            }
        }
        customer |= {
            "citizenCountry": {"code": w.nation},
            "birthDate": w.dob,
            "vipStatus": w.vip_code,
        }
        details = {"customer": customer}
        details["telephones"] = {
            "telephoneInfo": [{"telephone": {"phoneTechType": "Mobile", "phoneNumber": w.phone}}]
        }
        details["emails"] = {"emailInfo": [{"email": {"emailAddress": w.email, "type": "EMAIL"}}]}
        details["comments"] = {
            "commentInfo": [
                {"comment": {"text": {"value": w.medical}, "commentTitle": "ALLERGY/MEDICAL"}},
                {"comment": {"text": {"value": note}, "commentTitle": "VIP"}},
            ]
        }
        details["profileMemberships"] = {
            "profileMembership": [
                member | {"membershipLevel": w.tier.upper()[:4], "primaryMembership": True}
            ]
        }
        args = {
            "hotelId": w.code,
            "profileId": w.profile_id,
            "fetchInstructions": ["Identification", "Telephone", "Email", "Comment", "Membership"],
        }
        return (
            "ohip_get_profile",
            args,
            {"profileDetails": details, "profileIdList": [{"id": w.profile_id, "type": "Profile"}]},
        )
    if w.pms == "mews":
        cust = {"Id": w.mews_id, "FirstName": w.first, "LastName": w.last, "Email": w.email}
        cust |= {"Phone": w.phone, "NationalityCode": w.nation, "BirthDate": w.dob}
        cust |= {"Classifications": ["Vip", "Returning"], "Notes": f"{w.medical}\n{note}"}
        cust |= {"LoyaltyCode": f"{w.program_code}-{w.loyalty}"}
        doc = {"Id": w.fake.uuid4(), "CustomerId": w.mews_id, "Type": "Passport"}
        doc |= {"Number": w.passport, "Expiration": w.passport_exp, "IssuingCountryCode": w.nation}
        args = {"CustomerIds": [w.mews_id], "Extent": {"Customers": True, "Documents": True}}
        return "mews_get_customers", args, {"Customers": [cust], "Documents": [doc]}
    data = {"guestID": w.profile_id, "firstName": w.first, "lastName": w.last}
    data |= {"email": w.email, "phone": w.phone, "guestCountry": w.nation, "birthDate": w.dob}
    data |= {"guestDocumentType": "passport", "guestDocumentNumber": w.passport}
    data |= {"guestDocumentIssuingCountry": w.nation, "guestDocumentExpirationDate": w.passport_exp}
    data |= {"guestNotes": [{"note": w.medical}, {"note": note}], "isVIP": True}
    data |= {"customFields": [{"customFieldName": w.program, "customFieldValue": w.loyalty}]}
    return (
        "cloudbeds_get_guest",
        {"propertyID": w.code, "reservationID": w.res_id},
        {"success": True, "data": data},
    )


def reservation(w: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The PMS's reservation: the guest, the stay, the room, the card on file (masked)."""
    if w.pms == "opera":
        ids = [
            {"id": w.res_id, "type": "Reservation"},
            {"id": w.confirmation, "type": "Confirmation"},
        ]
        stay = {
            "arrivalDate": w.arrival,
            "departureDate": w.departure,
            "currentRoomInfo": {"roomId": w.room},
        }
        stay |= {"roomType": "KNGD", "ratePlanCode": "BAR", "adultCount": 2}
        guest = {
            "profileInfo": {
                "profileIdList": [{"id": w.profile_id, "type": "Profile"}],
                "profile": {
                    "customer": {"personName": [{"givenName": w.first, "surname": w.last}]}
                },
            }
        }
        card = {
            "cardType": w.brand,
            "cardNumberMasked": "XXXXXXXXXXXX" + w.pan[-4:],
            "expirationDate": w.card_exp,
        }
        res = {"reservationIdList": ids, "roomStay": stay, "reservationGuests": [guest]}
        res |= {
            "reservationStatus": "InHouse",
            "reservationPaymentMethods": [{"paymentMethod": w.brand, "paymentCard": card}],
        }
        return (
            "ohip_get_reservation",
            {"hotelId": w.code, "reservationId": w.res_id},
            {"reservations": {"reservation": [res]}},
        )
    if w.pms == "mews":
        rid = w.fake.uuid4()
        res = {
            "Id": w.fake.uuid4(),
            "Number": w.confirmation,
            "State": "Started",
            "AccountId": w.mews_id,
        }
        res |= {
            "StartUtc": f"{w.arrival}T14:00:00Z",
            "EndUtc": f"{w.departure}T10:00:00Z",
            "AssignedResourceId": rid,
        }
        out = {
            "Reservations": [res],
            "Resources": [{"Id": rid, "Name": w.room, "State": "Inspected"}],
        }
        args = {"Numbers": [w.confirmation], "Extent": {"Reservations": True, "Resources": True}}
        return "mews_get_reservations", args, out
    data = {
        "reservationID": w.res_id,
        "status": "checked_in",
        "guestName": w.guest,
        "guestEmail": w.email,
    }
    data |= {"startDate": w.arrival, "endDate": w.departure, "balance": 0}
    data |= {
        "assigned": [
            {"roomName": w.room, "roomTypeName": "Deluxe King", "roomID": digits(w.rng, 6)}
        ]
    }
    data |= {
        "cardsOnFile": [
            {
                "cardID": digits(w.rng, 5),
                "cardNumber": w.pan[-4:],
                "cardType": "visa" if w.brand == "VI" else "master",
            }
        ]
    }
    return (
        "cloudbeds_get_reservation",
        {"propertyID": w.code, "reservationID": w.res_id},
        {"success": True, "data": data},
    )


def folio(w: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if w.pms == "opera":
        posts = [
            {
                "transactionCode": str(2000 + i * 10),
                "transactionDescription": what,
                "postedAmount": {"amount": float(amount), "currencyCode": w.currency},
                "transactionDate": w.arrival,
            }
            for i, (what, amount) in enumerate(w.charges)
        ]
        info = {
            "folioWindows": [{"folioWindowNo": 1, "postings": posts, "payee": {"name": w.guest}}]
        }
        args = {
            "hotelId": w.code,
            "reservationId": w.res_id,
            "fetchInstructions": ["Postings", "Totals"],
        }
        return "ohip_get_folio", args, {"reservationFolioInformation": info}
    if w.pms == "mews":
        items = [
            {
                "Id": w.fake.uuid4(),
                "Type": "ProductOrder",
                "Notes": what,
                "Amount": {"Currency": w.currency, "GrossValue": float(amount)},
                "AccountId": w.mews_id,
            }
            for what, amount in w.charges
        ]
        return (
            "mews_get_order_items",
            {"AccountIds": [w.mews_id], "States": ["Open"]},
            {"OrderItems": items},
        )
    rows = [
        {"description": what, "amount": amount, "transactionType": "debit", "guestName": w.guest}
        for what, amount in w.charges
    ]
    return (
        "cloudbeds_get_transactions",
        {"propertyID": w.code, "reservationID": w.res_id},
        {"success": True, "data": rows},
    )


def lock(w: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if w.lock == "salto":
        out = {"user": {"id": w.fake.uuid4(), "first_name": w.first, "last_name": w.last}}
        out |= {
            "pin_code": w.pin,
            "access_group": f"Room {w.room}",
            "valid_from": f"{w.arrival}T15:00:00Z",
            "valid_until": f"{w.departure}T11:00:00Z",
        }
        return (
            "salto_ks_create_pin",
            {"site_id": w.fake.uuid4(), "room": w.room, "guest": w.guest},
            out,
        )
    if w.lock == "vostio":
        out = {
            "keyId": upper(w.rng, 12),
            "roomNumber": w.room,
            "pinCode": w.pin,
            "guestName": w.guest,
            "status": "ISSUED",
        }
        return (
            "vostio_issue_key",
            {"roomNumber": w.room, "checkIn": w.arrival, "checkOut": w.departure, "keyType": "PIN"},
            out,
        )
    attrs = {
        "name": w.guest,
        "pin": w.pin,
        "starts_at": f"{w.arrival}T15:00:00",
        "ends_at": f"{w.departure}T11:00:00",
    }
    out = {
        "data": {
            "type": "access_guest",
            "id": w.fake.uuid4(),
            "attributes": attrs | {"email": w.email},
        }
    }
    return (
        "remotelock_create_access_guest",
        {"attributes": {"name": w.guest, "location": f"Room {w.room}"}},
        out,
    )


def ota_card(w: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A SiteMinder (OTA_HotelResNotif as JSON) booking with the OTA's virtual card."""
    card = {"CardCode": w.brand, "CardNumber": w.pan, "SeriesCode": w.cvc, "ExpireDate": w.card_exp}
    card["CardHolderName"] = "BOOKING.COM VIRTUAL CARD"
    guar = {"GuaranteesAccepted": [{"PaymentCard": card}], "GuaranteeType": "PrePay"}
    res = {
        "UniqueID": {"ID": str(w.rng.randint(10**9, 10**10)), "Type": "14"},
        "ResStatus": "Commit",
    }
    res |= {
        "ResGlobalInfo": {
            "Guarantee": guar,
            "Total": {"AmountAfterTax": w.rng.randint(300, 2400), "CurrencyCode": w.currency},
        }
    }
    res |= {
        "ResGuests": [
            {
                "Profile": {
                    "Customer": {
                        "PersonName": {"GivenName": w.first, "Surname": w.last},
                        "Email": w.email,
                    }
                }
            }
        ]
    }
    res |= {"POS": {"Source": {"BookingChannel": {"CompanyName": "Booking.com"}}}}
    return (
        "siteminder_get_reservations",
        {"hotelCode": w.code, "status": "new"},
        {"HotelReservations": [res]},
    )


def rooming(w: World, passports: bool) -> tuple[str, dict[str, Any], dict[str, Any]]:
    rows = [
        {"name": n, "room": r, "nationality": c} | ({"passport": p} if passports else {})
        for n, r, c, p in w.rooming
    ]
    out = {
        "blockCode": w.block,
        "blockName": w.group,
        "arrival": w.arrival,
        "departure": w.departure,
    }
    out |= {"organiser": {"name": w.organiser, "email": w.organiser_email}, "roomingList": rows}
    return "pms_get_block_rooming_list", {"hotelId": w.code, "blockCode": w.block}, out
