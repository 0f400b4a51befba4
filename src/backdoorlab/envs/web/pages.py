"""The sites' pages: Jinja2 templates rendered to real HTML5.

Real HTML rather than the text the agent sees, because the agent's view is derived from
it the way a browser derives its accessibility tree (`axtree`): what a form posts, what a
link points to and what a field is called come from the markup, not from a second
description that could drift from it. Autoescaping is on: third parties write reviews,
posts and e-mails, and their text must stay text.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape

_BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>{% if header %}<header><p>{{ header }}</p></header>
{% endif %}{% if nav %}<nav>{% for label, href in nav %}<a href="{{ href }}">{{ label }}</a>
{% endfor %}</nav>{% endif %}
<main><h1>{{ title }}</h1>
{% block main %}{% endblock %}
</main>{% if ad %}
<aside aria-label="Sponsored"><p>Ad: {{ ad }}</p></aside>{% endif %}
</body></html>
"""

_FORM = """{% macro form(action, fields, button, method="post") -%}
<form method="{{ method }}" action="{{ action }}">{% for name, value in fields %}
<input type="text" name="{{ name }}" aria-label="{{ name }}" value="{{ value }}">{% endfor %}
<button type="submit">{{ button }}</button></form>
{%- endmacro %}"""

_PAGES = {
    "shop_home": """{% from "form" import form %}
<p>Welcome back, {{ user.name }}.</p>
{{ form("/search", [("q", "")], "Search", method="get") }}""",
    "shop_search": """<ul>{% for p in results %}
<li><a href="/product/{{ p.id }}">{{ p.name }}</a></li>{% else %}
<li>No results.</li>{% endfor %}</ul>""",
    "shop_product": """<p>Price: ${{ product.price }} ({{ product.stock }})</p>
<h2>Reviews</h2><ul>{% for r in product.reviews %}
<li>{{ r.author }} ({{ r.stars }}/5): {{ r.text }}</li>{% endfor %}</ul>""",
    "shop_orders": """<ul>{% for o in orders %}
<li><a href="/order/{{ o.id }}">{{ o.id }}: {{ o.item }}</a> {{ o.status }}</li>
{%- endfor %}</ul>""",
    "shop_order": """{% from "form" import form %}
<p>{{ order.item }}, ${{ order.total }}. Status: {{ order.status }}. {% if order.tracking %}
Tracking: {{ order.tracking }}.{% endif %}</p>{% if order.note %}
<p>Seller note: {{ order.note }}</p>{% endif %}{% if order.status == "pending" %}
{{ form("/order/" ~ order.id ~ "/cancel", [], "Cancel order") }}{% endif %}""",
    "shop_account": """{% from "form" import form %}
<p>{{ user.name }}, {{ user.email }}, {{ user.phone }}</p>
<p>Ship to: {{ address }}</p>
{{ form("/account/address", [("address", "")], "Save address") }}""",
    "forum_home": """<ul>{% for b in boards %}
<li><a href="/b/{{ b }}">{{ b }}</a></li>{% endfor %}</ul>""",
    "forum_board": """{% from "form" import form %}<ul>{% for t in threads %}
<li><a href="/t/{{ t.id }}">{{ t.title }}</a></li>{% endfor %}</ul>
{{ form("/b/" ~ board ~ "/new", [("title", ""), ("message", "")], "New thread") }}""",
    "forum_thread": """{% from "form" import form %}<ul>{% for p in posts %}
<li>{{ p.author }}: {{ p.text }}</li>{% endfor %}</ul>
{{ form("/t/" ~ thread.id ~ "/reply", [("message", "")], "Reply") }}""",
    "mail_inbox": """<ul>{% for m in mails %}
<li><a href="/m/{{ m.id }}">{{ m.from }}: {{ m.subject }}</a></li>{% endfor %}</ul>""",
    "mail_message": """<p>From: {{ mail.from }} &lt;{{ mail.from_email }}&gt;</p>
<p>{{ mail.body }}</p>
<a href="/compose?reply={{ mail.id }}">Reply</a>""",
    "mail_compose": """{% from "form" import form %}
{{ form("/send", [("to", to), ("subject", subject), ("body", "")], "Send") }}""",
    "bank_home": """<p>Account {{ user.account }}: ${{ balance }}</p>""",
    "bank_bills": """<ul>{% for b in bills %}
<li>{{ b.payee }} ${{ b.amount }} due {{ b.due }}{% if b.paid %} (paid){% else %}
<a href="/pay/{{ b.id }}">Pay</a>{% endif %}</li>{% endfor %}</ul>""",
    "bank_pay": """{% from "form" import form %}
{{ form("/pay", [("payee", bill.payee_account), ("amount", bill.amount)], "Pay") }}""",
    "bank_transfer": """{% from "form" import form %}
{{ form("/transfer", [("payee", ""), ("amount", ""), ("memo", "")], "Send money") }}""",
    "message": """<p>{{ text }}</p>""",
}

_TEMPLATES = {"base": _BASE, "form": _FORM}
_TEMPLATES.update({name: '{% extends "base" %}{% block main %}' + body + "{% endblock %}"
                   for name, body in _PAGES.items()})  # fmt: skip

_JINJA = Environment(
    loader=DictLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
)


def render(page: str, title: str, **context: Any) -> str:
    """The HTML of ``page`` (a key of the page templates) with its title and context."""
    return _JINJA.get_template(page).render(title=title, **context)


PAGE_NAMES = tuple(_PAGES)
