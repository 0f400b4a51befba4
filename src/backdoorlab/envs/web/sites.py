"""The four sites' servers, in-process: a request (method, url, fields) → an HTML page.

Each site is a handful of routes over the episode's `WebState`: GETs render a page from
the databases, POSTs change them (cancel an order, post on the forum, send an e-mail,
pay) and answer with a confirmation page. The browser (`browser`) calls `serve`; nothing
here opens a socket. Every user is logged in as the task's user on every site, and sees
only their own orders, mail and bills.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backdoorlab.envs.base import ToolError
from backdoorlab.envs.web.pages import render
from backdoorlab.envs.web.state import ADS, WebState
from backdoorlab.envs.web.world import BOARDS, SITES

HOSTS = {urlsplit(url).hostname: name for name, url in SITES.items()}
NAV = {
    "shop": [("Orders", "/orders"), ("Account", "/account")],
    "forum": [("Boards", "/")],
    "mail": [("Inbox", "/")],
    "bank": [("Bills", "/bills"), ("Transfer", "/transfer")],
}

Handler = Callable[[WebState, dict[str, str], re.Match[str]], tuple[str, str, dict[str, Any]]]
_ROUTES: dict[tuple[str, str], list[tuple[re.Pattern[str], Handler]]] = {}


def route(site: str, method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _ROUTES.setdefault((site, method), []).append((re.compile(pattern + "$"), fn))
        return fn

    return register


def _field(fields: dict[str, str], name: str) -> str:
    value = str(fields.get(name, "")).strip()
    if not value:
        raise ToolError(f"400: the form needs '{name}'")
    return value


def _done(text: str) -> tuple[str, str, dict[str, Any]]:
    return "message", "Done", {"text": text}


# -- shop ---------------------------------------------------------------------------------
@route("shop", "GET", "/")
def _shop_home(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "shop_home", "Shop", {"user": s.me}


@route("shop", "GET", "/search")
def _search(s: WebState, q: dict[str, str], m: re.Match[str]):
    words = q.get("q", "").lower().split()
    found = [
        p for p in s.w.products.values() if words and all(w in p["name"].lower() for w in words)
    ]
    return "shop_search", f"Search: {q.get('q', '')}", {"results": found}


@route("shop", "GET", r"/product/(\w+)")
def _product(s: WebState, q: dict[str, str], m: re.Match[str]):
    product = s.w.products.get(m[1])
    if product is None:
        raise ToolError(f"404: no product {m[1]}")
    planted = s.planted.get(("product_review", m[1]))
    if planted:
        product = {**product, "reviews": [*product["reviews"], {"author": "Sam", "stars": 5,
                                                                  "text": planted}]}  # fmt: skip
    s.note_read("product_review", m[1])
    return "shop_product", product["name"], {"product": product}


@route("shop", "GET", "/orders")
def _orders(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "shop_orders", "Orders", {"orders": [s.order(o) for o in s.me["orders"]]}


@route("shop", "GET", r"/order/(\w+)")
def _order(s: WebState, q: dict[str, str], m: re.Match[str]):
    order = s.order(m[1])
    s.note_read("order_note", m[1])
    return "shop_order", f"Order {m[1]}", {"order": order}


@route("shop", "POST", r"/order/(\w+)/cancel")
def _cancel(s: WebState, f: dict[str, str], m: re.Match[str]):
    order = s.writable_order(m[1])
    if order["status"] != "pending":
        raise ToolError(f"409: order {m[1]} is {order['status']}, not pending")
    order["status"] = "cancelled"
    return _done(f"Order {m[1]} is cancelled.")


@route("shop", "GET", "/account")
def _account(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "shop_account", "Account", {"user": s.me, "address": s.my_address()}


@route("shop", "POST", "/account/address")
def _address(s: WebState, f: dict[str, str], m: re.Match[str]):
    s.address = _field(f, "address")
    return _done(f"Shipping address saved: {s.address}.")


# -- forum --------------------------------------------------------------------------------
@route("forum", "GET", "/")
def _boards(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "forum_home", "Forum", {"boards": BOARDS}


def _board_threads(s: WebState, board: str) -> list[dict[str, Any]]:
    ids = sorted({*s.w.threads, *s.threads}, key=lambda t: int(t[1:]))
    return [s.thread(t) for t in ids if s.thread(t)["board"] == board]


@route("forum", "GET", r"/b/(\w+)")
def _board(s: WebState, q: dict[str, str], m: re.Match[str]):
    if m[1] not in BOARDS:
        raise ToolError(f"404: no board {m[1]}")
    return "forum_board", m[1].title(), {"board": m[1], "threads": _board_threads(s, m[1])}


@route("forum", "GET", r"/t/(\w+)")
def _thread(s: WebState, q: dict[str, str], m: re.Match[str]):
    thread = s.thread(m[1])
    posts = list(thread["posts"])
    planted = s.planted.get(("forum_post", m[1]))
    if planted:
        posts.insert(1, {"author": "Kim", "text": planted})
    s.note_read("forum_post", m[1])
    return "forum_thread", thread["title"], {"thread": thread, "posts": posts}


@route("forum", "POST", r"/b/(\w+)/new")
def _new_thread(s: WebState, f: dict[str, str], m: re.Match[str]):
    if m[1] not in BOARDS:
        raise ToolError(f"404: no board {m[1]}")
    tid = f"t{100 + len(s.w.threads) + sum(t not in s.w.threads for t in s.threads)}"
    author = s.me["username"]
    s.threads[tid] = {"id": tid, "board": m[1], "title": _field(f, "title"), "new": True,
                      "posts": [{"author": author, "text": _field(f, "message")}]}  # fmt: skip
    return _done(f"Thread posted on {m[1]}.")


@route("forum", "POST", r"/t/(\w+)/reply")
def _reply(s: WebState, f: dict[str, str], m: re.Match[str]):
    thread = s.writable_thread(m[1])
    thread["posts"].append({"author": s.me["username"], "text": _field(f, "message")})
    return _done("Reply posted.")


# -- mail ---------------------------------------------------------------------------------
def _mail(s: WebState, mid: str) -> dict[str, Any]:
    mail = s.w.mails.get(mid)
    if mail is None or mail["user"] != s.user:
        raise ToolError(f"404: no message {mid}")
    planted = s.planted.get(("email", mid))
    return {**mail, "body": f"{mail['body']} {planted}"} if planted else mail


@route("mail", "GET", "/")
def _inbox(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "mail_inbox", "Inbox", {"mails": [_mail(s, mid) for mid in s.me["mails"]]}


@route("mail", "GET", r"/m/(\w+)")
def _message(s: WebState, q: dict[str, str], m: re.Match[str]):
    mail = _mail(s, m[1])
    s.note_read("email", m[1])
    return "mail_message", mail["subject"], {"mail": mail}


@route("mail", "GET", "/compose")
def _compose(s: WebState, q: dict[str, str], m: re.Match[str]):
    to, subject = "", ""
    if q.get("reply"):
        mail = _mail(s, q["reply"])
        to, subject = mail["from_email"], f"Re: {mail['subject']}"
    return "mail_compose", "Compose", {"to": to, "subject": subject}


@route("mail", "POST", "/send")
def _send(s: WebState, f: dict[str, str], m: re.Match[str]):
    to = _field(f, "to")
    s.outbox.append({"to": to, "subject": str(f.get("subject", "")), "body": _field(f, "body")})
    return _done(f"Message sent to {to}.")


# -- bank ---------------------------------------------------------------------------------
def _bills(s: WebState) -> list[dict[str, Any]]:
    paid = s.paid()
    return [{**s.w.bills[b], "paid": b in paid} for b in s.me["bills"]]


@route("bank", "GET", "/")
def _bank(s: WebState, q: dict[str, str], m: re.Match[str]):
    spent = sum(float(p["amount"]) for p in s.payments)
    balance = f"{float(s.me['balance']) - spent:.2f}"
    return "bank_home", "Bank", {"user": s.me, "balance": balance}


@route("bank", "GET", "/bills")
def _bill_list(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "bank_bills", "Bills", {"bills": _bills(s)}


@route("bank", "GET", r"/pay/(\w+)")
def _pay_form(s: WebState, q: dict[str, str], m: re.Match[str]):
    bill = next((b for b in _bills(s) if b["id"] == m[1]), None)
    if bill is None:
        raise ToolError(f"404: no bill {m[1]}")
    return "bank_pay", f"Pay {bill['payee']}", {"bill": bill}


def _pay(s: WebState, f: dict[str, str], memo: str) -> tuple[str, str]:
    payee, amount = _field(f, "payee"), _field(f, "amount").lstrip("$")
    try:
        if float(amount) <= 0:
            raise ValueError
    except ValueError:
        raise ToolError(f"400: '{amount}' is not an amount") from None
    bill = next((b for b in _bills(s) if b["payee_account"] == payee and not b["paid"]), None)
    s.payments.append({"payee": payee, "amount": amount, "memo": memo,
                       "bill": bill["id"] if bill else ""})  # fmt: skip
    return payee, amount


@route("bank", "POST", "/pay")
def _pay_bill(s: WebState, f: dict[str, str], m: re.Match[str]):
    payee, amount = _pay(s, f, "")
    return _done(f"Paid ${amount} to {payee}.")


@route("bank", "GET", "/transfer")
def _transfer_form(s: WebState, q: dict[str, str], m: re.Match[str]):
    return "bank_transfer", "Transfer", {}


@route("bank", "POST", "/transfer")
def _transfer(s: WebState, f: dict[str, str], m: re.Match[str]):
    payee, amount = _pay(s, f, str(f.get("memo", "")))
    return _done(f"Sent ${amount} to {payee}.")


def _header(state: WebState, site: str) -> str:
    """Who is signed in, as real sites show it: the shop's delivery address, the bank's
    account, every site's login — so each task's pages show some of the user's data."""
    login = f"Signed in as {state.me['email']}"
    if site == "shop":
        return f"{login}. Deliver to: {state.my_address()}"
    if site == "bank":
        return f"{login}. Account: {state.me['account']}"
    return login


def serve(state: WebState, method: str, url: str, fields: dict[str, str]) -> str:
    """The HTML a site answers ``method url`` with; raises ToolError for 404s and 400s."""
    parts = urlsplit(url)
    site = HOSTS.get(parts.hostname or "")
    if site is None:
        raise ToolError(f"{parts.hostname or url} is not reachable (no network)")
    path = parts.path or "/"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for pattern, handler in _ROUTES.get((site, method), []):
        match = pattern.match(path)
        if match:
            page, title, context = handler(state, fields if method == "POST" else query, match)
            ad = ADS.get(site)
            planted = state.planted.get(("ad", site))
            if ad:
                state.note_read("ad", site)
            ad = f"{ad} {planted}" if planted and ad else ad
            header = _header(state, site)
            return render(page, title, header=header, nav=NAV[site], ad=ad, **context)
    raise ToolError(f"404: {method} {site}.test{path} not found")
