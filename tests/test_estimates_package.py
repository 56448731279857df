"""The estimates package stays pure, and its public surface is what ``__all__`` says."""

from __future__ import annotations

import ast
from pathlib import Path

import estimates

PACKAGE = Path(estimates.__file__).parent
# numpy and parser, and the standard library: nothing of the data layer, the gateway or the API.
ALLOWED = {"numpy", "parser", "estimates"}
STANDARD = {"__future__", "collections", "csv", "dataclasses", "datetime", "functools", "pathlib",
            "statistics", "typing"}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_estimates_imports_only_numpy_parser_and_the_standard_library() -> None:
    for module in PACKAGE.glob("*.py"):
        foreign = imported_roots(module) - ALLOWED - STANDARD
        assert not foreign, f"{module.name} imports {sorted(foreign)}"


def test_the_exported_names_are_sorted_and_all_exist() -> None:
    names = estimates.__all__
    # Constants, then classes, then functions, each alphabetical (ruff's RUF022 order).
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    for name in names:
        assert hasattr(estimates, name), name


def test_every_public_name_of_the_modules_is_exported() -> None:
    exported = set(estimates.__all__)
    for module in PACKAGE.glob("*.py"):
        if module.stem == "__init__":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
            ):
                declared = set(ast.literal_eval(node.value))
                assert declared <= exported, f"{module.name}: {sorted(declared - exported)}"
