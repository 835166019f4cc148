"""Text for XML exports: what XML 1.0 cannot carry is dropped, so hostile or pasted text (a
form feed from a PDF, a NUL) never turns an export into a server error. Escaping of ``<``,
``&`` and quotes is lxml's job."""

from __future__ import annotations

import re

#: characters outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str | None) -> str | None:
    return None if text is None else _NOT_XML.sub("", text)
