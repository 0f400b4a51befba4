"""What a GraphQL call does: its mutation's first field (``addDiscussionComment``,
``createComment``, ``commentCreate``).

A GraphQL API is called through one generic tool (``github_graphql``, ``graphql_request``,
``linear_api``) whose name says nothing of the write it makes: the write is named in the
``query`` argument's ``mutation { field(…) }``. `sinks` reads that field's name as it
reads a tool's (`tool_words.sink_named`), so a discussion comment posted through GitHub's
GraphQL API is a sink as ``add_discussion_comment`` would be; a ``query`` (a read) is not.
"""

from __future__ import annotations

import re

# the operation keyword, its name and variables (no braces), then the first field of its
# selection, an alias before it allowed ("c: addComment(…)"); in a call's arguments as
# sent, the query is a JSON string, its line breaks written "\\n"
_SPACE = r"(?:\s|\\[nrt])*"
_MUTATION = re.compile(
    rf"\bmutation\b[^{{}}]{{0,400}}\{{{_SPACE}(?:\w+{_SPACE}:{_SPACE})?([A-Za-z_]\w*)"
)


def mutations(raw: str) -> list[str]:
    """The first field of each mutation written in ``raw`` (a call's arguments, as sent)."""
    if "mutation" not in raw:
        return []
    return _MUTATION.findall(raw[:65536])
