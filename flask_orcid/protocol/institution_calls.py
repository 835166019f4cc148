"""The calls an institution makes beyond one researcher's items: search, the record summary,
and permission notifications. Mixed into :class:`~flask_orcid.protocol.client.ORCIDClient`, so
they share its transport (timeouts, retries, and the one rate budget per client id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import requests

from .endpoints import Endpoints
from .notifications import PermissionNotification, parse_notification, parse_notifications
from .paths import check_orcid, check_put_code, member_url
from .responses import error_from_response, put_code_from_location
from .search import (
    MAX_ROWS,
    MAX_START_ANONYMOUS,
    ExpandedResult,
    SearchPage,
    parse_expanded_search,
    parse_search,
)
from .summary import RecordSummary, parse_summary
from .transport import Transport

__all__ = ["InstitutionCalls"]

log = logging.getLogger(__name__)


class InstitutionCalls(Transport):
    """Search, summary and notification calls (needs ``endpoints`` from the client)."""

    endpoints: Endpoints

    def _checked(self, method: str, url: str, token: str | None, *, operation: str,
                 ok: set[int], orcid: str | None = None, body: bytes | None = None,
                 retry: bool = True) -> requests.Response:
        response = self._send(method, url, operation=operation, retry=retry, token=token,
                              body=body)
        if response.status_code in ok:
            return response
        error = error_from_response(response, secrets=[token], orcid=orcid)
        log.info("ORCID %s %s -> %s (error code %s)", method, urlsplit(url).path,
                 response.status_code, error.error_code)
        raise error

    # ------------------------------------------------------------------ search

    def _search_url(self, kind: str, token: str | None, query: str, start: int,
                    rows: int) -> str:
        if not 0 <= rows <= MAX_ROWS:
            raise ValueError(f"rows must be between 0 and {MAX_ROWS} (ORCID's limit).")
        if start < 0 or (token is None and start > MAX_START_ANONYMOUS):
            raise ValueError(f"start must be between 0 and {MAX_START_ANONYMOUS} without a "
                             "token (ORCID's limit).")
        base = self.endpoints.member_api if token else self.endpoints.public_api
        return f"{base}/{kind}/?" + urlencode({"q": query, "start": start, "rows": rows})

    def search(self, query: str, token: str | None, *, start: int = 0,
               rows: int = MAX_ROWS) -> SearchPage:
        """``GET /search``: one page of iDs matching ``query`` (ORCID's Solr syntax)."""
        url = self._search_url("search", token, query, start, rows)
        response = self._checked("GET", url, token, operation="search", ok={200})
        return parse_search(response.content, start)

    def expanded_search(self, query: str, token: str | None, *, start: int = 0,
                        rows: int = MAX_ROWS) -> SearchPage:
        """``GET /expanded-search``: one page with public names, emails and institutions."""
        url = self._search_url("expanded-search", token, query, start, rows)
        response = self._checked("GET", url, token, operation="expanded_search", ok={200})
        return parse_expanded_search(response.content, start)

    def iter_expanded_search(self, query: str, token: str | None, *, rows: int = MAX_ROWS,
                             limit: int | None = None) -> Iterator[ExpandedResult]:
        """Every hit of ``query``, page by page, within ORCID's limits: ``rows`` at most 1000
        a call, and without a token nothing past ``start`` 10,000. Stops at ``limit`` hits,
        at ``num-found``, or at an empty page."""
        start = 0
        given = 0
        while limit is None or given < limit:
            if token is None and start > MAX_START_ANONYMOUS:
                log.warning("search stopped at ORCID's start limit for anonymous callers")
                return
            page = self.expanded_search(query, token, start=start, rows=rows)
            for result in page.results:
                if limit is not None and given >= limit:
                    return
                yield result
                given += 1
            start += len(page.results)
            if not page.results or start >= page.num_found:
                return

    # ------------------------------------------------------------------ summary

    def read_summary(self, orcid: str, token: str) -> RecordSummary:
        """``GET /{orcid}/summary`` (member API): verified email domains, validated counts."""
        url = member_url(self.endpoints, orcid, "summary")
        response = self._checked("GET", url, token, operation="read_summary", ok={200},
                                 orcid=orcid)
        return parse_summary(response.content)

    # ------------------------------------------------------------------ notifications

    def add_permission_notification(self, orcid: str, token: str,
                                    notification: PermissionNotification) -> int:
        """``POST /{orcid}/notification-permission``; returns the new put-code. Never
        retried: a repeat would put a second request in the researcher's inbox."""
        url = member_url(self.endpoints, check_orcid(orcid), "notification-permission")
        response = self._checked("POST", url, token, operation="add_permission_notification",
                                 ok={200, 201}, orcid=orcid, body=notification.to_xml(),
                                 retry=False)
        put_code = put_code_from_location(response.headers.get("Location"))
        if put_code is None:
            raise ValueError("ORCID accepted the notification but named no put-code.")
        return put_code

    def list_permission_notifications(self, orcid: str,
                                      token: str) -> list[PermissionNotification]:
        url = member_url(self.endpoints, orcid, "notification-permission")
        response = self._checked("GET", url, token, operation="list_permission_notifications",
                                 ok={200}, orcid=orcid)
        return parse_notifications(response.content)

    def read_permission_notification(self, orcid: str, token: str,
                                     put_code: int) -> PermissionNotification:
        url = member_url(self.endpoints, orcid, "notification-permission",
                         check_put_code(put_code))
        response = self._checked("GET", url, token, operation="read_permission_notification",
                                 ok={200}, orcid=orcid)
        return parse_notification(response.content)

    def archive_permission_notification(self, orcid: str, token: str,
                                        put_code: int) -> PermissionNotification:
        """``DELETE …/notification-permission/{put-code}``: ORCID archives it (an unread
        one only)."""
        url = member_url(self.endpoints, orcid, "notification-permission",
                         check_put_code(put_code))
        response = self._checked("DELETE", url, token,
                                 operation="archive_permission_notification", ok={200},
                                 orcid=orcid)
        return parse_notification(response.content)

