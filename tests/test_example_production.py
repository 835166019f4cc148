"""The README's production commands (issue 10, item 7): the sample repository served by gunicorn
(``gunicorn 'example_repository:create_app()'``, run from the checkout) and its flask-orcid
tables managed by ``flask orcid db``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent))


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, REPOSITORY_INSTANCE_PATH=str(tmp_path / "instance"),
                PYTHONUNBUFFERED="1")


def _flask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "example_repository", *args],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed (pip install '.[example]')")
def test_gunicorn_serves_the_sample_repository(tmp_path):
    # the README's order: the tables first (once), then the server's worker processes
    assert _flask(tmp_path, "init-db").stdout.strip() == "Database ready."
    process = subprocess.Popen(
        [GUNICORN, "--workers", "2", "--bind", "127.0.0.1:0", "example_repository:create_app()"],
        cwd=ROOT, env=_env(tmp_path), stderr=subprocess.PIPE, text=True,
    )
    try:
        url = None
        for line in process.stderr:  # gunicorn logs the address it bound, port included
            match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if match:
                url = match.group(1)
                break
        assert url, "gunicorn did not start"
        home = requests.get(f"{url}/", timeout=30)
        assert home.status_code == 200 and "Thesis Repository" in home.text
        assert requests.get(f"{url}/account/login", timeout=30).status_code == 200
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    assert _flask(tmp_path, "orcid", "db", "current").stdout.strip() == "orcid_0005 (head)"
