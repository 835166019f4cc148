"""Configuration of the sample repository: defaults, then environment variables, then test overrides.

Everything ORCID-related is an ``ORCID_*`` key read from the environment, so the same code runs
against the local emulator, ORCID's sandbox or production by configuration alone.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask_orcid.config import DEFAULTS as ORCID_DEFAULTS

#: Credentials the emulator seeds (test data, not a secret). Used only when
#: ``ORCID_ENVIRONMENT`` is not set at all, i.e. a developer running the example locally.
EMULATOR_CLIENT_ID = "APP-DEMO000000000001"
EMULATOR_CLIENT_SECRET = "demo-secret-0001"

DEFAULTS: dict[str, object] = {
    "REPOSITORY_NAME": "Graduate School Thesis Repository",
    # 20.500.x is the handle.net prefix range for local handle servers; 10.5072 is DataCite's
    # test prefix, which never resolves. A school sets its own.
    "REPOSITORY_HANDLE_PREFIX": "20.500.99999",
    "REPOSITORY_DOI_PREFIX": "10.5072",
    # The degree-granting institution; the ROR id must be one ORCID (or the emulator) knows,
    # otherwise ORCID refuses education affiliations (API-FACTS §6, 400 / 9045).
    "REPOSITORY_INSTITUTION_NAME": "Brown University",
    "REPOSITORY_INSTITUTION_CITY": "Providence",
    "REPOSITORY_INSTITUTION_REGION": "RI",
    "REPOSITORY_INSTITUTION_COUNTRY": "US",
    "REPOSITORY_INSTITUTION_ROR": "https://ror.org/05gq02987",
    "REPOSITORY_SUPPORT_EMAIL": "etd-help@example.edu",
    "REPOSITORY_MAX_PDF_MB": 50,
    # The rights step: the licences offered, in order (codes of example_repository/licenses.py),
    # and where the distribution agreement's full text is (optional; its summary is on the form).
    "REPOSITORY_LICENSES": "cc-by-4.0,cc-by-sa-4.0,cc-by-nc-4.0,cc-by-nc-nd-4.0,cc0-1.0,"
                           "all-rights-reserved",
    "REPOSITORY_AGREEMENT_URL": "",
    "REPOSITORY_ALLOW_REGISTRATION": True,
    # Behind a reverse proxy (nginx, a PaaS router) that terminates HTTPS: trust its
    # X-Forwarded-Proto/Host so the ORCID redirect URI is built as https://your.host/...
    "REPOSITORY_BEHIND_PROXY": False,
    # The host names this site answers to (comma-separated; Flask's TRUSTED_HOSTS). Absolute
    # URLs are built from the Host header, so a request for any other host is refused. Set it
    # to your site's name (or set SERVER_NAME) when deploying.
    "REPOSITORY_TRUSTED_HOSTS": "localhost,127.0.0.1",
    # Login and registration throttling (example_repository/throttle.py). memory:// counts in
    # this process only (make demo); several processes share e.g. redis://127.0.0.1:6379.
    "REPOSITORY_RATELIMIT_STORAGE_URI": "memory://",
    "REPOSITORY_LOGIN_LIMITS_PER_ACCOUNT": "5/minute;20/hour",
    "REPOSITORY_LOGIN_LIMITS_PER_ADDRESS": "20/minute;100/hour",
    "REPOSITORY_REGISTER_LIMITS_PER_ADDRESS": "10/minute;30/hour",
    # The OAI-PMH endpoint (/oai, docs/exports.md): records per page, how long a resumption
    # token lasts, and the namespace of oai:<namespace>:etd/<id> identifiers (default: the
    # request's host name; set it to your site's name so identifiers never change).
    "REPOSITORY_OAI_PAGE_SIZE": 50,
    "REPOSITORY_OAI_TOKEN_HOURS": 24,
    "REPOSITORY_OAI_NAMESPACE": "",
    "LANGUAGES": ["en", "es"],
    "BABEL_DEFAULT_LOCALE": "en",
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
}

_REPOSITORY_PREFIXES = ("REPOSITORY_", "ORCID_")
_PLAIN_KEYS = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER", "PREFERRED_URL_SCHEME",
               "SESSION_COOKIE_SECURE", "SERVER_NAME")


def _cast(value: str, like: object) -> object:
    """Environment variables are strings; give them the type of the default they replace."""
    if isinstance(like, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def from_environment(environ: Mapping[str, str]) -> dict[str, object]:
    """Every ``ORCID_*`` / ``REPOSITORY_*`` variable, plus a few plain Flask keys."""
    known = {**ORCID_DEFAULTS, **DEFAULTS}
    out: dict[str, object] = {}
    for name, value in environ.items():
        if name.startswith(_REPOSITORY_PREFIXES) or name in _PLAIN_KEYS:
            like = known.get(name)
            out[name] = _cast(value, like) if like is not None else value
    if "SESSION_COOKIE_SECURE" in out:
        out["SESSION_COOKIE_SECURE"] = _cast(str(out["SESSION_COOKIE_SECURE"]), True)
    if "ORCID_ENVIRONMENT" not in out:
        # A developer running the example with no ORCID settings talks to the local emulator
        # with its seeded demo client; sandbox and production always need explicit settings.
        out.setdefault("ORCID_ENVIRONMENT", "emulator")
        out.setdefault("ORCID_CLIENT_ID", EMULATOR_CLIENT_ID)
        out.setdefault("ORCID_CLIENT_SECRET", EMULATOR_CLIENT_SECRET)
    return out


def secret_key(instance_path: str) -> str:
    """A persistent random key in the instance folder, for a repository run without SECRET_KEY."""
    path = Path(instance_path) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


#: Files ``make demo`` keeps in the instance folder, so that ``flask --app example_repository
#: orcid deliver|sync|status`` run in another terminal reach the same emulator and decrypt the
#: same tokens with no extra variables.
DEMO_TOKEN_KEY_FILE = "orcid_token_key"
DEMO_EMULATOR_URL_FILE = "emulator_url"


def demo_settings(instance_path: str, config: Mapping[str, object]) -> dict[str, object]:
    """What the running demo left in ``instance_path`` for settings ``config`` lacks (only
    against the emulator: sandbox and production always need explicit settings)."""
    if config.get("ORCID_ENVIRONMENT") != "emulator":
        return {}
    folder = Path(instance_path)
    out: dict[str, object] = {}
    key_file = folder / DEMO_TOKEN_KEY_FILE
    if not config.get("ORCID_TOKEN_KEYS") and key_file.is_file():
        out["ORCID_TOKEN_KEYS"] = key_file.read_text().strip()
    url_file = folder / DEMO_EMULATOR_URL_FILE
    if not config.get("ORCID_EMULATOR_URL") and url_file.is_file():
        out["ORCID_EMULATOR_URL"] = url_file.read_text().strip()
    return out
