"""OAI-PMH sets: by degree (``degree:phd``) and by department (``department:<slug>``), each
under its parent (``degree``, ``department``). Department names are free text; their set spec
is an ASCII slug (``Department of Mathematics`` -> ``department:department-of-mathematics``)."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import force_locale
from sqlalchemy import ColumnElement, false

from .db import db
from .forms import DEGREES
from .models import PUBLISHED, WITHDRAWN, Thesis

#: what the endpoint shows: published theses, and withdrawn ones as deleted records
PUBLIC = (PUBLISHED, WITHDRAWN)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _departments() -> list[str]:
    return [d for d in db.session.scalars(
        db.select(Thesis.department).where(Thesis.status.in_(PUBLIC)).distinct()
    ) if d and slug(d)]


def all_sets() -> list[tuple[str, str]]:
    """(setSpec, setName) of every set, parents first."""
    out = [("degree", "Theses by degree")]
    with force_locale("en"):
        out += [(f"degree:{code}", str(label)) for code, label in DEGREES]
    out.append(("department", "Theses by department"))
    seen: dict[str, str] = {}
    for name in sorted(_departments()):
        seen.setdefault(slug(name), name)
    out += [(f"department:{spec}", name) for spec, name in seen.items()]
    return out


def specs_of(thesis: Thesis) -> list[str]:
    specs = []
    if thesis.degree in {code for code, _label in DEGREES}:
        specs += ["degree", f"degree:{thesis.degree}"]
    if thesis.department and slug(thesis.department):
        specs += ["department", f"department:{slug(thesis.department)}"]
    return specs


def condition(spec: str) -> ColumnElement[bool]:
    """The SQL condition for membership of ``spec``; an unknown set matches nothing."""
    kind, _sep, value = spec.partition(":")
    codes = [code for code, _label in DEGREES]
    if kind == "degree" and not value:
        return Thesis.degree.in_(codes)
    if kind == "degree" and value in codes:
        return Thesis.degree == value
    if kind == "department":
        names = [n for n in _departments() if not value or slug(n) == value]
        return Thesis.department.in_(names) if names else false()
    return false()
