"""A non-editable build ships the Alembic migrations (and every other package file), and the built
package can create and migrate a study database from its own copy of them.

The wheel is built with ``pip wheel --no-deps --no-build-isolation`` from a copy of the source
tree (so nothing is written into the checkout). Where the environment cannot build wheels
(``bdist_wheel`` missing: no ``wheel`` package and setuptools < 70.1), the test falls back to
setuptools' ``build`` command, whose ``build/lib`` is exactly what a wheel's purelib holds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import radiotrial

PKG = Path(radiotrial.__file__).parent
ROOT = PKG.parent.parent
pytestmark = pytest.mark.slow


def _package_files(top: Path) -> set[str]:
    """Paths (relative to ``top``'s parent) of every file of the package, caches excluded."""
    return {str(p.relative_to(top.parent)) for p in top.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def _build(tmp: Path) -> tuple[str, Path]:
    """Build the package from a copy of the tree; returns (how, folder holding ``radiotrial/``)."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not running from a source checkout")
    src = tmp / "src-copy"
    shutil.copytree(ROOT / "src", src / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp / "wheel"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(out), str(src)],
                         capture_output=True, text=True, timeout=300)
    wheels = list(out.glob("radiotrial-*.whl"))
    if res.returncode == 0 and wheels:
        target = tmp / "unpacked"
        with zipfile.ZipFile(wheels[0]) as z:
            z.extractall(target)
        return "wheel", target
    if "bdist_wheel" not in res.stdout + res.stderr:
        pytest.fail(f"pip wheel failed:\n{res.stdout}\n{res.stderr}")
    res = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                          "build", "--build-base", str(tmp / "build")],
                         cwd=src, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return "build_py", tmp / "build" / "lib"


def test_built_package_ships_migrations_and_runs_them(tmp_path):
    how, lib = _build(tmp_path)
    built = _package_files(lib / "radiotrial")
    migrations = {f for f in _package_files(PKG) if "/store/migrations/" in f}
    assert {"radiotrial/store/migrations/env.py", "radiotrial/store/migrations/script.py.mako",
            "radiotrial/store/migrations/versions/0001_initial.py"} <= migrations
    assert migrations <= built, f"{how}: missing {sorted(migrations - built)}"
    missing = _package_files(PKG) - built
    assert not missing, f"{how}: package files not shipped (package-data?): {sorted(missing)}"

    # the built copy, alone on the path, migrates a new database to the newest revision
    code = ("import radiotrial, sys; from radiotrial.store.service import StudyStore; "
            "from radiotrial.store.engine import current_revision, head_revision; "
            f"s = StudyStore({str(tmp_path / 'w.db')!r}); "
            "print(radiotrial.__file__); print(current_revision(s.engine), head_revision())")
    res = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(lib)!r}); " + code],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    where, revs = res.stdout.split("\n")[:2]
    assert where.startswith(str(lib)), where
    current, head = revs.split()
    assert current == head != "None"
