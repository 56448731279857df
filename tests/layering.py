"""The package graph, one way: which project package may import which.

::

    cli                 the composition root: assembles processes; nothing imports it
     ├── gateway        the SMS pipeline: modems in, reports and replies out
     ├── api            the REST API: reads the store, never touches a modem
     │    (gateway and api never import each other)
     ├── estimates      the statistics of the random sample (pure)
     ├── store          the data layer (engine, sessions, models, queries, settings)
     │   └── migrations Alembic's revisions, frozen SQL; part of the data layer
     ├── modem          the modem drivers and emulator: knows nothing of the rest
     └── parser         the coded-checklist grammar: pure, knows nothing of the rest

Every import counts, also one inside a function. ``python -m tests.layering`` prints each
import that crosses a layer the wrong way and exits 1 (``make lint`` runs it).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ALLOWED", "Violation", "violations"]

ROOT = Path(__file__).resolve().parent.parent

ALLOWED: dict[str, frozenset[str]] = {
    "parser": frozenset(),
    "modem": frozenset(),
    "estimates": frozenset({"parser"}),
    "store": frozenset({"parser", "migrations"}),
    "migrations": frozenset({"store"}),
    "gateway": frozenset({"store", "parser", "modem"}),
    "api": frozenset({"store", "parser", "estimates"}),
    "cli": frozenset({"api", "gateway", "store", "parser", "modem", "estimates", "migrations"}),
}
"""For each project package, the other project packages it may import."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One import that crosses a layer the wrong way."""

    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.importer} imports {self.imported}, "
            f"which it may not (allowed: {', '.join(sorted(ALLOWED[self.importer])) or 'none'})"
        )


def violations(root: Path = ROOT) -> list[Violation]:
    """Every wrong-way import in the project packages under ``root``."""
    found: list[Violation] = []
    for package in ALLOWED:
        for path in sorted((root / package).rglob("*.py")):
            for line, imported in _imports(path):
                top = imported.split(".")[0]
                if top in ALLOWED and top != package and top not in ALLOWED[package]:
                    found.append(Violation(path.relative_to(root), line, package, imported))
    return found


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def main() -> int:
    """Print the violations; 1 if there are any."""
    found = violations()
    for violation in found:
        print(violation, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
