"""What a visitor reads: the connect page's explanation and button, the iDs on public pages,
and the support contact on the pages that tell a researcher something went wrong."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..display import orcid_uri_for
from ..i18n import gettext as _
from .context import CheckRun
from .html_inspect import benefit_text, has_icon, id_displays, links_to, text_of
from .model import FAIL, PASS
from .site import Page

__all__ = ["authenticated_ids", "judge_benefits", "judge_display", "judge_support"]

#: Fewer words than this is a label, not an explanation of ORCID and its benefits.
MIN_BENEFIT_WORDS = 30


def authenticated_ids(run: CheckRun) -> set[str]:
    """Every iD the site collected through OAuth: its connections plus the host's own list."""
    run.ext.db.session.rollback()
    found = {str(o) for o in run.ext.db.session.scalars(sa.select(run.ext.models.Account.orcid))}
    return found | set(run.targets.authenticated_ids)


def judge_benefits(run: CheckRun) -> None:
    """benefit-text, on the connect page as the signed-in, not yet connected test user."""
    url = run.targets.connect_page or run.urls.connection
    page = run.site.get(url)
    buttons = [a for a in links_to(page.doc, run.urls.connect)
               if has_icon(a) and "ORCID" in text_of(a)]
    text = benefit_text(page.doc)
    words = len(text.split())
    if page.status != 200 or not buttons or words < MIN_BENEFIT_WORDS or "ORCID" not in text:
        run.add("benefit-text", FAIL, _(
            "The connect page %(url)s (HTTP %(status)s) has %(buttons)d ORCID-branded connect "
            "button(s) and %(words)d word(s) explaining ORCID. Explain what ORCID is and what "
            "connecting brings in a block marked data-orcid-benefits (at least %(min)d words), "
            "next to the button of orcid/macros.html.", url=url, status=page.status,
            buttons=len(buttons), words=words, min=MIN_BENEFIT_WORDS))
        return
    run.add("benefit-text", PASS, _(
        "The connect page %(url)s explains ORCID in %(words)d words and has the ORCID-branded "
        "connect button.", url=url, words=words))


def _page_problems(run: CheckRun, page: Page, known: set[str]) -> tuple[list[str], set[str]]:
    """Display problems of one page, and the authenticated iDs it shows in full."""
    problems: list[str] = []
    full: set[str] = set()
    for shown in id_displays(page.doc):
        uri = orcid_uri_for(shown.orcid)
        if shown.orcid not in known:
            if shown.icon:
                problems.append(_("%(orcid)s is not authenticated but carries the iD icon on "
                                  "%(url)s", orcid=shown.orcid, url=page.url))
        elif shown.icon and shown.href == uri and uri is not None and uri in shown.text:
            full.add(shown.orcid)
    for orcid in {s.orcid for s in id_displays(page.doc)} & known - full:
        problems.append(_("%(orcid)s is authenticated but never shown with the iD icon and its "
                          "full URI %(uri)s on %(url)s", orcid=orcid, uri=orcid_uri_for(orcid),
                          url=page.url))
    return problems, full


def judge_display(run: CheckRun, pages: list[Page]) -> None:
    """id-display over the host's public pages."""
    if not pages:
        run.add("id-display", FAIL, _("No public page was given to the check: list the pages "
                                      "that show iDs in CheckTargets.public_pages or "
                                      "ORCID_CHECK_URLS['public']."))
        return
    known = authenticated_ids(run)
    problems: list[str] = []
    full: set[str] = set()
    unauthenticated = 0
    for page in pages:
        if page.status != 200:
            problems.append(_("%(url)s answered HTTP %(status)s", url=page.url,
                              status=page.status))
            continue
        found, shown = _page_problems(run, page, known)
        problems += found
        full |= shown
        unauthenticated += len([s for s in id_displays(page.doc) if s.orcid not in known])
    if not full and not problems:
        problems.append(_("no authenticated iD is shown on the public pages"))
    if problems:
        run.add("id-display", FAIL, "; ".join(problems) + ".")
        return
    run.add("id-display", PASS, _(
        "%(n)d authenticated iD(s) shown with the iD icon and the full URI; %(u)d "
        "unauthenticated iD(s) shown without the icon (%(pages)d page(s)).", n=len(full),
        u=unauthenticated, pages=len(pages)))


def judge_support(run: CheckRun) -> None:
    """support-contact: ORCID_SUPPORT_EMAIL, on the denial page and on an error page."""
    email = run.app.config.get("ORCID_SUPPORT_EMAIL")
    pages: dict[str, Any] = {k: run.pages[k] for k in ("denied", "error") if k in run.pages}
    missing = [name for name, page in pages.items() if f"mailto:{email}" not in page.text]
    if not email:
        run.add("support-contact", FAIL, _("ORCID_SUPPORT_EMAIL is not set, so the extension's "
                                           "error pages name no one to write to."))
    elif missing or not pages:
        run.add("support-contact", FAIL, _("The %(pages)s page(s) do not show %(email)s.",
                                           pages=", ".join(missing) or "error", email=email))
    else:
        run.add("support-contact", PASS, _(
            "The denial page and the error page for a bad sign-in answer both give %(email)s.",
            email=email))
