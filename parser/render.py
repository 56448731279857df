"""Showing a parse result: the JSON shape of ``shailoo parse --json``, and text with carets.

The JSON shape is a contract other tools depend on::

    {"text", "ok", "form", "observer", "answers": {"A": 1, "C": [1, 3]}, "comment",
     "errors": [{"code", "tag", "span": [start, end], "message"}], "reply"}
"""

from __future__ import annotations

from typing import Any

from parser.forms import Deployment
from parser.replies import describe_error, render_reply
from parser.result import ParseResult

__all__ = ["render_text", "to_json"]


def to_json(result: ParseResult, deployment: Deployment, language: str) -> dict[str, Any]:
    """The result as the JSON object ``shailoo parse --json`` prints."""
    return {
        "text": result.text,
        "ok": result.ok,
        "form": result.form,
        "observer": result.observer,
        "answers": {
            tag: list(value) if isinstance(value, tuple) else value
            for tag, value in result.answers.items()
        },
        "comment": result.comment,
        "errors": [
            {
                "code": error.code.value,
                "tag": error.tag,
                "span": list(error.span),
                "message": describe_error(error, result, deployment, language),
            }
            for error in result.errors
        ],
        "reply": render_reply(result, deployment, language),
    }


def render_text(result: ParseResult, deployment: Deployment, language: str) -> str:
    """A person's view: the message, a caret line under each problem, the answers, the reply."""
    shown = "".join(" " if char in "\r\n\t" else char for char in result.text)
    lines = [f"  {shown}"]
    for error in result.errors:
        start, end = error.span
        carets = "^" * max(end - start, 1)
        message = describe_error(error, result, deployment, language)
        lines.append(f"  {' ' * start}{carets} {error.code.value}: {message}")
    verdict = "accepted" if result.ok else f"rejected ({len(result.errors)} problem(s))"
    lines.append(f"form {result.form or '-'}, observer {result.observer or '-'}: {verdict}")
    for tag, value in result.answers.items():
        shown_value = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        lines.append(f"  {tag} = {shown_value}")
    if result.comment:
        lines.append(f"comment: {result.comment}")
    lines.append(f"reply: {render_reply(result, deployment, language)}")
    return "\n".join(lines)
