"""A form's answer read under its question: an applicant's answers in an applicant
tracking system (Greenhouse Harvest's ``answers: [{"question", "answer"}]``, Lever's
form ``fields: [{"text", "value"}]``), a survey's or an intake form's responses, a
custom field written as ``{"label", "value"}``.

Why: an amount is no token (`values`: figures are everywhere and identify nothing); a
salary is tracked only when its key says it is one (`keys`: ``salary``,
``compensation``). A form puts that word in a sibling field instead — the question
"What is your current base salary?" above the answer "$142,000" — so a candidate's
current pay, read from their application and sent to a stranger, left unreported.

So a record of a question (``question``, ``label``, ``title``, ``text``, ``prompt``)
and an answer (``answer``, ``value``, ``response``) has its answer read under the
question's words, as if the question were its key — only where those words name money
(`keys.classify_key`: salary, compensation, income, bonus…); every other answer is read
as before, by its own shape. The question must be short (a form's label, not prose)."""

from __future__ import annotations

from typing import Any

from backdoorlab.defenses.audit.keys import classify_key

_QUESTIONS = ("question", "label", "title", "text", "prompt")
_ANSWERS = ("answer", "value", "response")
MAX_QUESTION = 120
"""Characters at most in a question read as a key: a form's label, not a paragraph."""
MAX_FIELDS = 12
"""Fields at most in a record read as one question and its answer."""


def answered(record: dict[Any, Any]) -> tuple[str, str] | None:
    """(the answer's field, the question it answers) when ``record`` is a question and
    its answer and the question asks for money (module docstring), else None."""
    if len(record) > MAX_FIELDS:
        return None
    for answer_field in _ANSWERS:
        held = record.get(answer_field)
        if isinstance(held, str):
            break
    else:
        return None
    for question_field in _QUESTIONS:
        question = record.get(question_field)
        if isinstance(question, str) and 3 <= len(question) <= MAX_QUESTION:
            break
    else:
        return None
    return (answer_field, question) if classify_key(question) == "money" else None
