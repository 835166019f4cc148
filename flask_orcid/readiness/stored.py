"""tokens-encrypted: what the site keeps from ORCID's token exchange, read from the database
as it is on disk (the raw columns), not through the model that decrypts them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..i18n import gettext as _
from ..state import get_state
from ..sync.crypto import TokenDecryptionError
from .context import CheckRun
from .model import FAIL, MANUAL, PASS

__all__ = ["judge_stored_tokens"]


def _raw(run: CheckRun, account_ids: list[int]) -> list[tuple[Any, ...]]:
    table = run.ext.models.Account.__table__
    query = sa.select(table.c.id, table.c.access_token, table.c.refresh_token).where(
        table.c.id.in_(account_ids))
    return [tuple(row) for row in run.ext.db.session.execute(query)]


def _encrypted(run: CheckRun, account: Any, raw_access: str, raw_refresh: str | None) -> bool:
    """The raw values are ciphertexts of this site's key, and hold no plaintext token."""
    try:
        plain_access, plain_refresh = account.access_token, account.refresh_token
    except TokenDecryptionError:
        return False
    pairs = [(raw_access, plain_access)] + ([(raw_refresh, plain_refresh)] if raw_refresh else [])
    return all(plain and raw != plain and plain not in raw for raw, plain in pairs)


def _accounts(run: CheckRun, account: Any) -> list[Any]:
    if account is not None:
        return [account]
    models = run.ext.models
    return list(run.ext.db.session.scalars(sa.select(models.Account).limit(20)))


def judge_stored_tokens(run: CheckRun, account: Any) -> None:
    """The check's own connection when it made one, else (outside the emulator) up to 20 of
    the site's stored connections."""
    accounts = _accounts(run, account)
    if not accounts:
        run.add("tokens-encrypted", MANUAL, _("The site holds no connection yet: connect one "
                                              "iD and run the check again."))
        return
    raw = {row[0]: row for row in _raw(run, [a.id for a in accounts])}
    plain = [a for a in accounts if not _encrypted(run, a, raw[a.id][1], raw[a.id][2])]
    missing = [a.orcid for a in accounts if not (a.orcid and a.scopes and a.expires_at)]
    if plain or missing:
        run.add("tokens-encrypted", FAIL, _(
            "%(plain)d stored connection(s) hold a token that is not encrypted with the site's "
            "key, and %(missing)d lack the iD, the scopes or the expiry of the token exchange.",
            plain=len(plain), missing=len(missing)))
        return
    note = ""
    if get_state(run.app).key_derived_from_secret:
        if run.environment == "production":
            run.add("tokens-encrypted", FAIL, _(
                "Tokens are encrypted with a key derived from SECRET_KEY: set ORCID_TOKEN_KEYS "
                "to a key of its own before going to production."))
            return
        note = " " + _("(The key is derived from SECRET_KEY; production needs ORCID_TOKEN_KEYS.)")
    run.add("tokens-encrypted", PASS, _(
        "The site stores the iD, the scopes, the expiry and both tokens of the token exchange; "
        "in the database the tokens are ciphertext (checked on %(n)d connection(s)).",
        n=len(accounts)) + note)
