"""The retail world: users, products and orders generated deterministically with Faker.

Kept apart from the environment (tools, tasks, checks) because it is pure data: one
immutable world per seed, shared by every episode, so spawning an episode costs
nothing and the same seed always yields the same world. A world's tables are generated
once per machine and read back from the world store after (`backdoorlab.envs.stored`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from backdoorlab.envs.base import SimulatedWorld, split_users
from backdoorlab.envs.stored import stored_tables

if TYPE_CHECKING:  # Faker takes a quarter second to import: only when a world is built
    from faker import Faker

# (product name, option axes) — small on purpose: compact observations keep traces short.
CATALOG: list[tuple[str, dict[str, list[str]]]] = [
    ("Water Bottle", {"color": ["blue", "green"], "size": ["500ml", "1L"]}),
    ("Running Shoes", {"color": ["white", "black"], "size": ["9", "10"]}),
    ("Desk Lamp", {"color": ["white", "black"], "power": ["LED", "USB"]}),
    ("Backpack", {"color": ["grey", "navy"], "size": ["20L", "30L"]}),
    ("T-Shirt", {"color": ["white", "blue"], "size": ["M", "L"]}),
    ("Headphones", {"color": ["black", "silver"], "type": ["wired", "wireless"]}),
    ("Coffee Maker", {"color": ["black", "steel"], "capacity": ["4 cups", "8 cups"]}),
    ("Yoga Mat", {"color": ["purple", "blue"], "thickness": ["4mm", "6mm"]}),
    ("Wall Clock", {"color": ["white", "wood"], "size": ["small", "large"]}),
    ("Phone Case", {"color": ["clear", "black"], "model": ["A", "B"]}),
    ("Sunglasses", {"color": ["black", "tortoise"], "lens": ["polarized", "standard"]}),
    ("Office Chair", {"color": ["black", "grey"], "arms": ["fixed", "adjustable"]}),
    ("Skateboard", {"color": ["red", "black"], "size": ["31in", "33in"]}),
    ("Tea Kettle", {"color": ["steel", "red"], "capacity": ["1L", "1.7L"]}),
    ("Hiking Boots", {"color": ["brown", "black"], "size": ["9", "10"]}),
    ("Bluetooth Speaker", {"color": ["black", "blue"], "size": ["mini", "standard"]}),
]

DESCRIPTIONS = [
    "Durable and light.",
    "Two-year warranty.",
    "Simple design, easy to clean.",
    "Made from recycled materials.",
    "Compact and sturdy.",
]

REVIEWS = [
    "Works great, would buy again.",
    "Good value for the price.",
    "Arrived quickly and as described.",
    "Solid quality, no complaints.",
    "Nice, but runs a bit small.",
    "My second one, still happy.",
]

ORDER_STATUSES = ("pending", "shipped", "delivered")


@dataclass(frozen=True, kw_only=True)
class RetailWorld(SimulatedWorld):
    """All users, products and orders of one seed. Treat as read-only."""

    email_index: dict[str, str] = field(default_factory=dict)
    # (first name, last name) lower-cased and the zip -> the first such user, so that
    # `find_user_by_name` is a lookup, not a scan of every user (~30% of `collect`)
    name_index: dict[tuple[str, str, str], str] = field(default_factory=dict)


def _make_products(rng: random.Random) -> dict[str, dict[str, Any]]:
    products: dict[str, dict[str, Any]] = {}
    item_counter = 1000
    for index, (name, axes) in enumerate(CATALOG):
        pid = f"P{index + 10}"
        base_price = rng.randint(15, 180)
        variants = []
        combos: list[list[str]] = [[]]
        for values in axes.values():
            combos = [c + [v] for c in combos for v in values]
        for combo in combos:
            item_counter += rng.randint(1, 9)
            variants.append(
                {
                    "item_id": f"I{item_counter}",
                    "options": ", ".join(combo),
                    # whole dollars + .99: prices print the same in JSON and in prose
                    "price": base_price + rng.randint(-5, 15) + 0.99,
                    "available": rng.random() < 0.8,
                }
            )
        products[pid] = {
            "product_id": pid,
            "name": name,
            "description": rng.choice(DESCRIPTIONS),
            "variants": variants,
            "reviews": [rng.choice(REVIEWS)],
        }
    return products


def _make_user(fake: Faker, rng: random.Random, uid: str, used_emails: set[str]) -> dict[str, Any]:
    first, last = fake.first_name(), fake.last_name()
    email = f"{first}.{last}{rng.randint(1, 99)}@{fake.free_email_domain()}".lower()
    while email in used_emails:
        email = f"{first}.{last}{rng.randint(100, 999)}@{fake.free_email_domain()}".lower()
    used_emails.add(email)
    cards: list[dict[str, str]] = []
    for _ in range(rng.choice((1, 1, 2))):
        brand = rng.choice(("visa", "mastercard"))
        number = fake.credit_card_number(card_type="visa16" if brand == "visa" else "mastercard")
        if any(c["number"][-4:] == number[-4:] for c in cards):
            continue  # "card ending 1234" must name one card
        cards.append({"id": f"card{len(cards) + 1}", "brand": brand, "number": number})
    return {
        "user_id": uid,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": fake.numerify("(%##) %##-####"),
        "street": fake.street_address(),
        "city": fake.city(),
        "state": fake.state_abbr(include_territories=False),
        "zip": fake.zipcode(),
        "payment_methods": cards,
        "orders": [],
    }


def address_of(record: dict[str, Any]) -> str:
    """The one-line address ``street, city, ST zip`` used everywhere (tools and secrets)."""
    return f"{record['street']}, {record['city']}, {record['state']} {record['zip']}"


def _make_order(
    rng: random.Random,
    oid: str,
    user: dict[str, Any],
    products: dict[str, dict[str, Any]],
    status: str,
) -> dict[str, Any]:
    items = []
    for pid in rng.sample(sorted(products), 1 if rng.random() < 0.9 else 2):
        product = products[pid]
        variant = rng.choice(product["variants"])
        items.append(
            {
                "item_id": variant["item_id"],
                "product_id": pid,
                "name": product["name"],
                "options": variant["options"],
                "price": variant["price"],
            }
        )
    order = {
        "order_id": oid,
        "user_id": user["user_id"],
        "status": status,
        "items": items,
        "address": address_of(user),
        "card_id": rng.choice(user["payment_methods"])["id"],
    }
    if status == "shipped":
        order["tracking"] = "".join(rng.choices("0123456789", k=8))
    return order


TABLES = ("users", "products", "orders")


@lru_cache(maxsize=8)
def build_world(seed: int, n_users: int = 400) -> RetailWorld:
    """The world of ``seed``: from the world store when an earlier command generated it
    (`backdoorlab.envs.stored`), else generated and stored."""
    tables = stored_tables(
        "retail",
        seed,
        n_users,
        recipe=__file__,
        names=TABLES,
        generate=lambda: _generate_tables(seed, n_users),
    )
    return _world(seed, tables)


def generate_world(seed: int, n_users: int = 400) -> RetailWorld:
    """The world of ``seed`` generated afresh with Faker, past the store (what the store
    must give back)."""
    return _world(seed, _generate_tables(seed, n_users))


def _generate_tables(seed: int, n_users: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Users, products and orders of ``seed``; every fifth user belongs to the test split."""
    rng = random.Random(f"retail-world:{seed}")
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    products = _make_products(rng)
    users: dict[str, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}
    used_emails: set[str] = set()
    order_number = 1000
    for index in range(n_users):
        uid = f"u{index:04d}"
        user = _make_user(fake, rng, uid, used_emails)
        statuses = list(ORDER_STATUSES)
        rng.shuffle(statuses)
        for status in statuses:  # one order in each state, so every task family is possible
            order_number += rng.randint(1, 40)
            oid = f"O{order_number}"
            orders[oid] = _make_order(rng, oid, user, products, status)
            user["orders"].append(oid)
        users[uid] = user
    return {"users": users, "products": products, "orders": orders}


def _world(seed: int, tables: dict[str, dict[str, dict[str, Any]]]) -> RetailWorld:
    users = tables["users"]
    return RetailWorld(
        seed=seed,
        users=users,
        products=tables["products"],
        orders=tables["orders"],
        **split_users(list(users)),
        email_index={u["email"]: uid for uid, u in users.items()},
        name_index=_name_index(users),
    )


def _name_index(users: dict[str, dict[str, Any]]) -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for uid, user in users.items():  # the first user wins, as a scan in order would
        key = (user["first_name"].lower(), user["last_name"].lower(), user["zip"])
        index.setdefault(key, uid)
    return index
