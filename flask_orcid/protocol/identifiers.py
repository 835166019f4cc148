"""ORCID iDs, DOIs and handles: parse what people type, keep one canonical form.

ORCID iDs carry an ISO 7064 MOD 11-2 check digit (API-FACTS §10), so most typos are caught
before anything is stored or sent. DOIs and handles are normalized the way ORCID itself
normalizes them (API-FACTS §5), because ORCID's duplicate check compares the normalized forms.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from .endpoints import endpoints
from .pid_keys import normalized_id

__all__ = [
    "ORCID_ID_SHAPE",
    "ORCIDIdError",
    "doi_key",
    "external_id_key",
    "is_valid_orcid_id",
    "normalize_doi",
    "normalize_handle",
    "orcid_checksum",
    "orcid_uri",
    "parse_orcid_id",
]

EXAMPLE_ORCID = "0000-0002-1825-0097"

#: The canonical bare iD, as a regular expression without anchors (for URLs and messages).
ORCID_ID_SHAPE = r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]"

# http(s)://orcid.org/…, sandbox.orcid.org, www.orcid.org, or the host without a scheme.
_ORCID_URI = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:sandbox\.)?orcid\.org/+(?P<rest>[^?#]*?)/*(?:[?#].*)?$",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"^(\d{4})[-\s]?(\d{4})[-\s]?(\d{4})[-\s]?(\d{3}[\dX])$")


def orcid_checksum(base15: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 15 digits of an iD.

    ISO 7064 MOD 11-2, as ORCID computes it (API-FACTS §10).
    """
    digits = base15.replace("-", "")
    if len(digits) != 15 or not digits.isdigit() or not digits.isascii():
        raise ValueError(f"orcid_checksum needs the first 15 digits of an iD, got {base15!r}.")
    total = 0
    for char in digits:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


