"""The people of a backfill campaign: the :class:`Graduate` a host hands over, and the CSV an
admin uploads, read into graduates with every refused line reported by number.

The CSV (UTF-8, a header line, comma-separated; docs/campaigns.md) has these columns, in any
order; names are case-insensitive and unknown columns are ignored:

========================  ========  ==========================================================
column                    required  what
========================  ========  ==========================================================
``name``                  yes       the graduate's name as the email greets them
``email``                 yes       where the invitation goes
``title``                 yes       the thesis title
``date``                  yes       the degree date: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``
``degree``                yes       the degree as the record should name it ("PhD in History")
``department``            no        the department of the degree
``doi`` / ``handle``      one       the thesis's identifiers (at least one: ORCID needs a
                                    ``self`` identifier on a work)
``url``                   no        the thesis's landing page
``orcid``                 no        an iD someone typed in for them (compared with theirs)
``given_names``           no        for ORCID's registration form (else split from ``name``)
``family_names``          no
``start_date``            no        when the programme began (the degree's start date)
``language``              no        the thesis's language (ISO 639-1, ``es``)
``lang``                  no        the email's language (``en``, ``es``; else the campaign's)
``key``                   no        the host's key of the person (else ``csv:<email>``)
========================  ========  ==========================================================
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from ..errors import ValidationError
from ..protocol.identifiers import normalize_handle, parse_orcid_id
from ..protocol.model import Affiliation, Contributor, ExternalId, FuzzyDate, Organization, Work

__all__ = ["COLUMNS", "REQUIRED", "Graduate", "RowProblem", "build_items", "read_csv"]

COLUMNS = ("name", "email", "title", "date", "degree", "department", "doi", "handle", "url",
           "orcid", "given_names", "family_names", "start_date", "language", "lang", "key")
REQUIRED = ("name", "email", "title", "date", "degree")
#: a generous cap: a campaign is a list of people, not a data dump
MAX_ROWS = 50_000


@dataclass
class Graduate:
    """One past graduate and their thesis, from the host or from a CSV line.

    A host may hand over ready items (``work``, ``degree_item``) and their outbox keys (its
    own ``thesis:42``); otherwise they are built from the fields (:func:`build_items`).
    """

    name: str
    email: str
    title: str
    date: str
    degree: str
    department: str | None = None
    doi: str | None = None
    handle: str | None = None
    url: str | None = None
    orcid: str | None = None
    given_names: str | None = None
    family_names: str | None = None
    start_date: str | None = None
    language: str | None = None
    lang: str | None = None
    key: str | None = None
    line: int | None = None
    work: Work | None = None
    degree_item: Affiliation | None = None
    work_key: str | None = None
    degree_key: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def person_key(self) -> str:
        return self.key or f"csv:{self.email.strip().lower()}"


@dataclass(frozen=True)
class RowProblem:
    """A refused line of the CSV (1 is the header) and why, in the admin's words."""

    line: int
    message: str


def _date(text: str, name: str) -> FuzzyDate:
    try:
        return FuzzyDate.parse(text)
    except ValueError as exc:
        raise ValidationError(f"{name}: {exc}", name) from None


def build_items(graduate: Graduate, institution: Organization) -> tuple[Work, Affiliation | None]:
    """The thesis as a ``dissertation-thesis`` work and the degree as an education at
    ``institution``; :class:`ValidationError` names the first field ORCID would refuse."""
    work = graduate.work
    if work is None:
        ids = []
        if graduate.doi:
            doi = graduate.doi.strip().removeprefix("https://doi.org/")
            ids.append(ExternalId("doi", doi, "self", f"https://doi.org/{doi}"))
        if graduate.handle:
            handle = normalize_handle(graduate.handle.strip())
            ids.append(ExternalId("handle", handle, "self", f"https://hdl.handle.net/{handle}"))
        work = Work(title=graduate.title.strip(), type="dissertation-thesis",
                    publication_date=_date(graduate.date, "date"), external_ids=ids,
                    url=(graduate.url or "").strip() or None,
                    contributors=[Contributor(credit_name=graduate.name.strip(),
                                              sequence="first", role="author")],
                    language_code=(graduate.language or "").strip().lower() or None,
                    country=institution.country)
    work.validate()
    degree = graduate.degree_item
    if degree is None and graduate.degree.strip():
        # ORCID takes an end date alone (a degree known by its award date; API-FACTS §6)
        degree = Affiliation(
            section="education", organization=institution,
            department=(graduate.department or "").strip() or None,
            role_title=graduate.degree.strip(),
            start_date=_date(graduate.start_date, "start_date") if graduate.start_date else None,
            end_date=_date(graduate.date, "date"))
    if degree is not None:
        degree.validate()
    return work, degree


def _graduate(row: dict[str, str], line: int) -> Graduate:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    missing = [k for k in REQUIRED if not values[k]]
    if missing:
        raise ValidationError(f"missing {', '.join(missing)}", missing[0])
    email = values["email"]
    if "@" not in email or any(c.isspace() for c in email) or len(email) > 254:
        raise ValidationError(f"{email!r} is not an email address", "email")
    if not values["doi"] and not values["handle"]:
        raise ValidationError("a DOI or a handle is needed (ORCID needs an identifier of the "
                              "thesis itself)", "doi")
    if values["orcid"]:
        try:
            values["orcid"] = parse_orcid_id(values["orcid"])
        except ValueError:
            raise ValidationError(f"{values['orcid']!r} is not an ORCID iD", "orcid") from None
    kept = {k: (values[k] or None) for k in COLUMNS if k not in REQUIRED}
    return Graduate(name=values["name"], email=email, title=values["title"],
                    date=values["date"], degree=values["degree"], line=line,
                    department=kept["department"], doi=kept["doi"], handle=kept["handle"],
                    url=kept["url"], orcid=kept["orcid"], given_names=kept["given_names"],
                    family_names=kept["family_names"], start_date=kept["start_date"],
                    language=kept["language"], lang=kept["lang"], key=kept["key"])


def read_csv(text: str, institution: Organization) -> tuple[list[Graduate], list[RowProblem]]:
    """The graduates of a CSV and the lines refused (bad fields, items ORCID would refuse, an
    email or key already seen). A missing required column refuses the whole file (line 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing or not header:
        return [], [RowProblem(1, f"the header lacks the column(s) {', '.join(missing)}; "
                                  f"expected {', '.join(REQUIRED)} and doi or handle")]
    reader.fieldnames = header
    graduates: list[Graduate] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(graduates) + len(problems) >= MAX_ROWS:
            problems.append(RowProblem(line, f"more than {MAX_ROWS} rows; the rest was not read"))
            break
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        try:
            graduate = _graduate(row, line)
            build_items(graduate, institution)
        except ValidationError as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        key = graduate.person_key.lower()
        if key in seen:
            problems.append(RowProblem(line, f"the same person as line {seen[key]}"))
            continue
        seen[key] = line
        graduates.append(graduate)
    return graduates, problems
