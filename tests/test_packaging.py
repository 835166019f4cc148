"""A clean wheel (issue 10): ``pip wheel .`` prints no packaging warning, and the wheel holds
the whole flask_orcid package (templates, static files, translations, migrations, ``py.typed``,
the emulator's templates) and nothing of the sample repository, which runs from the checkout.

The wheel is built from a copy of the checkout, offline (``--no-build-isolation``: the
setuptools and wheel of the test environment), so parallel runs never share a ``build/``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what never goes into a build: local state, caches, earlier builds
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".*_cache", "test-artifacts", ".import_linter_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the wheel, everything pip printed while building it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # --isolated: no pip configuration or PIP_* variables of this machine; --no-index: offline
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "wheel", str(source), "--no-deps",
         "--no-build-isolation", "--no-index", "-w", str(tmp / "dist")],
        capture_output=True, text=True, timeout=120, cwd=tmp,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    (built,) = (tmp / "dist").glob("flask_orcid-*.whl")
    return built, output


def test_building_the_wheel_prints_no_warning(wheel):
    _, output = wheel
    noisy = [line for line in output.splitlines()
             if "warn" in line.lower() or "deprecat" in line.lower()]
    assert not noisy, "\n".join(noisy)


def test_the_wheel_holds_the_whole_package_and_no_sample(wheel):
    built, _ = wheel
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
        top_level = next(archive.read(n).decode() for n in names
                         if n.endswith(".dist-info/top_level.txt"))
    source = {path.relative_to(ROOT).as_posix()
              for path in (ROOT / "flask_orcid").rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    packaged = {n for n in names if n.startswith("flask_orcid/")}
    assert packaged == source, (
        f"missing from the wheel: {sorted(source - packaged)}; "
        f"not in the source: {sorted(packaged - source)}")
    for needed in ("flask_orcid/py.typed",
                   "flask_orcid/templates/orcid/connection.html",
                   "flask_orcid/static/orcid/orcid.css",
                   "flask_orcid/translations/es/LC_MESSAGES/messages.mo",
                   "flask_orcid/sync/migrations/env.py",
                   "flask_orcid/sync/migrations/script.py.mako",
                   "flask_orcid/sync/migrations/versions/orcid_0001_tables_of_0_1_0.py",
                   "flask_orcid/emulator/templates/consent.html"):
        assert needed in names
    assert top_level.split() == ["flask_orcid"]
    assert not [n for n in names if n.startswith(("example_repository", "templates/",
                                                   "static/", "tests/"))]


def test_the_installed_wheel_migrates_from_its_own_files(wheel, tmp_path):
    """Unpacked (what installing a pure-Python wheel does) and imported outside the checkout:
    the migrations run from the installed package, and there is no sample repository."""
    built, _ = wheel
    site = tmp_path / "site"
    with zipfile.ZipFile(built) as archive:
        archive.extractall(site)
    script = (
        "import importlib.util, sqlalchemy as sa\n"
        "from flask_orcid.sync import migrate\n"
        f"assert str(migrate.MIGRATIONS_DIR).startswith({str(site)!r}), migrate.MIGRATIONS_DIR\n"
        "engine = sa.create_engine('sqlite://')\n"
        "with engine.begin() as conn:\n"
        "    migrate.upgrade(conn)\n"
        "    print(migrate.current(conn))\n"
        "spec = importlib.util.find_spec('example_repository')\n"
        f"print(spec is not None and spec.origin.startswith({str(site)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["orcid_0005", "False"]  # no sample from the wheel
