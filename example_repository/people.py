"""Everyone named on a thesis, with their iD and whether that iD was authenticated: the one
list every export (JSON-LD, OAI-PMH, DataCite) is written from, so they never disagree.

An iD is *authenticated* when its holder proved it through ORCID's OAuth: the author's comes
from their flask-orcid connection, a contributor's from an accepted invitation
(``Advisor.orcid_authenticated``). A typed iD is unauthenticated: ORCID asks that only
authenticated iDs be asserted (orcid-model ``record_3.0/work-3.0.xsd:170``, "only add if you
have collected an authenticated iD"), so each export marks the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ADVISOR, CO_AUTHOR, COMMITTEE_MEMBER, Thesis
from .orcid_setup import author_orcid, id_uri

AUTHOR = "author"


@dataclass(frozen=True)
class Person:
    """One person on a thesis. ``given``/``family`` are known for the author only."""

    name: str
    role: str  # AUTHOR, or one of models.CONTRIBUTOR_ROLES
    orcid: str | None = None
    authenticated: bool = False
    given: str = ""
    family: str = ""

    @property
    def orcid_uri(self) -> str | None:
        return id_uri(self.orcid) if self.orcid else None

    @property
    def authenticated_uri(self) -> str | None:
        """The iD URI to assert as this person's: only an authenticated one."""
        return self.orcid_uri if self.authenticated else None

    @property
    def inverted_name(self) -> str:
        """``Family, Given`` when both parts are known, else the name as given."""
        if self.family and self.given:
            return f"{self.family}, {self.given}"
        return self.name

    @property
    def is_creator(self) -> bool:
        return self.role in (AUTHOR, CO_AUTHOR)


def author(thesis: Thesis) -> Person:
    """The thesis' author; their iD only while their ORCID connection stands."""
    orcid = author_orcid(thesis.author)
    return Person(name=thesis.author_name, role=AUTHOR, orcid=orcid,
                  authenticated=orcid is not None, given=thesis.given_names,
                  family=thesis.family_name)


def contributors(thesis: Thesis) -> list[Person]:
    """Advisors, committee members and co-authors in the order the thesis names them."""
    return [
        Person(name=a.name, role=a.role or ADVISOR, orcid=a.orcid or None,
               authenticated=bool(a.orcid and a.orcid_authenticated))
        for a in thesis.advisors if (a.name or "").strip()
    ]


def everyone(thesis: Thesis) -> list[Person]:
    """The author first, then everyone else named on the thesis."""
    return [author(thesis), *contributors(thesis)]


def creators(thesis: Thesis) -> list[Person]:
    return [p for p in everyone(thesis) if p.is_creator]


def supervisors(thesis: Thesis) -> list[Person]:
    return [p for p in contributors(thesis) if p.role == ADVISOR]


def committee(thesis: Thesis) -> list[Person]:
    return [p for p in contributors(thesis) if p.role == COMMITTEE_MEMBER]


def labelled(person: Person) -> str:
    """A person for formats whose name fields are plain text (oai_dc, ETD-MS 1.0).

    - authenticated: ``Lovelace, Ada (https://orcid.org/0000-0002-1825-0097)``, the iD URI
      that harvesters recognise;
    - typed, unauthenticated: ``Babbage, Charles (ORCID iD 0000-0002-1825-0097, not
      authenticated)``, the bare iD, never the URI, so that a harvester that picks up iD
      URIs does not assert it;
    - no iD: the name alone.
    """
    if person.orcid is None:
        return person.inverted_name
    if person.authenticated:
        return f"{person.inverted_name} ({person.orcid_uri})"
    return f"{person.inverted_name} (ORCID iD {person.orcid}, not authenticated)"
