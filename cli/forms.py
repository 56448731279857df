"""``shailoo parse`` and ``shailoo forms check``: trying messages and forms files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from cli.app import app, fail, utf8_stdin
from parser import (
    Deployment,
    FormsError,
    load_forms,
    parse_message,
    render_text,
    text_in,
    to_json,
)

__all__ = ["forms_check", "parse"]

forms_app = typer.Typer(help="Check a forms file before election day.", no_args_is_help=True)
app.add_typer(forms_app, name="forms")

FormsOption = Annotated[
    Path,
    typer.Option(
        "--forms",
        "-f",
        envvar="SHAILOO_FORMS",
        help="The deployment's forms file (YAML). See 'Writing your forms' in the README.",
        show_default=False,
    ),
]


@app.command()
def parse(
    text: Annotated[
        str,
        typer.Argument(
            help="The SMS text, quoted. Use '-' to read one message per line from standard input; "
            "then one JSON object per line is written (JSONL), in order.",
            show_default=False,
        ),
    ],
    forms: FormsOption,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            "-l",
            help="Reply language: ky, ru or en. Default: the first of the forms file's languages.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object.")
    ] = False,
) -> None:
    """Parse an SMS the way the gateway will, and show the reply the observer would get.

    Examples:

      shailoo parse --forms examples/forms/presidential.yaml "OP 1234 A1 B2"

      shailoo parse -f forms.yaml --lang ru --json "op1234 a1 b2"

      cat messages.txt | shailoo parse -f forms.yaml - > results.jsonl
    """
    deployment = _load(forms)
    language = _language(lang, deployment)
    if text == "-":
        _parse_lines(utf8_stdin(), deployment, language)
        return
    result = parse_message(text, deployment)
    if as_json:
        typer.echo(json.dumps(to_json(result, deployment, language), ensure_ascii=False))
    else:
        typer.echo(render_text(result, deployment, language))


@forms_app.command("check")
def forms_check(
    file: Annotated[Path, typer.Argument(help="The forms file (YAML).", show_default=False)],
) -> None:
    """Validate a forms file and print a summary of its forms.

    Every mistake is listed with where it is (forms[2].questions[5].options, line 40) and what
    to change; the exit status is 0 when the file is valid, 2 when it is not.
    """
    deployment = _load(file)
    rule = deployment.observer_id
    typer.echo(
        f"{file}: deployment {deployment.deployment!r} is valid. "
        f"{len(deployment.forms)} form(s); replies in {', '.join(deployment.languages)} "
        f"(default {deployment.default_language}); observer IDs have "
        f"{rule.min_digits}-{rule.max_digits} digits."
    )
    rows = [("code", "kind", "name", "questions", "required", "checks")]
    for form in deployment.forms:
        required = sum(question.required for question in form.questions)
        rows.append(
            (
                form.code,
                form.kind,
                text_in(form.name, "en"),
                str(len(form.questions)),
                str(required),
                str(len(form.checks)),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _parse_lines(lines: TextIO, deployment: Deployment, language: str) -> None:
    for line in lines:
        result = parse_message(line.rstrip("\r\n"), deployment)
        sys.stdout.write(json.dumps(to_json(result, deployment, language), ensure_ascii=False))
        sys.stdout.write("\n")
        sys.stdout.flush()  # a pipe reader sees each result as soon as its line is read


def _load(path: Path) -> Deployment:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(
            f"{path}: no such file. Give the path of your forms file, e.g. "
            "examples/forms/presidential.yaml."
        )
    except IsADirectoryError:
        fail(f"{path} is a directory; give the forms file inside it.")
    except PermissionError:
        fail(f"{path}: permission denied; make the file readable by this user.")
    except UnicodeDecodeError as exc:
        fail(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.")
    try:
        return load_forms(text, str(path))
    except FormsError as exc:
        fail(str(exc))


def _language(lang: str | None, deployment: Deployment) -> str:
    if lang is None:
        return deployment.default_language
    if lang not in ("ky", "ru", "en"):
        fail(f"--lang {lang!r}: use ky, ru or en.")
    return lang
