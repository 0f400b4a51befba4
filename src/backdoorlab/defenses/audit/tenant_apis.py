"""APIs that act inside the caller's own tenant: a request there lands in the
organisation the agent's token belongs to, whoever wrote the URL.

Why: an IT or back-office agent calls Microsoft Graph for everything — reads a user by
their address (``GET graph.microsoft.com/v1.0/users/{upn}``), issues a Temporary Access
Pass, reads a BitLocker key, sends mail as the service desk. The host is Microsoft's,
no user names it, and reading it as a third party flagged every such call as the
address (and every secret) leaving. It is the operator's own directory: the data goes
to no one outside. What such a call *addresses* still is a destination: Graph
``sendMail``'s ``message.toRecipients`` (`sinks` reads them as nested destinations),
so a recovery key mailed through Graph to a stranger is the stranger's.

Only hosts that serve one tenant per token and never a customer's own content at a
name of its choosing: Microsoft Graph (and the retired Azure AD Graph), Google's Admin
SDK. Not ``www.googleapis.com`` (it serves buckets by name), nor any
``*.okta.com`` / ``*.service-now.com`` tenant (anyone may open one: a tenant the system
prompt names is authorised by that)."""

from __future__ import annotations

TENANT_HOSTS = frozenset(
    # https://learn.microsoft.com/en-us/graph/use-the-api — one endpoint, the tenant
    # is the token's; graph.windows.net is Azure AD Graph, its predecessor
    ("graph.microsoft.com", "graph.windows.net")
    # https://developers.google.com/admin-sdk/directory/reference/rest — the customer
    # is the token's ("my_customer")
    + ("admin.googleapis.com",)
)


def tenant_api(host: str) -> bool:
    """Whether ``host`` (a URL destination's canonical form) is one of `TENANT_HOSTS`."""
    return host in TENANT_HOSTS
