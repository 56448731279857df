"""The package graph is one-way (tests/layering.py draws it)."""

from __future__ import annotations

from pathlib import Path

from tests.layering import ALLOWED, violations


def test_no_import_crosses_a_layer_the_wrong_way() -> None:
    assert [str(v) for v in violations()] == []


def test_every_project_package_has_a_place_in_the_graph() -> None:
    root = Path(__file__).resolve().parent.parent
    packages = {path.parent.name for path in root.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= set(ALLOWED)


def test_an_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    for package in ALLOWED:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "store" / "bad.py").write_text("def f():\n    from api.app import create_app\n")
    (tmp_path / "parser" / "bad.py").write_text("import modem.pdu\n")
    (tmp_path / "gateway" / "bad.py").write_text("from api import create_app\n")
    (tmp_path / "api" / "bad.py").write_text("from gateway.service import Gateway\n")
    (tmp_path / "api" / "fine.py").write_text("from store.db import Database\nimport parser\n")

    found = {(v.importer, v.imported, v.line) for v in violations(tmp_path)}

    assert found == {
        ("store", "api.app", 2),
        ("parser", "modem.pdu", 1),
        ("gateway", "api", 1),
        ("api", "gateway.service", 1),
    }


def test_nothing_below_the_composition_root_imports_it() -> None:
    assert all("cli" not in allowed for package, allowed in ALLOWED.items() if package != "cli")
