"""A deployment's forms: the coded checklists observers send, as loaded from a YAML file.

``load_forms(text)`` returns a validated ``Deployment`` or raises ``FormsError`` listing every
mistake with its location (``forms[2].questions[5].options``), its line and a sentence saying
what to change. Validation happens in two passes: pydantic checks the shape and the types, then
``_semantic_problems`` checks what needs the whole file (unique codes and tags, ranges, the tags
a check reads, and room for every reply in one SMS: ``parser.limits``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails

from parser.checks import KEYWORDS, Expression, compile_check
from parser.errors import CheckSyntaxError, FormsError, FormsProblem
from parser.limits import reply_problems
from parser.localized import ANY_LANGUAGE, text_in
from parser.yamlsource import YamlDocument, read_yaml

__all__ = [
    "INTEGER_LIMIT",
    "LANGUAGES",
    "Check",
    "Deployment",
    "Form",
    "ObserverIdRule",
    "Question",
    "Results",
    "load_forms",
    "text_in",
]

LANGUAGES = ("ky", "ru", "en")
Language = Literal["ky", "ru", "en"]
# Largest number an integer question accepts: more than any polling station count, and small
# enough that no SMS can make us convert a 5,000-digit string.
INTEGER_LIMIT = 999_999_999
_LETTERS = re.compile(r"[A-Za-z]+")


def _localized(value: object) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return {ANY_LANGUAGE: value}
    if isinstance(value, dict) and value:
        # "*" is how a plain text is stored: it comes back when stored forms are read again.
        unknown = sorted(str(key) for key in value if key not in (*LANGUAGES, ANY_LANGUAGE))
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
        if all(isinstance(text, str) and text.strip() for text in value.values()):
            return {str(key): str(text) for key, text in value.items()}
    raise ValueError("should be text, or one text per language like {en: Yes, ru: Да, ky: Ооба}")


def _letters(value: object) -> str:
    if not isinstance(value, str) or not _LETTERS.fullmatch(value):
        raise ValueError(f"should be Latin letters only (A-Z), not {value!r}")
    return value.upper()


def _options(value: object) -> object:
    if not isinstance(value, dict):  # empty is fine here: the semantic pass says who needs some
        raise ValueError("should list the options as code: label lines, like {1: Yes, 2: No}")
    options: dict[int, object] = {}
    for key, label in value.items():
        text = str(key)
        if not text.isdigit() or int(text) == 0 or len(text) > 3:
            raise ValueError(f"option code {text!r} should be a whole number from 1 to 999")
        if int(text) in options:
            raise ValueError(f"option code {int(text)} is listed twice")
        options[int(text)] = label
    return options


def _compile(value: object) -> Expression:
    if isinstance(value, Expression):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("should be an expression over the form's tags, like 'D <= B'")
    try:
        return compile_check(value)
    except CheckSyntaxError as exc:
        raise ValueError(f"{value!r}: {exc}") from exc


LocalizedText = Annotated[dict[str, str], BeforeValidator(_localized)]
Letters = Annotated[str, BeforeValidator(_letters)]
CheckExpression = Annotated[
    Expression,
    BeforeValidator(_compile),
    PlainSerializer(lambda expression: expression.source, return_type=str),
    WithJsonSchema({"type": "string"}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Question(_Model):
    """One question: its tag in SMS, its type and what answers it accepts."""

    tag: Letters
    type: Literal["choice", "multi", "integer"]
    label: LocalizedText
    options: Annotated[dict[int, LocalizedText], BeforeValidator(_options)] = Field(
        default_factory=dict
    )
    required: bool = False
    min: int | None = None
    max: int | None = None

    # Cached: the parser reads these for every answer of every SMS.
    @cached_property
    def lowest(self) -> int:
        """Smallest accepted integer answer."""
        return 0 if self.min is None else self.min

    @cached_property
    def highest(self) -> int:
        """Largest accepted integer answer."""
        return INTEGER_LIMIT if self.max is None else self.max

    @cached_property
    def single_digit_options(self) -> bool:
        """Whether every option code is one digit, so ``C134`` can only mean 1, 3 and 4."""
        return all(code < 10 for code in self.options)


class Check(_Model):
    """A cross-field check and the message an observer gets when it fails."""

    expr: CheckExpression
    message: LocalizedText


class Results(_Model):
    """Which integer questions of a checklist carry a station's count, for the estimates.

    ``votes``: valid votes for each party or candidate; ``invalid``: invalid ballots;
    ``registered``: registered voters as counted at the station (else the roster's number).
    """

    votes: list[Letters] = Field(min_length=1)
    invalid: Letters | None = None
    registered: Letters | None = None

    @property
    def named_tags(self) -> list[tuple[str, str]]:
        """``(location, tag)`` of every tag declared, in file order: ``("votes[1]", "B")``."""
        named = [(f"votes[{index}]", tag) for index, tag in enumerate(self.votes)]
        named += [(role, tag) for role in ("invalid", "registered") if (tag := getattr(self, role))]
        return named

    @property
    def tags(self) -> tuple[str, ...]:
        """Every results tag, votes first."""
        return tuple(tag for _, tag in self.named_tags)


class Form(_Model):
    """A form: a checklist (later SMS update one record) or an incident (each SMS is new)."""

    code: Letters
    kind: Literal["checklist", "incident"]
    name: LocalizedText
    questions: list[Question] = Field(min_length=1)
    checks: list[Check] = Field(default_factory=list)
    results: Results | None = None

    @cached_property
    def by_tag(self) -> dict[str, Question]:
        """Questions by tag (upper case); treat as read-only."""
        return {question.tag: question for question in self.questions}

    def question(self, tag: str) -> Question | None:
        """The question with ``tag`` (upper case), if the form has it."""
        return self.by_tag.get(tag)

    @cached_property
    def tags(self) -> frozenset[str]:
        """Every tag of the form."""
        return frozenset(self.by_tag)

    @cached_property
    def longest_tag(self) -> int:
        """Letters in the form's longest tag: a longer word cannot be a mistyped tag."""
        return max(len(tag) for tag in self.by_tag)

    @cached_property
    def required_tags(self) -> tuple[str, ...]:
        """Tags of the questions every SMS of this form must answer, in form order."""
        return tuple(question.tag for question in self.questions if question.required)


class ObserverIdRule(_Model):
    """How many digits an observer ID has."""

    min_digits: int = Field(default=3, ge=1, le=20)
    max_digits: int = Field(default=6, ge=1, le=20)


class Deployment(_Model):
    """A deployment's forms file: its name, reply languages and forms."""

    deployment: str = Field(min_length=1)
    languages: list[Language] = Field(min_length=1)
    observer_id: ObserverIdRule = Field(default_factory=ObserverIdRule)
    forms: list[Form] = Field(min_length=1)
    # Stations in each stratum of the whole country, for a roster that holds only the sample.
    strata: dict[str, int] = Field(default_factory=dict)

    @cached_property
    def by_code(self) -> dict[str, Form]:
        """Forms by code (upper case); treat as read-only."""
        return {form.code: form for form in self.forms}

    def form(self, code: str) -> Form | None:
        """The form with ``code`` (upper case), if there is one."""
        return self.by_code.get(code)

    @property
    def default_language(self) -> str:
        """The language of replies to observers whose own language is not known."""
        return self.languages[0]

    @property
    def content_hash(self) -> str:
        """SHA-256 of the definitions, stable across formatting and comments in the file."""
        definition = self.model_dump(mode="json")
        # Fields added later are left out while unset, so that stored hashes stay valid.
        if not definition["strata"]:
            del definition["strata"]
        for form in definition["forms"]:
            if form["results"] is None:
                del form["results"]
        canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_forms(text: str, source: str = "forms file") -> Deployment:
    """Validate a forms file's text; raise ``FormsError`` with every problem found."""
    document = read_yaml(text)
    if document.problems:
        raise FormsError(document.problems, source)
    if not isinstance(document.data, dict):
        raise FormsError(
            [FormsProblem("", "should be a mapping starting with 'deployment:'")], source
        )
    try:
        deployment = Deployment.model_validate(document.data)
    except ValidationError as exc:
        problems = [_located(document, error) for error in exc.errors(include_url=False)]
        raise FormsError(problems, source) from exc
    problems = [
        FormsProblem(location, message, document.line_of(location))
        for location, message in _semantic_problems(deployment)
    ]
    if problems:
        raise FormsError(problems, source)
    return deployment


def _semantic_problems(deployment: Deployment) -> Iterator[tuple[str, str]]:
    yield from _shape_problems(deployment)
    yield from reply_problems(deployment)


def _shape_problems(deployment: Deployment) -> Iterator[tuple[str, str]]:
    if len(set(deployment.languages)) != len(deployment.languages):
        yield "languages", "a language is listed twice"
    rule = deployment.observer_id
    if rule.min_digits > rule.max_digits:
        yield "observer_id", "min_digits should not be larger than max_digits"
    for stratum, size in deployment.strata.items():
        if size < 1:
            yield f"strata.{stratum}", f"should be the number of stations in {stratum}, 1 or more"
    seen: dict[str, int] = {}
    for index, form in enumerate(deployment.forms):
        where = f"forms[{index}]"
        if form.code in seen:
            yield f"{where}.code", f"{form.code} is already the code of forms[{seen[form.code]}]"
        seen.setdefault(form.code, index)
        yield from _form_problems(form, where)


def _form_problems(form: Form, where: str) -> Iterator[tuple[str, str]]:
    tags: dict[str, int] = {}
    for index, question in enumerate(form.questions):
        at = f"{where}.questions[{index}]"
        if question.tag in tags:
            yield f"{at}.tag", f"{question.tag} is already used by questions[{tags[question.tag]}]"
        tags.setdefault(question.tag, index)
        yield from _question_problems(question, at)
    for index, check in enumerate(form.checks):
        missing = [tag for tag in check.expr.tags if tag not in tags]
        if missing:
            known = ", ".join(tags)
            yield (
                f"{where}.checks[{index}].expr",
                f"uses {', '.join(missing)}, which form {form.code} does not have "
                f"(its tags: {known})",
            )
        reserved = sorted(set(check.expr.tags) & KEYWORDS)
        if reserved:
            yield f"{where}.checks[{index}].expr", f"{reserved[0]} is a keyword, not a tag"
    if form.results is not None:
        yield from _results_problems(form, form.results, f"{where}.results")


def _results_problems(form: Form, results: Results, where: str) -> Iterator[tuple[str, str]]:
    if form.kind != "checklist":
        yield where, "only a checklist form has results (one count per station)"
    seen: dict[str, str] = {}
    for role, tag in results.named_tags:
        at = f"{where}.{role}"
        question = form.question(tag)
        if tag in seen:
            yield at, f"{tag} is already listed as results.{seen[tag]}"
        elif question is None:
            known = ", ".join(form.by_tag)
            yield at, f"{tag} is not a question of form {form.code} (its tags: {known})"
        elif question.type != "integer":
            yield at, f"{tag} is a {question.type} question; results need integer questions"
        seen.setdefault(tag, role)


def _question_problems(question: Question, at: str) -> Iterator[tuple[str, str]]:
    if question.type == "integer":
        if question.options:
            yield f"{at}.options", "an integer question has no options (use min and max)"
        if question.lowest < 0:
            yield f"{at}.min", "should be 0 or more: an SMS cannot carry a minus sign"
        if question.highest > INTEGER_LIMIT:
            yield f"{at}.max", f"should be at most {INTEGER_LIMIT:,}"
        if question.lowest > question.highest:
            yield f"{at}.min", f"{question.lowest} is larger than max ({question.highest})"
        return
    if not question.options:
        yield f"{at}.options", f"a {question.type} question needs options, like {{1: Yes, 2: No}}"
    for bound in ("min", "max"):
        if getattr(question, bound) is not None:
            yield f"{at}.{bound}", f"only integer questions have {bound}; this is a {question.type}"


_FRIENDLY = {
    "missing": "is missing",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "bool_parsing": "should be true or false",
    "list_type": "should be a list (lines starting with '- ', or [a, b])",
    "dict_type": "should be a mapping (key: value lines)",
    "model_type": "should be a mapping (key: value lines)",
    "string_type": "should be text",
    "too_short": "should not be empty",
}


def _located(document: YamlDocument, error: ErrorDetails) -> FormsProblem:
    location = _location(error["loc"])
    return FormsProblem(location, _sentence(error), document.line_of(location))


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for previous, part in zip((None, *loc), loc, strict=False):
        if part == "[key]":
            continue
        if isinstance(part, int) and previous != "options":  # option codes are keys, not indexes
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts)


def _sentence(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(error["loc"][:-1])
        return f"unknown field; the fields here are: {allowed}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"should be one of {expected}, not {error['input']!r}"
    message = _FRIENDLY.get(kind, str(error["msg"]))
    found = error.get("input")
    if kind != "missing" and isinstance(found, str) and len(found) <= 40:
        return f"{message}, not {found!r}"
    return message


def _allowed_fields(parent: tuple[int | str, ...]) -> str:
    models: dict[str, type[BaseModel]] = {
        "forms": Form,
        "questions": Question,
        "checks": Check,
        "observer_id": ObserverIdRule,
        "results": Results,
    }
    model: type[BaseModel] = Deployment
    for part in parent:
        if isinstance(part, str):
            model = models.get(part, model)
    return ", ".join(model.model_fields)
