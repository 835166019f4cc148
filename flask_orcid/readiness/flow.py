"""The researcher's journey through the site, as the check's test user: the authorize request,
a denial, a connection, a second visit, the prefilled form and the disconnect. Each step
answers the checklist points it shows (redirect URI, scopes, deny path, single-use state,
stored tokens, token reuse, prefill, disconnect).

Against the emulator the test researcher answers ORCID's screens; elsewhere the denial is the
one ORCID sends (``error=access_denied``, API-FACTS §2.2) and the steps that need ORCID's
real screens are left to the reviewer (``manual``).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..i18n import gettext as _
from .context import CheckRun, query_of
from .html_inspect import form_fields, links, links_to
from .model import FAIL, MANUAL, PASS
from .site import Page
from .stored import judge_stored_tokens

__all__ = ["connect", "deny", "disconnect", "fresh_account", "judge_authorize_request",
           "start_connect"]

#: What a thesis repository needs: the iD, reading the record to prefill, adding the thesis
#: and the degree (API-FACTS §3, §12). ``openid`` stands in for ``/authenticate``.
NEEDED_SCOPES = ("/authenticate", "openid", "/read-limited", "/activities/update")
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def fresh_account(run: CheckRun) -> Any:
    """The test user's connection as the database holds it now (a new transaction)."""
    run.ext.db.session.rollback()
    return run.ext.get_account(run.targets.user_key) if run.targets.user_key else None


def start_connect(run: CheckRun) -> Page:
    """``GET /orcid/connect?next=…`` as the signed-in test user; keeps the authorize URL."""
    page = run.site.get(f"{run.urls.connect}?next={quote(run.next_url, safe='')}")
    if page.is_redirect and page.location.startswith(run.endpoints.registry):
        run.authorize_url = page.location
        run.authorize_query = query_of(page.location)
    return page


def judge_authorize_request(run: CheckRun, page: Page) -> None:
    """redirect-https and minimal-scopes, from the authorize URL the site built."""
    if not run.authorize_url:
        reason = _("/orcid/connect did not send the browser to ORCID (HTTP %(status)s), so the "
                   "authorize request could not be read.", status=page.status)
        run.add("redirect-https", FAIL, reason)
        run.add("minimal-scopes", FAIL, reason)
        return
    _judge_redirect_uri(run, run.authorize_query.get("redirect_uri", ""))
    _judge_scopes(run, run.authorize_query.get("scope", "").split())


