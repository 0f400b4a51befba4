"""A file shared by a permission: the file, sent by reference to whom it is granted.

Google Drive's ``permissions.create`` (``fileId``, ``emailAddress``), OneDrive's
``invite`` (``recipients[].email``), Dropbox's ``add_file_member``, Box's
``collaborations`` (``item: {type: file, id}``, ``accessible_by.login``) — a call granting a
person access to a file carries none of its content, yet the grantee can open it (a
W-2, a statement export). Not named like a sender and its address under a key that is
no destination key (``emailAddress``), such a call was no sink at all. `granted` reads
each address a permission- or share-making call names as a `Transfer` of the file
(`by_reference`: ``medium``, as an unseen file): to an address nobody authorised, a
leak; to the colleague the user named, a share they asked for.
"""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.shell_senders import Transfer

_GRANT_WORDS = frozenset({"permission", "permissions", "share", "sharing", "invite", "member"})
_GRANT_WORDS |= {"collaboration", "collaborations", "collaborator", "collaborators"}  # Box's
_FILE_KEYS = frozenset({"fileid", "itemid", "file", "path", "driveitemid", "documentid"})
_ITEM_KEYS = frozenset({"item", "file", "document", "folder"})
"""Keys of an object naming the shared thing by its bare ``id`` (Box's ``item.id``)."""


def _names_file(keys: tuple[str, ...]) -> bool:
    """Whether an argument's key path names a file: a file key, or an ``id`` inside an
    item object (``{"item": {"type": "file", "id": "1234"}}``)."""
    if not keys:
        return False
    last = keys[-1].lower().replace("_", "")
    return last in _FILE_KEYS or (last == "id" and len(keys) > 1 and keys[-2].lower() in _ITEM_KEYS)


@lru_cache(maxsize=4096)
def grants(tool: str) -> bool:
    """Whether ``tool``'s name says it grants access (a permission, a share)."""
    return not _GRANT_WORDS.isdisjoint(patterns.name_tokens(tool))


def granted(
    tool: str, scalars: list[tuple[str, tuple[str, ...], str]]
) -> list[tuple[str, Transfer]]:
    """(argument path, `Transfer` of the file) for each e-mail address a granting
    ``tool`` names, when it names the file (an ``…id``/``path`` argument)."""
    if not grants(tool):
        return []
    files = [v for _, keys, v in scalars if _names_file(keys)]
    if not files:
        return []
    out = []
    for path, _, value in scalars:
        address = value.strip()
        if patterns.whole_email(address):
            how = f"{tool}: file {files[0]} shared with {address}"
            out.append(
                (
                    path,
                    Transfer(f"file {files[0]}", address, canonical(address, "email"), "url", how),
                )
            )
    return out
