"""Content negotiation and ORCID's response envelopes: media types, error bodies, responses.

Errors follow error-3.0 in the negotiated format; OAuth-style JSON errors are ORCID's too.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request
from lxml import etree

from .rules import MORE_INFO, ApiError
from .xmltree import new_root, sub

XML_TYPES = ("application/vnd.orcid+xml", "application/orcid+xml", "application/xml")
JSON_TYPES = ("application/vnd.orcid+json", "application/orcid+json", "application/json")


# -- media types ---------------------------------------------------------------------------------
def response_format() -> tuple[str, str] | None:
    """("xml"|"json", media type) for the request's Accept; None when nothing fits (406)."""
    accept = request.accept_mimetypes
    sent = (request.mimetype or "").lower()
    if not accept or not request.headers.get("Accept"):
        # No Accept: answer in the body's format (a JSON request gets JSON), else XML.
        return ("json", sent) if sent in JSON_TYPES else ("xml", XML_TYPES[0])
    best = accept.best_match(list(XML_TYPES + JSON_TYPES))
    if best is None:
        return None
    if sent in JSON_TYPES + XML_TYPES and accept.quality(sent) >= accept.quality(best):
        # Accept */* (or application/*) leaves the choice open: the body's format wins.
        return ("json" if sent in JSON_TYPES else "xml"), sent
    return ("json" if best in JSON_TYPES else "xml"), best


def error_format() -> tuple[str, str]:
    """The format for an error: what the caller accepts, else what it sent, else XML."""
    fmt = response_format()
    if fmt is not None and request.headers.get("Accept"):
        return fmt
    ctype = (request.mimetype or "").lower()
    if ctype in JSON_TYPES:
        return "json", ctype
    return fmt or ("xml", XML_TYPES[0])


def request_format() -> str | None:
    """The body's format, "xml" or "json", from the Content-Type; None for anything else (415)."""
    ctype = (request.mimetype or "").lower()
    if ctype in XML_TYPES:
        return "xml"
    if ctype in JSON_TYPES:
        return "json"
    return None


# -- error-3.0 documents --------------------------------------------------------------------------
def error_response(status: int, code: int, developer: str, user: str | None = None) -> Response:
    """An ORCID error document in the format the caller accepts (or sent)."""
    fmt, media = error_format()
    if fmt == "json":
        body = json.dumps(error_json(status, code, developer, user))
        return Response(body, status=status, mimetype=media)
    return xml_response(error_xml(status, code, developer, user), media, status)


def api_error_response(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.developer, exc.user)


def error_json(status: int, code: int, developer: str, user: str | None = None) -> dict[str, Any]:
    return {
        "response-code": status,
        "developer-message": developer,
        "user-message": user or developer,
        "error-code": code,
        "more-info": MORE_INFO,
    }


def error_xml(status: int, code: int, developer: str, user: str | None = None,
              parent: etree._Element | None = None) -> etree._Element:
    root = sub(parent, "error", "error") if parent is not None else new_root("error", "error")
    sub(root, "error", "response-code", str(status))
    sub(root, "error", "developer-message", developer)
    sub(root, "error", "user-message", user or developer)
    sub(root, "error", "error-code", str(code))
    sub(root, "error", "more-info", MORE_INFO)
    return root


# -- responses ------------------------------------------------------------------------------------
def xml_response(root: etree._Element, media: str, status: int = 200) -> Response:
    body = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", standalone=True, pretty_print=True
    )
    return Response(body, status=status, mimetype=media)


def json_response(data: Any, media: str, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type=f"{media};charset=UTF-8")


# -- OAuth-style errors on API paths -------------------------------------------------------------
class Denied(Exception):
    """Authentication failed before the handler ran; ``response`` is the JSON ORCID sends."""

    def __init__(self, response: Response):
        super().__init__("denied")
        self.response = response


def oauth_json(status: int, error: str, description: str) -> Response:
    """``{"error": ..., "error_description": ...}`` with ``status`` (API-FACTS §7)."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response
