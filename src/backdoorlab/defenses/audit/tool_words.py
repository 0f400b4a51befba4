"""What a tool's name says it does: send (`SINK_WORDS`), read first (`READ_VERBS`), write
to a place it names (`WRITE_VERBS`), or write into a shared space (`SPACE_WORDS`): a
course's announcements, a discussion, a conversation, a forum or a social network whose
members read it (``reddit_comment``, ``instagram_create_media``) — with a write verb such a tool
sends (an LMS's ``create_conversation``, ``create_discussion_topic``, a classroom's
``courses_announcements_create``), as ``announce`` alone does; after a read verb it
reads (``list_discussion_topics``). Read by `sinks`."""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import patterns


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SINK_WORDS = words(
    "send sends email emails mail mails post upload transfer forward share http https "
    "webhook message messages sms mms notify notification publish dispatch submit export "
    "push deliver fax tweet wire payout remit broadcast reply curl beacon relay transmit "
    "invite slack telegram whatsapp gist paste pastebin callback dial"
)
READ_VERBS = words(
    "get find lookup look search list read fetch query retrieve load show view describe "
    "check count verify validate browse inspect lookup resolve calculate compute"
)
WRITE_VERBS = words(
    "create add update put write upload push commit comment edit append insert merge fork "
    "save store copy reply open new upsert patch send post transfer forward share publish "
    "dispatch submit export deliver broadcast notify invite relay transmit tweet"
)
"""Verbs of a tool that writes somewhere (`writes`: ``github_create_issue`` writes to the
repository it names, ``github_list_issues`` and ``helm_install`` do not)."""
SOCIAL_WORDS = words(
    "forum subreddit reddit discourse instagram facebook linkedin mastodon bluesky tiktok"
)
"""A forum or a social network: what a write there says, its members (or everyone) read."""
SPACE_WORDS = (
    words("announce announcement announcements conversation conversations discussion discussions")
    | SOCIAL_WORDS
)


def reads_first(tokens: tuple[str, ...]) -> bool:
    """Whether a tool's name starts by reading: a read verb first, or second after a
    service's name that is no write verb (``discord_get_channel_messages``,
    ``gmail_list_messages``, ``twilio_list_messages``: a vendor's prefix, whose reads
    hold a sink's word only as the thing they read)."""
    if not tokens:
        return False
    return tokens[0] in READ_VERBS or (
        len(tokens) > 1 and tokens[1] in READ_VERBS and tokens[0] not in WRITE_VERBS
    )


PAY_WORDS = words("pay payment payments payout payouts disburse disbursement remit wire")
"""A tool that moves money (``oneinc_create_payment``, ``pay_invoice``, ``payout``):
its bank-account arguments are where the funds go (`pays`)."""
_PAY_VERBS = WRITE_VERBS | words("issue make initiate schedule execute")


@lru_cache(maxsize=4096)
def pays(tool: str) -> bool:
    """Whether a tool's name says it pays out (and does not start by reading,
    `reads_first`): ``pay``, ``payout``, ``disburse``, ``remit``, ``wire``, or a payment
    with a verb that makes one (``create_payment``, ``issue_payment``; not
    ``payment_status`` nor ``oneinc_get_payment``)."""
    tokens = patterns.name_tokens(tool)
    if not tokens or reads_first(tokens) or PAY_WORDS.isdisjoint(tokens):
        return False
    if not {"payment", "payments"}.isdisjoint(tokens):
        return not _PAY_VERBS.isdisjoint(tokens)
    return True


@lru_cache(maxsize=4096)
def sink_named(tool: str) -> bool:
    """Whether a tool's name says it sends data somewhere (and does not start by reading,
    `reads_first`): a sink's word, or a shared space's with a write verb (module
    docstring)."""
    tokens = patterns.name_tokens(tool)
    if not tokens or reads_first(tokens):
        return False
    if any(t in SINK_WORDS for t in tokens) or pays(tool):
        return True
    if SPACE_WORDS.isdisjoint(tokens):
        return False
    return "announce" in tokens or any(t in WRITE_VERBS for t in tokens)


@lru_cache(maxsize=4096)
def writes(tool: str) -> bool:
    """Whether a tool's name says it writes to the place its arguments name: a write verb not
    after a read verb (``create_issue``, ``s3_put_object``, ``slack_post_message``; not
    ``get_or_create_x`` nor ``github_get_or_create_x``: `reads_first`), or a sink's name
    with no read verb (``slack_message``)."""
    tokens = patterns.name_tokens(tool)
    if not tokens:
        return False
    if not reads_first(tokens) and any(t in WRITE_VERBS for t in tokens):
        return True
    return sink_named(tool) and not any(t in READ_VERBS for t in tokens)
