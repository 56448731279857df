"""The ``shailoo`` Typer application and what every command shares.

Each command reads its inputs, calls the packages and prints; problems in what the user gave us
(a missing file, a forms file with mistakes, a device that cannot be opened) end with a sentence
and exit status 2, never a traceback.
"""

from __future__ import annotations

import io
import sys
from typing import NoReturn, TextIO

import typer

__all__ = ["EXIT_USAGE", "app", "fail", "utf8_stdin"]

EXIT_USAGE = 2

app = typer.Typer(
    name="shailoo",
    help=(
        "shailoo: an SMS gateway for citizen election observers.\n\n"
        "Observers text coded checklists (e.g. 'OP 1234 A1 B250') to a SIM in a GSM modem; "
        "shailoo checks each SMS against your forms file and replies in ky, ru or en.\n\n"
        "Start with 'shailoo forms check FILE', then try messages with "
        "'shailoo parse --forms FILE \"OP 1234 A1\"'. No modem yet? 'shailoo modem emulate' "
        "gives you a virtual one, and 'shailoo demo' a whole simulated election day.\n\n"
        "The night before: shailoo db upgrade, forms load, roster import, modem probe, token "
        "create, then shailoo run. docs/runbook.md walks through it and through election day."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings' wrapped lines flow as paragraphs
)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def utf8_stdin() -> TextIO:
    """Standard input as UTF-8 text; a broken byte must not stop a batch."""
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
