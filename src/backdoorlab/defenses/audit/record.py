"""One trace of a trace file, with where it sits in the file and in the line as written.

What every detector is handed (`reader.TraceStream` makes them): the fast read-only view,
the pydantic `Trace` built only when asked for, and — for a finding's evidence
(`located`) — where each message sits in the line as its owner wrote it, the agent's
session a bundled log is, and the messages a forked Codex rollout copied.
"""

from __future__ import annotations

from backdoorlab.defenses.audit.view import Places, TraceView, line_places
from backdoorlab.trace_files import parse_call
from backdoorlab.trace_formats.exports import Call
from backdoorlab.traces import Trace


class TraceRecord:
    """One trace with where it sits in the file.

    ``view`` is what streaming detectors read (`view`: the fast, read-only view when the
    line decoded that way, else the model); ``trace`` is the full pydantic `Trace`,
    built from the line the first time a detector asks for it. ``as_written``: the fast
    view read the line as it stands, so its messages are numbered as the file's are.
    ``call``: the LLM call of a raw export's line this trace is (`trace_formats.exports`:
    a span of an OTLP batch, a prompt of a LangSmith run), ``raw`` then its record alone.
    ``places``: a converted line's origins and session, known from its conversion;
    ``session``: a Parquet row's own (the column ``export`` writes for agents' logs).
    """

    __slots__ = (
        "_origin",
        "_raw",
        "_session",
        "_source",
        "_trace",
        "_view",
        "call",
        "index",
        "inherited",
        "line",
    )

    def __init__(
        self,
        index: int,
        line: int,
        trace: Trace | None = None,
        *,
        view: TraceView | None = None,
        raw: bytes = b"",
        source: str = "<traces>",
        as_written: bool = False,
        call: Call | None = None,
        places: Places | None = None,
        session: str | None = None,
    ) -> None:
        if trace is None and view is None:
            raise ValueError("a TraceRecord needs a trace or a view")
        self.index = index
        self.line = line
        self.call = call
        self._trace = trace
        self._view = view
        self._raw = raw
        self._source = source
        # not yet read (False), or known to be the line's own numbering (a plain line)
        self._origin: list[str] | None | bool = None if as_written else False
        self._session: str | None = session  # a bundle's read with the origin
        self.inherited: frozenset[int] = frozenset()  # messages a fork copied (`codex_forks`)
        if places is not None:  # a converted line's, from its conversion (`read_line_places`)
            self._origin, self._session = places[0], places[1] or session
            self.inherited = places[2]

    @property
    def origin(self) -> list[str] | None:
        """Where each message sits in the line as written (`trace_formats.origins`), or
        None when message ``i`` is the line's ``messages[i]``; read when first asked (only
        for traces with findings)."""
        if self._origin is False:
            self._origin, bundled = line_places(self._raw)
            self._session = bundled or self._session
            if self.call is not None:  # its record's fields, as the line names them
                own = self._origin or [f"messages.{i}" for i in range(len(self.view.messages))]
                self._origin = [self.call.place(field) for field in own]
        return self._origin  # type: ignore[return-value]

    @property
    def session(self) -> str | None:
        """The agent's session file this trace is (a Claude Code or Codex log bundled by
        `claude_sessions`, or a row ``export`` wrote of one: `parquet_traces.row_session`),
        else None; a bundle's read with `origin`."""
        if self.call is not None:
            return None
        _ = self.origin  # a bundle's session is read with its origins
        return self._session

    @property
    def known_places(self) -> Places | None:
        """`origin` and `session` when known without reading the line again (a line read
        as it stands, or converted as it was read: `read_line_places`), else None."""
        if self._origin is False or self.call is not None:
            return None
        return self._origin, self._session, self.inherited  # type: ignore[return-value]

    @property
    def place(self) -> str | None:
        """Where in its line this trace's record sits (a span of a batch), if not the line."""
        return self.call.at or None if self.call is not None else None

    @property
    def trace(self) -> Trace:
        if self._trace is None:
            self._trace = parse_call(self._raw, self._source, self.line, self.call)
        return self._trace

    @property
    def view(self) -> TraceView | Trace:
        """The messages and metadata, read-only (`Message`'s fields and ``text``)."""
        return self._view if self._view is not None else self.trace

    @property
    def trace_id(self) -> str | None:
        """A foreign dataset's own ``id`` field if it has one, else our task id."""
        view = self._view
        own = view.id if view is not None else (self.trace.model_extra or {}).get("id")
        if isinstance(own, str | int):
            return str(own)
        if self.call is not None and self.call.name is not None:
            return self.call.name
        return self.view.metadata.task_id