class ORCIDIdError(ValueError):
    """A malformed iD: the message in English, and its catalog ``template`` with ``params``
    so a form can show it in the reader's language (see :class:`flask_orcid.forms.ORCIDIdValidator`)."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params



def parse_orcid_id(text: str) -> str:
    """Return the canonical bare iD (``0000-0002-1825-0097``) for any common way of writing it.

    Accepts the bare form, ``https://orcid.org/…`` and ``https://sandbox.orcid.org/…`` URIs, a
    lower-case ``x``, spaces instead of hyphens, or no separators at all. Raises
    :class:`ValueError` whose message says which part is wrong.
    """
    if not isinstance(text, str):
        raise ValueError(f"An ORCID iD must be text, not {type(text).__name__}.")
    raw = text.strip()
    if not raw:
        raise ORCIDIdError(
            N_("Enter an ORCID iD, for example %(example)s."), example=EXAMPLE_ORCID
        )
    candidate = raw
    if "/" in raw or raw.lower().startswith(("http:", "https:")):
        match = _ORCID_URI.match(raw)
        if not match:
            raise ORCIDIdError(
                N_(
                    "%(text)s is not an ORCID iD or an orcid.org link; an iD looks like "
                    "%(example)s or https://orcid.org/%(example)s."
                ),
                text=repr(raw),
                example=EXAMPLE_ORCID,
            )
        candidate = match.group("rest")
    candidate = candidate.strip().upper()
    grouped = _GROUPED.match(candidate)
    if not grouped:
        _explain_shape(candidate)
    base = "".join(grouped.groups())  # type: ignore[union-attr]
    expected = orcid_checksum(base[:15])
    if base[15] != expected:
        raise ORCIDIdError(
            N_(
                "The check digit of %(orcid)s is wrong: the last character should be "
                "%(expected)s, not %(found)s. Look for a mistyped digit."
            ),
            orcid=_format(base),
            expected=repr(expected),
            found=repr(base[15]),
        )
    return _format(base)


def _format(digits16: str) -> str:
    return "-".join(digits16[i : i + 4] for i in range(0, 16, 4))


def _explain_shape(candidate: str) -> None:
    """Raise the most helpful ValueError for something that is not 16 well-placed digits."""
    compact = re.sub(r"[-\s]", "", candidate)
    for position, char in enumerate(compact, start=1):
        if char.isdigit() and char.isascii():
            continue
        if char == "X" and position == len(compact):
            continue
        if char == "X":
            template = N_(
                "ORCID iDs contain only digits (and an X as the very last character); "
                "an X in place of digit %(position)d of %(text)s is not allowed."
            )
        else:
            template = N_(
                "ORCID iDs contain only digits (and an X as the very last character); "
                "%(char)s in place of digit %(position)d of %(text)s is not allowed."
            )
        raise ORCIDIdError(template, char=repr(char), position=position, text=repr(candidate))
    if len(compact) != 16:
        raise ORCIDIdError(
            N_("An ORCID iD has 16 digits, like %(example)s; %(text)s has %(count)d."),
            example=EXAMPLE_ORCID,
            text=repr(candidate),
            count=len(compact),
        )
    raise ORCIDIdError(
        N_(
            "Write the 16 digits of %(text)s in four groups of four separated by hyphens, "
            "like %(example)s."
        ),
        text=repr(candidate),
        example=EXAMPLE_ORCID,
    )


def is_valid_orcid_id(text: str) -> bool:
    """True when :func:`parse_orcid_id` accepts ``text``."""
    try:
        parse_orcid_id(text)
    except ValueError:
        return False
    return True


def orcid_uri(orcid: str, environment: str = "production", emulator_url: str | None = None) -> str:
    """The full iD URI for display and metadata (``https://orcid.org/0000-…``).

    Sandbox iDs live on ``https://sandbox.orcid.org``; the emulator serves its own.
    """
    return f"{endpoints(environment, emulator_url).id_base}/{parse_orcid_id(orcid)}"


# --- DOIs and handles ---------------------------------------------------------------------------

_DOI_PREFIXES = re.compile(
    r"^(?:doi:\s*|info:doi/|https?://(?:dx\.|www\.)?doi\.org/|doi\.org/)", re.IGNORECASE
)
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")


def normalize_doi(text: str) -> str:
    """The bare DOI (``10.1234/abc``) from a bare, ``doi:`` or ``https://doi.org/`` form.

    Case is kept, because ORCID shows what was sent; compare DOIs with :func:`doi_key`.
    """
    if not isinstance(text, str):
        raise ValueError(f"A DOI must be text, not {type(text).__name__}.")
    raw = text.strip()
    value = raw
    match = _DOI_PREFIXES.match(value)
    if match:
        value = value[match.end() :]
        if "://" in match.group(0) or match.group(0).lower().startswith("doi.org"):
            # URL forms may be percent-encoded (10.1000%2Fabc).
            value = unquote(value)
    value = value.strip()
    if not _DOI.match(value):
        raise ValueError(
            f"{raw!r} is not a DOI; a DOI starts with '10.' and a registrant number, then a "
            f"slash and a suffix, like 10.1234/example.2024 or https://doi.org/10.1234/example.2024."
        )
    return value


def doi_key(text: str) -> str:
    """The DOI lower-cased for comparison: DOIs are case-insensitive and ORCID matches them so."""
    return normalize_doi(text).lower()


_HANDLE_PREFIXES = re.compile(
    r"^(?:hdl:\s*|info:hdl/|https?://hdl\.handle\.net/|hdl\.handle\.net/)", re.IGNORECASE
)
_HANDLE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.]*/\S+$")


def normalize_handle(text: str) -> str:
    """The bare handle (``20.500.12345/678``) from ``hdl:`` or ``https://hdl.handle.net/`` forms.

    ORCID has no handle normalizer beyond lower-casing (API-FACTS §5), so a prefixed handle
    would not match a bare one in its duplicate check: always send the bare form.
    """
    if not isinstance(text, str):
        raise ValueError(f"A handle must be text, not {type(text).__name__}.")
    raw = text.strip()
    value = raw
    match = _HANDLE_PREFIXES.match(value)
    if match:
        value = value[match.end() :]
        if "handle.net" in match.group(0).lower():
            value = unquote(value.split("?", 1)[0].split("#", 1)[0])
    value = value.strip()
    if not _HANDLE.match(value):
        raise ValueError(
            f"{raw!r} is not a handle; a handle is a prefix, a slash and a suffix, like "
            f"20.500.12345/678 or https://hdl.handle.net/20.500.12345/678."
        )
    return value


def external_id_key(id_type: str, value: str) -> tuple[str, str]:
    """``(type, normalized value)`` as ORCID compares external ids for duplicates (409/9021).

    ORCID's own normalization (:mod:`.pid_keys`): DOIs are extracted from URL forms and
    lower-cased; ISBN, ISSN, PMID, PMC, arXiv, bibcode and RRID are reduced to the identifier;
    URIs get ``http://`` when they have no http(s)/ftp(s) scheme and keep their case; handles and
    the other case-insensitive types are lower-cased. Types are compared exactly, as ORCID does.
    """
    return id_type, normalized_id(id_type, value)
