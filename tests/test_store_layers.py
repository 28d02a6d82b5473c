"""Layer rule of ARCHITECTURE.md ("Dependencies point down only"), enforced on the source.

Every ``import`` / ``from … import`` of every module is parsed with :mod:`ast` — module level,
inside functions, under ``TYPE_CHECKING``, relative or absolute — plus
``importlib.import_module("…")`` calls with a literal name, and checked against the rules below.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import radiotrial

SRC = Path(radiotrial.__file__).parent
ENGINES = ("stats", "criteria", "physics", "protocol")

#: package → radiotrial subpackages (and third-party top-level modules) it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{e: ("radiotrial.store", "radiotrial.study", "radiotrial.report", "radiotrial.cli",
           "radiotrial.web",
           # engines are pure: no database, no command line (ARCHITECTURE.md, Layers)
           "sqlalchemy", "alembic", "typer", "rich") for e in ENGINES},
    "store": ("radiotrial.study", "radiotrial.report", "radiotrial.cli", "radiotrial.web"),
    "report": ("radiotrial.cli", "radiotrial.web"),
}


def _module_parts(path: Path) -> list[str]:
    """``radiotrial/store/audit.py`` → ``['radiotrial', 'store', 'audit']`` (package for __init__)."""
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of everything ``path`` imports, anywhere in the file.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule); relative imports
    are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = _module_parts(path)
    package = parts if path.name == "__init__.py" else parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{a.name}") for a in node.names if a.name != "*"]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module",
                                                                            "__import__")))):
            found.append((node.lineno, node.args[0].value))
    return found


def _violates(name: str, forbidden: tuple[str, ...]) -> str | None:
    for f in forbidden:
        if name == f or name.startswith(f + "."):
            return f
    return None


def layer_violations() -> list[str]:
    """Every forbidden import in the package, as ``file:line imports name (rule)``."""
    out = []
    for pkg, forbidden in FORBIDDEN.items():
        for path in sorted((SRC / pkg).rglob("*.py")):
            for line, name in imported_modules(path):
                hit = _violates(name, forbidden)
                if hit:
                    out.append(f"{path.relative_to(SRC.parent)}:{line} imports {name} "
                               f"({pkg} must not import {hit})")
    return out


def test_packages_under_rule_exist():
    for pkg in FORBIDDEN:
        assert (SRC / pkg / "__init__.py").is_file(), pkg


def test_dependencies_point_down_only():
    problems = layer_violations()
    assert not problems, "layer rule broken (ARCHITECTURE.md, Layers):\n" + "\n".join(problems)


def test_data_dictionary_lives_in_the_store_layer():
    from radiotrial.store import dictionary

    assert dictionary.BY_NAME["subject"].key == ("subject_id",)
    assert not (SRC / "study" / "dictionary.py").exists(), "no shim: the dictionary moved to store"


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from radiotrial.study import load\n", "radiotrial.study.load"),
    ("import radiotrial.cli.main as m\n", "radiotrial.cli.main"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..study.load import X\n",
     "radiotrial.study.load.X"),
    ("from .. import report\n", "radiotrial.report"),
    ("import importlib\nimportlib.import_module('radiotrial.study.derive')\n",
     "radiotrial.study.derive"),
])
def test_the_scanner_sees_every_form_of_import(tmp_path, monkeypatch, source, expected):
    """The checker itself can fail: function-level, TYPE_CHECKING, relative and dynamic imports."""
    fake = tmp_path / "radiotrial" / "store" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "radiotrial")
    names = [n for _, n in imported_modules(fake)]
    assert expected in names
    assert any(_violates(n, FORBIDDEN["store"]) for n in names)
