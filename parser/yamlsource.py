"""Reading a forms file's YAML so that every label comes out exactly as written.

YAML 1.1 loaders turn ``Yes``/``No``/``On`` into booleans, ``08:00`` and ``10:30`` into sexagesimal
integers and ``2027-04-01`` into dates; an observer group's labels are text. So every scalar is
read as the string that was written (PyYAML's ``BaseLoader`` resolves nothing), and the models in
``parser.forms`` convert the fields that really are numbers or booleans. Along the way the loader
records the line of every value (for error messages) and rejects duplicate keys, which YAML
loaders otherwise resolve silently by keeping the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from parser.errors import FormsProblem

__all__ = ["YamlDocument", "read_yaml"]

YamlValue = str | list["YamlValue"] | dict[str, "YamlValue"] | None


@dataclass(slots=True)
class YamlDocument:
    """The data of a YAML document (strings, lists, dicts) and the line of each location."""

    data: YamlValue
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[FormsProblem] = field(default_factory=list)
    open_nodes: set[int] = field(default_factory=set)  # guards against recursive aliases

    def line_of(self, location: str) -> int | None:
        """Line of ``location`` (``forms[0].questions[1]``) or of its nearest enclosing value."""
        while True:
            if location in self.lines:
                return self.lines[location]
            cut = max(location.rfind("."), location.rfind("["))
            if cut <= 0:
                return self.lines.get(location)
            location = location[:cut]


def read_yaml(text: str) -> YamlDocument:
    """Parse ``text``; syntax errors and duplicate keys are returned as ``problems``."""
    document = YamlDocument(None)
    try:
        node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        document.problems.append(_syntax_problem(exc, text))
        return document
    if node is not None:
        document.data = _construct(node, "", document)
    return document


def _construct(node: yaml.Node, location: str, document: YamlDocument) -> YamlValue:
    line = node.start_mark.line + 1
    document.lines.setdefault(location, line)
    if id(node) in document.open_nodes:
        document.problems.append(FormsProblem(location, "an alias refers to itself", line))
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        document.open_nodes.add(id(node))
        try:
            return _construct_collection(node, location, document)
        finally:
            document.open_nodes.discard(id(node))
    value = node.value
    # An empty plain scalar (``max:`` with nothing after it) means "not given".
    if isinstance(node, yaml.ScalarNode) and node.style is None and value in ("", "~", "null"):
        return None
    return str(value)


def _construct_collection(
    node: yaml.MappingNode | yaml.SequenceNode, location: str, document: YamlDocument
) -> YamlValue:
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(node, location, document)
    return [
        _construct(item, f"{location}[{index}]", document) for index, item in enumerate(node.value)
    ]


def _construct_mapping(
    node: yaml.MappingNode, location: str, document: YamlDocument
) -> dict[str, YamlValue]:
    mapping: dict[str, YamlValue] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            line = key_node.start_mark.line + 1
            document.problems.append(FormsProblem(location, "keys must be plain text", line))
            continue
        key = str(key_node.value)
        child = f"{location}.{key}" if location else key
        if key in mapping:
            line = key_node.start_mark.line + 1
            first = document.lines.get(child)
            document.problems.append(
                FormsProblem(child, f"'{key}' is given twice (first on line {first})", line)
            )
            continue
        document.lines[child] = key_node.start_mark.line + 1
        mapping[key] = _construct(value_node, child, document)
    return mapping


# Where PyYAML notices a mistake is often the line after it: it reads on to the next token.
# For these contexts the mark where the construct began is the mistake's line.
_STARTS_AT_CONTEXT = ("while scanning a simple key", "while parsing a flow")


# What PyYAML says, and what to do about it.
_HINTS = (
    ("could not find expected ':'", "a key needs ':' and a space after it, e.g. 'kind: checklist'"),
    ("'\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed here", "check the indentation, or put quotes around a "
     "text that contains ': '"),
    ("expected ',' or '}'", "a '{' is not closed with '}' on this line"),
    ("expected ',' or ']'", "a '[' is not closed with ']' on this line"),
    ("expected <block end>", "check the indentation of this line against the lines above"),
)  # fmt: skip


def _syntax_problem(exc: yaml.YAMLError, text: str) -> FormsProblem:
    lines = text.splitlines()
    problem = getattr(exc, "problem", None) or str(exc)
    line = _mistake_line(exc, lines)
    shown = lines[line - 1].rstrip() if line is not None and line <= len(lines) else ""
    hint = next((hint for found, hint in _HINTS if found in problem), "")
    if line is not None and _opens_a_quote(shown):
        hint = "a quote is opened and not closed on this line"
    message = f"not valid YAML: {hint} ({problem})" if hint else f"not valid YAML: {problem}"
    if line is None:
        return FormsProblem("", message, None)
    return FormsProblem("", f"{message}\n    {line:>4} | {shown}", line)


def _mistake_line(exc: yaml.YAMLError, lines: list[str]) -> int | None:
    """The 1-based line of the mistake, as a person would point at it."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = getattr(exc, "context", None) or ""
    if context_mark is not None and context.startswith(_STARTS_AT_CONTEXT):
        return int(context_mark.line) + 1
    if problem_mark is None:
        return None
    line = int(problem_mark.line) + 1
    first = int(context_mark.line) + 1 if context_mark is not None else 1
    # A quote left open swallows the lines after it; the mistake is the line that opened it.
    for number in range(line - 1, first - 1, -1):
        if _opens_a_quote(lines[number - 1]):
            return number
    return line


def _opens_a_quote(line: str) -> bool:
    """Whether ``line``'s value starts a quoted string it does not close."""
    _, colon, value = line.partition(": ")
    value = value.strip() if colon else line.strip().removeprefix("- ").strip()
    return value[:1] in ("'", '"') and (len(value) < 2 or value[-1] != value[0])
