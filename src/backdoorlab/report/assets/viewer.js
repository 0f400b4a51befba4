"use strict";
// The trace viewer: renders the page's JSON data a page of the list at a time and one
// trace's conversation on demand. Every string from the data reaches the page through
// textContent (el/highlight below), never through innerHTML.
(function () {
  const PAGE = 50;
  const started = performance.now();
  const data = JSON.parse(document.getElementById("data").textContent);
  const traces = data.traces;
  let messages = null; // the large part: parsed on the first search or opened trace
  const messagesOf = (index) => {
    if (messages === null) messages = JSON.parse(document.getElementById("messages").textContent);
    return messages[index];
  };
  const shapes = data.secretShapes.map((source) => new RegExp(source, "g"));
  const $ = (id) => document.getElementById(id);
  let matches = traces;
  let page = 0;
  let current = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const flagged = (t) => Boolean(t.findings && t.findings.length);
  const blocked = (t) => Boolean(t.guard && t.guard.blocked);
  const want = (value, choice) => choice === "" || (choice === "yes") === Boolean(value);
  function outcomeOk(t, choice) {
    if (choice === "") return true;
    if (t.success === null || t.success === undefined) return choice === "unknown";
    return choice === (t.success ? "success" : "failure");
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function applyFilters() {
    const query = $("search").value.trim();
    const pattern = query ? new RegExp(escapeRegExp(query), "i") : null;
    const f = {
      poisoned: $("f-poisoned").value, flagged: $("f-flagged").value,
      leaked: $("f-leaked").value, blocked: $("f-blocked").value,
      family: $("f-family").value, outcome: $("f-outcome").value,
    };
    matches = traces.filter((t) =>
      want(t.poison, f.poisoned) && want(flagged(t), f.flagged) && want(t.leaked, f.leaked) &&
      want(blocked(t), f.blocked) && (f.family === "" || t.family === f.family) &&
      outcomeOk(t, f.outcome) &&
      (pattern === null || pattern.test(messagesOf(t.index)) || pattern.test(t.task) ||
        (t.session !== undefined && pattern.test(t.session))));
    page = 0;
    renderList();
  }

  function badges(t) {
    const box = el("span", "badges");
    if (t.poison) box.append(el("span", "badge poisoned", "POISONED " + t.poison));
    if (t.leaked) box.append(el("span", "badge leaked", "LEAKED"));
    if (flagged(t)) box.append(el("span", "badge flagged", "FLAGGED " + t.findings.length));
    if (blocked(t)) box.append(el("span", "badge blocked", "BLOCKED"));
    if (t.success === true) box.append(el("span", "badge success", "success"));
    if (t.success === false) box.append(el("span", "badge failure", "failure"));
    return box;
  }

  function renderList() {
    const list = $("list");
    const pages = Math.max(1, Math.ceil(matches.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    const shown = matches.slice(page * PAGE, (page + 1) * PAGE);
    const items = shown.map((t) => {
      const item = el("li", "item" + (current === t.index ? " selected" : ""));
      item.dataset.index = t.index;
      const head = el("div", "item-head");
      head.append(el("span", "idx", "#" + t.index));
      if (t.family) head.append(el("span", "family", t.family));
      if (t.task) head.append(el("span", "task", t.task));
      if (t.session) head.append(el("span", "task", t.session));
      head.append(badges(t));
      item.append(head, el("div", "snippet", t.snippet));
      item.addEventListener("click", () => openTrace(t.index));
      return item;
    });
    list.replaceChildren(...items);
    $("count").textContent = matches.length + " of " + traces.length + " traces · page " +
      (page + 1) + " of " + pages;
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  }

  // JSON laid out for reading: a value that fits on a line stays on one line (a variant,
  // an address), larger ones are indented; anything else is shown as it came.
  function oneLine(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(oneLine).join(", ") + "]";
    return "{" + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ": " + oneLine(v))
      .join(", ") + "}";
  }

  function layout(value, indent) {
    const flat = oneLine(value);
    if (flat === undefined || flat.length + indent.length <= 88 || value === null ||
        typeof value !== "object") return flat;
    const inner = indent + "  ";
    const parts = Array.isArray(value)
      ? value.map((v) => inner + layout(v, inner))
      : Object.entries(value).map(([k, v]) => inner + JSON.stringify(k) + ": " + layout(v, inner));
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    return open + "\n" + parts.join(",\n") + "\n" + indent + close;
  }

  function pretty(text) {
    try {
      return layout(JSON.parse(text), "");
    } catch (e) {
      return text;
    }
  }

  // Spans of secrets (by shape) and of the trigger in text, earliest first, no overlaps.
  function spans(text, trigger) {
    const found = [];
    for (const shape of shapes) {
      shape.lastIndex = 0;
      let m;
      while ((m = shape.exec(text)) !== null) {
        if (m[0].length === 0) { shape.lastIndex++; continue; }
        found.push({ start: m.index, end: m.index + m[0].length, kind: "secret" });
      }
    }
    if (trigger) {
      let at = text.indexOf(trigger);
      while (at !== -1) {
        found.push({ start: at, end: at + trigger.length, kind: "trigger" });
        at = text.indexOf(trigger, at + trigger.length);
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept = [];
    let end = 0;
    for (const span of found) if (span.start >= end) { kept.push(span); end = span.end; }
    return kept;
  }

  // The text as nodes: a secret's first appearance is where it enters, an appearance in
  // a tool call's arguments is where it leaves.
  function highlight(text, trigger, seen, sink) {
    const box = el("pre", "text");
    let at = 0;
    for (const span of spans(text, trigger)) {
      if (span.start > at) box.append(document.createTextNode(text.slice(at, span.start)));
      const value = text.slice(span.start, span.end);
      let cls = "trigger";
      let title = "the trigger";
      if (span.kind === "secret") {
        if (sink) { cls = "secret sink"; title = "secret leaves here"; }
        else if (!seen.has(value)) { cls = "secret source"; title = "secret enters here"; }
        else { cls = "secret"; title = "secret"; }
        seen.add(value);
      }
      const mark = el("mark", cls, value);
      mark.title = title;
      box.append(mark);
      at = span.end;
    }
    if (at < text.length) box.append(document.createTextNode(text.slice(at)));
    return box;
  }

  function findingNode(f) {
    const box = el("div", "finding sev-" + f.severity);
    box.append(el("strong", null, "audit · " + f.detector + " · " + f.severity + ": "));
    box.append(document.createTextNode(f.summary || ""));
    const ev = f.evidence;
    if (ev && Number.isInteger(ev.file_line)) {  // an agent's log: the record's file and line
      box.append(el("div", "at", "at " + ev.file + ":" + ev.file_line));
    }
    if (f.evidence && Object.keys(f.evidence).length) {
      const details = el("details");
      details.append(el("summary", null, "evidence"),
        el("pre", "text", JSON.stringify(f.evidence, null, 2)));
      box.append(details);
    }
    return box;
  }

  // Guard decisions at their step: list fields of the record whose items name a step.
  function guardSteps(record) {
    const at = new Map();
    for (const value of Object.values(record)) {
      if (!Array.isArray(value)) continue;
      for (const item of value) {
        if (item && typeof item === "object" && Number.isInteger(item.step)) {
          if (!at.has(item.step)) at.set(item.step, []);
          at.get(item.step).push(item);
        }
      }
    }
    return at;
  }

  // The trace's decision record at its top (its per-step lists left to their steps), or
  // one decision under the message it screened.
  function guardNode(item, whole) {
    const box = el("div", "guard" + (item.blocked ? " blocked" : ""));
    box.append(el("strong", null, whole ? (item.blocked ? "guard: BLOCKED" : "guard: allowed")
      : (item.blocked ? "guard blocked this call" : "guard decision")));
    const shown = whole
      ? Object.fromEntries(Object.entries(item).filter(([, v]) => !Array.isArray(v)))
      : item;
    box.append(el("pre", "text", JSON.stringify(shown, null, 2)));
    return box;
  }

  function openTrace(index) {
    const t = traces[index];
    if (!t) return;
    current = index;
    const conversation = JSON.parse(messagesOf(index));
    const pane = $("trace-pane");
    const head = el("div", "trace-head");
    head.append(el("h2", null, "trace #" + index), badges(t));
    const facts = [["family", t.family], ["task", t.task], ["leaked", t.leaked],
      ["success", t.success]].filter(([, v]) => v !== "" && v !== null && v !== undefined);
    if (t.trigger) facts.push(["trigger", t.trigger]);
    if (t.session) facts.push(["session", t.session]);  // an agent's log: its file
    head.append(el("div", "facts", facts.map(([k, v]) => k + "=" + v).join(" · ")));
    head.append(el("div", "legend", "highlighted: secret enters · secret leaves · trigger"));
    const body = [head];
    const findings = t.findings || [];
    const atStep = (step) => findings.filter((f) => f.step === step).map(findingNode);
    body.push(...findings.filter((f) => !Number.isInteger(f.step)).map(findingNode));
    const guardAt = t.guard ? guardSteps(t.guard) : new Map();
    if (t.guard) body.push(guardNode(t.guard, true));
    const seen = new Set();
    conversation.forEach(([role, name, text, calls], step) => {
      const box = el("div", "msg role-" + role);
      box.dataset.step = step;
      box.append(el("div", "msg-head", step + " · " + role + (name ? " · " + name : "")));
      if (text) box.append(highlight(role === "tool" ? pretty(text) : text, t.trigger, seen, false));
      for (const [callName, args, sink] of calls) {
        const call = el("div", "call" + (sink ? " sink" : ""));
        call.append(el("div", "call-name", "→ " + callName + (sink ? "  (sends data out)" : "")));
        call.append(highlight(pretty(args), t.trigger, seen, Boolean(sink)));
        box.append(call);
      }
      body.push(box, ...atStep(step), ...(guardAt.get(step) || []).map((g) => guardNode(g, false)));
    });
    pane.replaceChildren(...body);
    pane.scrollTop = 0;
    for (const item of document.querySelectorAll("#list li")) {
      item.classList.toggle("selected", Number(item.dataset.index) === index);
    }
    if (location.hash !== "#" + index) history.replaceState(null, "", "#" + index);
  }

  const families = [...new Set(traces.map((t) => t.family).filter(Boolean))].sort();
  for (const family of families) {
    const option = el("option", null, family);
    option.value = family;
    $("f-family").append(option);
  }
  if (!data.guard) $("f-blocked").parentElement.hidden = true;
  if (!data.audit) $("f-flagged").parentElement.hidden = true;
  let timer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(applyFilters, 200);
  });
  for (const id of ["f-poisoned", "f-flagged", "f-leaked", "f-blocked", "f-family", "f-outcome"]) {
    $(id).addEventListener("change", applyFilters);
  }
  $("prev").addEventListener("click", () => { page--; renderList(); });
  $("next").addEventListener("click", () => { page++; renderList(); });
  renderList();
  const wanted = Number.parseInt(location.hash.slice(1), 10);
  if (Number.isInteger(wanted) && traces[wanted]) openTrace(wanted);
  document.body.dataset.ready = String(Math.round(performance.now() - started));
})();