def _judge_redirect_uri(run: CheckRun, uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme == "https":
        run.add("redirect-https", PASS, _("The redirect URI is %(uri)s.", uri=uri))
    elif run.environment == "emulator" and parts.hostname in LOOPBACK:
        run.add("redirect-https", PASS, _(
            "The redirect URI is %(uri)s: plain HTTP on this computer, which is how the local "
            "demo runs against the emulator. ORCID registers only HTTPS redirect URIs, so "
            "serve the reviewed site over HTTPS and run the check with ORCID_EXTERNAL_URL "
            "set to its https:// address.", uri=uri))
    elif not uri:
        run.add("redirect-https", FAIL, _("The authorize request carries no redirect_uri."))
    else:
        run.add("redirect-https", FAIL, _(
            "The redirect URI %(uri)s is not HTTPS; ORCID accepts only HTTPS redirect URIs. "
            "Serve the site over HTTPS (behind a proxy, trust its X-Forwarded-Proto) and "
            "register https://%(host)s%(path)s.", uri=uri, host=parts.netloc, path=parts.path))


def _judge_scopes(run: CheckRun, scopes: list[str]) -> None:
    extra = [s for s in scopes if s not in NEEDED_SCOPES]
    if not scopes:
        run.add("minimal-scopes", FAIL, _("The authorize request asks for no scope."))
    elif extra:
        run.add("minimal-scopes", FAIL, _(
            "The site asks for %(extra)s beyond what a thesis repository needs (/read-limited "
            "to prefill forms, /activities/update to add the thesis and the degree, "
            "/authenticate or openid for the iD alone). Remove it from ORCID_SCOPES.",
            extra=", ".join(extra)))
    else:
        run.add("minimal-scopes", PASS, _("The site asks for %(scopes)s and nothing else.",
                                          scopes=" ".join(scopes)))


def deny(run: CheckRun, browser: requests.Session) -> None:
    """deny-path and state-single-use: a denial, the page it leads to, the same answer again."""
    if not run.authorize_url:
        return
    state = run.authorize_query.get("state", "")
    if run.emulator is not None:
        callback = run.emulator.answer(browser, run.authorize_url, approve=False)
        how = _("the test researcher pressed Deny on the emulator's consent screen")
    else:
        callback = run.urls.callback + "?" + urlencode(
            {"error": "access_denied", "error_description": "User denied access",
             "state": state})
        how = _("the check sent the answer ORCID sends after a denial")
    path = run.site.path_of(callback)
    if path is None:
        run.add("deny-path", FAIL, _("After the denial ORCID sent the browser to %(url)s, "
                                     "which is not this site.", url=callback))
        return
    page = run.pages["denied"] = run.site.get(path)
    _judge_denial(run, page, how)
    replay = run.site.get(path)
    unknown = run.site.get(f"{run.urls.callback}?state={secrets.token_urlsafe(16)}")
    run.pages["error"] = unknown
    if replay.status < 400 or unknown.status < 400:
        run.add("state-single-use", FAIL, _(
            "The same answer from ORCID was accepted twice (HTTP %(replay)s) or an unknown "
            "state was accepted (HTTP %(unknown)s).", replay=replay.status,
            unknown=unknown.status))
    else:
        run.pages["state"] = _(
            "A second use of the denial's state was refused (HTTP %(replay)s), and so was an "
            "unknown state (HTTP %(unknown)s).", replay=replay.status, unknown=unknown.status)


def _judge_denial(run: CheckRun, page: Page, how: str) -> None:
    retry = links_to(page.doc, run.urls.connect)
    others = [a for a in links(page.doc) if a not in retry]
    stored = fresh_account(run)
    if page.status != 200 or not retry or not others or stored is not None:
        run.add("deny-path", FAIL, _(
            "After a denial (%(how)s) the site answered HTTP %(status)s with %(retry)d link(s) "
            "to try again and %(others)d other link(s)%(stored)s. ORCID asks for a page that "
            "explains ORCID and offers to grant the permission again.", how=how,
            status=page.status, retry=len(retry), others=len(others),
            stored=_(", and stored a connection") if stored is not None else ""))
        return
    run.add("deny-path", PASS, _(
        "After a denial (%(how)s) the site shows an explanation with a link to try again and "
        "a way to carry on without ORCID; nothing was stored.", how=how))


def connect(run: CheckRun, browser: requests.Session) -> bool:
    """Authorize as the test researcher; judges the stored tokens, the single-use state of a
    success, token reuse and the prefilled form. True when the site is connected."""
    start_connect(run)
    if run.emulator is None or not run.authorize_url:
        for point in ("tokens-encrypted", "token-reuse", "prefill"):
            run.add(point, MANUAL, _("Needs ORCID's sign-in screen, which only a person can "
                                     "answer outside the emulator: show it to the reviewer."))
        judge_stored_tokens(run, None)
        return False
    callback = run.emulator.answer(browser, run.authorize_url, approve=True)
    path = run.site.path_of(callback) or callback
    answer = run.site.get(path)
    account = fresh_account(run)
    if account is None or account.orcid != run.emulator.researcher.get("orcid"):
        run.add("tokens-encrypted", FAIL, _(
            "After the test researcher authorized, the site answered HTTP %(status)s and "
            "stored no connection.", status=answer.status))
        return False
    run.orcid, run.token = account.orcid, account.access_token
    judge_stored_tokens(run, account)
    _judge_success_replay(run, path, account.access_token)
    again = start_connect(run)
    if again.is_redirect and run.site.path_of(again.location) == run.site.path_of(run.next_url):
        run.add("token-reuse", PASS, _("Once connected, the connect button goes straight on to "
                                       "%(url)s without asking ORCID again.", url=run.next_url))
    else:
        run.add("token-reuse", FAIL, _("A connected researcher who presses connect again is "
                                       "sent to ORCID again (HTTP %(status)s to %(to)s).",
                                       status=again.status, to=again.location))
    _judge_prefill(run)
    return True


def _judge_success_replay(run: CheckRun, path: str, token: str) -> None:
    """The success callback opened in another browser must be refused, and spend nothing."""
    browser = run.site.fresh()
    other = browser.get(path)
    if other.is_redirect and run.site.path_of(other.location) == run.urls.callback:
        other = browser.get(other.location)  # the refusal is shown at the bare callback URL
    account = fresh_account(run)
    unchanged = account is not None and account.access_token == token
    earlier = run.pages.get("state")
    if other.status >= 400 and unchanged and earlier:
        run.add("state-single-use", PASS, f"{earlier} " + _(
            "The successful answer opened again in another browser was refused too (HTTP "
            "%(status)s), and the stored token did not change.", status=other.status))
    else:
        run.add("state-single-use", FAIL, _(
            "The successful answer from ORCID, opened again in another browser, got HTTP "
            "%(status)s%(changed)s.", status=other.status,
            changed="" if unchanged else _(" and replaced the stored token")))


def _judge_prefill(run: CheckRun) -> None:
    if not run.targets.form_page or run.emulator is None:
        run.add("prefill", MANUAL, _("No form page was given to the check (CheckTargets."
                                     "form_page); show the prefilled form to the reviewer."))
        return
    family = str(run.emulator.researcher.get("family_name") or "")
    page = run.site.get(run.targets.form_page)
    values = [str(i.get("value") or "") for i in page.doc.iter("input")]
    values += [t.text or "" for t in page.doc.iter("textarea")]
    if page.status == 200 and any(family and family in v for v in values):
        run.add("prefill", PASS, _("The form at %(url)s is filled in with the name on the "
                                   "ORCID record (%(name)s).", url=run.targets.form_page,
                                   name=family))
    else:
        run.add("prefill", FAIL, _("The form at %(url)s (HTTP %(status)s) does not show the "
                                   "name on the ORCID record (%(name)s).",
                                   url=run.targets.form_page, status=page.status, name=family))


def disconnect(run: CheckRun) -> None:
    """disconnect-revokes: the confirm page, its button, then ORCID's and our side."""
    if run.emulator is None or run.orcid is None or run.token is None:
        run.add("disconnect-revokes", MANUAL, _(
            "Needs a connection made on ORCID's screens: disconnect in front of the reviewer "
            "and show that the site lists nothing afterwards."))
        return
    confirm = run.site.get(run.urls.confirm_disconnect)
    page = run.pages["disconnected"] = run.site.post(
        run.urls.disconnect, form_fields(confirm.doc, run.urls.disconnect))
    account = fresh_account(run)
    items = run.ext.items_for(run.targets.user_key) if run.targets.user_key else []
    status = run.emulator.token_works(run.orcid, run.token)
    run.token = None
    if page.status != 200 or account is not None or items or status != 401:
        run.add("disconnect-revokes", FAIL, _(
            "After the disconnect button (HTTP %(page)s) the site still holds %(left)s, and "
            "ORCID answers HTTP %(status)s to the old token (401 expected).", page=page.status,
            left=_("the connection") if account is not None else _("%(n)d item(s)",
                                                                 n=len(items)),
            status=status))
        return
    run.add("disconnect-revokes", PASS, _(
        "The disconnect button deleted the connection and everything stored for it, and ORCID "
        "now refuses the old token (HTTP 401)."))
