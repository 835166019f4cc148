"""``make demo`` (``python -m example_repository.demo``): two real servers, the accounts
printed, Ctrl-C stops both (issue 6)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.plugins.example import csrf_token

ROOT = Path(__file__).resolve().parent.parent


def test_demo_serves_the_repository_and_the_emulator(tmp_path: Path) -> None:
    env = dict(os.environ, REPOSITORY_INSTANCE_PATH=str(tmp_path / "instance"),
               PYTHONUNBUFFERED="1")
    # port 0: any free port (the demo prefers 5000/5001 and falls back when they are taken)
    process = subprocess.Popen(
        [sys.executable, "-m", "example_repository.demo", "--port", "0", "--emulator-port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops both servers" in line:
                break
        text = "".join(output)
        repo_url = re.search(r"Repository:\s+(http://127\.0\.0\.1:\d+)/", text).group(1)
        emulator_url = re.search(r"ORCID emulator:\s+(http://127\.0\.0\.1:\d+)/", text).group(1)
        assert "admin@example.edu" in text and "josiah@example.edu" in text
        assert "carberry-1" in text and "0000-0002-1825-0097" in text  # seeded researcher
        assert (tmp_path / "instance" / "repository.sqlite").is_file()
        assert (tmp_path / "instance" / "uploads").is_dir()

        home = requests.get(f"{repo_url}/", timeout=10)
        assert home.status_code == 200 and "Thesis Repository" in home.text
        browse = requests.get(f"{repo_url}/theses", timeout=10).text
        assert "Cartografía de la memoria urbana" in browse  # sample theses to browse
        # the demo student can log in, and connecting goes to the emulator over HTTP
        http = requests.Session()
        page = http.get(f"{repo_url}/account/login", timeout=10).text
        token = csrf_token(page)
        http.post(f"{repo_url}/account/login", timeout=10, data={
            "csrf_token": token, "email": "josiah@example.edu", "password": "student-1"})
        connect = http.get(f"{repo_url}/orcid/connect?next=/submit/form", timeout=10,
                           allow_redirects=False)
        assert connect.headers["Location"].startswith(f"{emulator_url}/oauth/authorize?")
        assert requests.get(f"{emulator_url}/_emulator/researchers", timeout=10).ok
        # ORCID's screens call the demo client by the repository's own name
        clients = requests.get(f"{emulator_url}/_emulator/clients", timeout=10).json()
        [demo] = [c for c in clients if c["client_id"] == "APP-DEMO000000000001"]
        assert demo["name"] == "Graduate School Thesis Repository"
        # the sample theses' authors are connected: an authenticated iD on a landing page,
        # linking to the emulator's public record page
        landing = requests.get(f"{repo_url}/theses/1", timeout=10).text
        match = re.search(r'id="author-orcid".*?href="([^"]+)"', landing, re.S)
        assert match and re.fullmatch(rf"{emulator_url}/\d{{4}}-\d{{4}}-\d{{4}}-\d{{3}}[\dX]",
                                      match.group(1)), landing[:2000]
        # the CLI in another terminal reaches the same emulator and tokens with no variables
        cli_env = {k: v for k, v in env.items() if not k.startswith("ORCID_")}
        for command in (["orcid", "status"], ["orcid", "deliver"], ["orcid", "sync"]):
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "example_repository", *command],
                cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, (command, result.stdout, result.stderr)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, rest
    assert "Stopped the repository and the ORCID emulator." in rest
    # both ports are free again
    for url in (repo_url, emulator_url):
        try:
            requests.get(url, timeout=2)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"{url} still answers after Ctrl-C")
