"""shailoo's coded-checklist parser: pure functions from SMS text to validated reports.

No I/O and no imports from the rest of shailoo: give it a forms file's text and a message::

    deployment = load_forms(text)
    result = parse_message("OP 1234 A1 B250", deployment)
    result.ok, result.answers, result.errors
    render_reply(result, deployment, "ky")
"""

from parser.checks import Expression, compile_check
from parser.errors import (
    CheckSyntaxError,
    ErrorCode,
    FormsError,
    FormsProblem,
    ParseError,
    ParserError,
)
from parser.forms import Check, Deployment, Form, Question, Results, load_forms, text_in
from parser.grammar import parse_message
from parser.render import render_text, to_json
from parser.replies import describe_error, render_reply
from parser.result import Answer, ParseResult

__all__ = [
    "Answer",
    "Check",
    "CheckSyntaxError",
    "Deployment",
    "ErrorCode",
    "Expression",
    "Form",
    "FormsError",
    "FormsProblem",
    "ParseError",
    "ParseResult",
    "ParserError",
    "Question",
    "Results",
    "compile_check",
    "describe_error",
    "load_forms",
    "parse_message",
    "render_reply",
    "render_text",
    "text_in",
    "to_json",
]
