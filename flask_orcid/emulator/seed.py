"""Deterministic seed data: the demo member client, test researchers and a small org registry.

The people are fictional (Josiah Carberry is ORCID's own test persona). The organization ids are
illustrative stand-ins for ORCID's org registry, which rejects ids it does not know (API-FACTS §6);
they include every id used by ORCID's official write samples so those samples are accepted.
"""

from __future__ import annotations

from typing import Any

from .state import Email, EmulatorState, Item, Researcher, make_orcid

DEMO_CLIENT_ID = "APP-DEMO000000000001"
DEMO_CLIENT_SECRET = "demo-secret-0001"
DEMO_CLIENT_NAME = "Demo Thesis Repository"
DEMO_REDIRECT_URIS = ["http://127.0.0.1:*", "http://localhost:*"]

#: Other "member integrations" that own the seeded works (they have no usable secret).
CROSSREF_ID = "APP-CROSSREF00000001"
DATACITE_ID = "APP-DATACITE00000001"

CARBERRY = "0000-0002-1825-0097"
GARCIA = make_orcid(34567890)
MENSAH = make_orcid(27654321)

#: (disambiguation source, identifier) -> organization (name, city, region, country)
ORGS: dict[tuple[str, str], tuple[str, str, str | None, str]] = {
    ("ROR", "https://ror.org/05gq02987"): ("Brown University", "Providence", "RI", "US"),
    ("ROR", "https://ror.org/05h7xva58"): ("Wesleyan University", "Middletown", "CT", "US"),
    ("ROR", "https://ror.org/02f40zc51"): ("Universidad de Salamanca", "Salamanca", None, "ES"),
    ("ROR", "https://ror.org/02p0gd045"): (
        "Universidad Complutense de Madrid", "Madrid", None, "ES"),
    ("ROR", "https://ror.org/01r22mr83"): ("University of Ghana", "Accra", None, "GH"),
    ("ROR", "https://ror.org/052gg0110"): ("University of Oxford", "Oxford", "Oxfordshire", "GB"),
    ("ROR", "https://ror.org/021nxhr62"): ("National Science Foundation", "Alexandria", "VA", "US"),
    ("ROR", "https://ror.org/00jmfr291"): ("University of Michigan", "Ann Arbor", "MI", "US"),
    ("ROR", "https://ror.org/05qwgg493"): ("Boston University", "Boston", "MA", "US"),
    ("ROR", "https://ror.org/04fa4r544"): ("University of California, San Francisco",
                                           "San Francisco", "CA", "US"),
    ("ROR", "https://ror.org/033jnv181"): ("Jet Propulsion Laboratory", "Pasadena", "CA", "US"),
    ("ROR", "https://ror.org/03dbr7087"): ("University of Toronto", "Toronto", "ON", "CA"),
    ("ROR", "https://ror.org/05dc6w374"): ("Example Research Institute", "Chicago", "IL", "US"),
    ("ROR", "https://ror.org/027ka1x80"): ("NASA", "Washington", "DC", "US"),
    ("ROR", "https://ror.org/03yrm5c26"): ("Example State University", "Springfield", "IL", "US"),
    ("ROR", "https://ror.org/01an7q238"): ("University of California, Berkeley",
                                           "Berkeley", "CA", "US"),
    ("FUNDREF", "http://dx.doi.org/10.13039/100000001"): (
        "National Science Foundation", "Alexandria", "VA", "US"),
    ("RINGGOLD", "385488"): ("Example Ringgold Organization", "Bethesda", "MD", "US"),
    ("GRID", "grid.455335.1"): ("Example GRID Organization", "London", None, "GB"),
    ("GRID", "grid.40263.33"): ("Brown University", "Providence", "RI", "US"),
}


def _org(ror: str) -> dict[str, Any]:
    name, city, region, country = ORGS[("ROR", ror)]
    return {
        "name": name,
        "city": city,
        "region": region,
        "country": country,
        "disambiguated_id": ror,
        "disambiguation_source": "ROR",
    }


def _date(year: int, month: int | None = None, day: int | None = None) -> dict[str, Any]:
    return {
        "year": f"{year:04d}",
        "month": f"{month:02d}" if month else None,
        "day": f"{day:02d}" if day else None,
    }


def _work(title: str, doi: str, year: int, wtype: str = "journal-article",
          **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": title,
        "subtitle": None,
        "translated_title": None,
        "translated_title_language": None,
        "journal_title": extra.pop("journal_title", None),
        "short_description": None,
        "citation_type": None,
        "citation_value": None,
        "type": wtype,
        "publication_date": _date(year, extra.pop("month", None)),
        "external_ids": [
            {
                "type": "doi",
                "value": doi,
                "url": f"https://doi.org/{doi}",
                "relationship": "self",
            }
        ],
        "url": None,
        "contributors": extra.pop("contributors", []),
        "language_code": extra.pop("language_code", None),
        "country": None,
    }
    data.update(extra)
    return data


#: the data of a work, as the emulator stores it (the control API builds on it too)
work_data = _work


def _affiliation(ror: str, role: str, dept: str | None, start: dict[str, Any],
                 end: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "department_name": dept,
        "role_title": role,
        "start_date": start,
        "end_date": end,
        "organization": _org(ror),
        "url": None,
        "external_ids": [],
    }


def seed(state: EmulatorState) -> None:
    """Fill an empty state with the demo client, the researchers and their records."""
    with state.lock:
        state.orgs = {key: value for key, value in ORGS.items()}
        _seed_clients(state)
        carberry, garcia, mensah = _seed_researchers(state)
        _seed_carberry(state, carberry)
        _seed_garcia(state, garcia)
        _seed_mensah(state, mensah)
        seed_institution_people(state)


def _seed_clients(state: EmulatorState) -> None:
    state.add_client(
        DEMO_CLIENT_NAME, DEMO_REDIRECT_URIS, premium=True,
        client_id=DEMO_CLIENT_ID, secret=DEMO_CLIENT_SECRET,
    )
    state.add_client("Crossref Metadata Search", [], client_id=CROSSREF_ID)
    state.add_client("DataCite", [], client_id=DATACITE_ID)


def _seed_researchers(state: EmulatorState) -> tuple[Researcher, Researcher, Researcher]:
    carberry = state.add_researcher(
        "Josiah", "Carberry", "josiah@example.edu", "carberry-1", orcid=CARBERRY,
        credit_name="Josiah S. Carberry", other_names=["J. S. Carberry"],
        biography="Professor of psychoceramics (a fictional test persona).",
    )
    garcia = state.add_researcher(
        "María José", "García Núñez", "maria@example.edu", "garcia-1", orcid=GARCIA,
        locale="es", other_names=["Majo García"],
    )
    garcia.emails.append(_email("mj.garcia@example.es", verified=False, visibility="private"))
    mensah = state.add_researcher(
        "Kwame", "Mensah", "kwame@example.org", "mensah-1", orcid=MENSAH,
        email_verified=False, email_visibility="limited",
        name_visibility="limited", default_visibility="limited",
    )
    return carberry, garcia, mensah


def _add(state: EmulatorState, researcher: Researcher, section: str, data: dict[str, Any],
         visibility: str = "public", client: str | None = None, name: str = "") -> None:
    """One item on ``researcher``'s record, sourced by ``client`` or by the researcher."""
    now = state.now()
    item = Item(
        put_code=state.new_put_code(), section=section, data=data,
        visibility=visibility, created=now, modified=now,
        source_client_id=client, source_orcid=None if client else researcher.orcid,
        source_name=name or (researcher.credit_name or researcher.display_name),
    )
    researcher.section(section)[item.put_code] = item


def _seed_carberry(state: EmulatorState, carberry: Researcher) -> None:
    _add(state, carberry, "education", _affiliation(
        "https://ror.org/05gq02987", "PhD", "Psychoceramics", _date(1985, 9), _date(1991, 5)))
    _add(state, carberry, "employment", _affiliation(
        "https://ror.org/05h7xva58", "Professor of Psychoceramics",
        "Department of Psychoceramics", _date(1992, 7)))
    _add(state, carberry, "work", _work(
        "The Psychoceramics of Cracked Pots", "10.5555/12345678", 2008,
        journal_title="Journal of Psychoceramics"),
        client=CROSSREF_ID, name="Crossref Metadata Search")
    _add(state, carberry, "work", _work(
        "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory",
        "10.5555/12345679", 2011, journal_title="Journal of Psychoceramics"))


def _seed_garcia(state: EmulatorState, garcia: Researcher) -> None:
    _add(state, garcia, "education", _affiliation(
        "https://ror.org/02f40zc51", "Licenciatura en Geografía", "Facultad de Geografía e "
        "Historia", _date(2010, 9), _date(2015, 6)))
    _add(state, garcia, "employment", _affiliation(
        "https://ror.org/02p0gd045", "Investigadora predoctoral",
        "Departamento de Geografía", _date(2019, 10)))
    _add(state, garcia, "work", _work(
        "Análisis de la erosión costera en la península ibérica", "10.5555/es.2021.0042",
        2021, journal_title="Revista de Geografía Física", language_code="es"),
        client=CROSSREF_ID, name="Crossref Metadata Search")
    _add(state, garcia, "work", _work(
        "Datos de erosión costera 1990–2020", "10.5555/datos.erosion.7", 2022, wtype="data-set"),
        client=DATACITE_ID, name="DataCite", visibility="limited")


def _seed_mensah(state: EmulatorState, mensah: Researcher) -> None:
    _add(state, mensah, "employment", _affiliation(
        "https://ror.org/01r22mr83", "Lecturer", "Department of Physics", _date(2018, 1)),
        visibility="limited")
    _add(state, mensah, "work", _work(
        "Solar cell efficiency in humid climates", "10.5555/gh.2020.11", 2020),
        client=CROSSREF_ID, name="Crossref Metadata Search", visibility="limited")
    _add(state, mensah, "work", _work(
        "Unpublished measurements", "10.5555/gh.private.1", 2023),
        client=DATACITE_ID, name="DataCite", visibility="private")


def _email(address: str, verified: bool, visibility: str) -> Email:
    return Email(address, primary=False, verified=verified, visibility=visibility)


#: The demo institution (the sample repository's Brown University) and its email domain.
DEMO_INSTITUTION_ROR = "https://ror.org/05gq02987"
DEMO_INSTITUTION_DOMAIN = "example.edu"
OKAFOR = make_orcid(28765432)
FERNANDEZ = make_orcid(28765433)
RIVERA = make_orcid(28765434)
RAMAN = make_orcid(28765435)


def seed_institution_people(state: EmulatorState) -> None:
    """Record holders who list the demo institution and have connected to no site: one by its
    ROR id, one by its GRID id, one only by an email at its domain, and one whose links to it
    are all limited or private (so a public search must not find her)."""
    okafor = state.add_researcher("Ada", "Okafor", "ada.okafor@example.edu", "okafor-1",
                                  orcid=OKAFOR, credit_name="A. N. Okafor")
    _add(state, okafor, "employment", _affiliation(
        DEMO_INSTITUTION_ROR, "Postdoctoral Researcher", "Department of Chemistry",
        _date(2021, 9)))
    _add(state, okafor, "work", _work("Catalysis at the water interface", "10.5555/ok.2023.3",
                                      2023), client=CROSSREF_ID, name="Crossref Metadata Search")
    fernandez = state.add_researcher("Lucía", "Fernández Ortega", "lucia.fo@gmail.com",
                                     "fernandez-1", orcid=FERNANDEZ, locale="es")
    brown_grid = dict(_org(DEMO_INSTITUTION_ROR), disambiguated_id="grid.40263.33",
                      disambiguation_source="GRID")
    _add(state, fernandez, "education", dict(_affiliation(
        DEMO_INSTITUTION_ROR, "MA in Hispanic Studies", "Department of Hispanic Studies",
        _date(2016, 9), _date(2018, 5)), organization=brown_grid))
    _add(state, fernandez, "work", _work("Voces de frontera", "10.5555/lf.2018.1", 2018,
                                         wtype="dissertation-thesis", language_code="es"),
         client=DATACITE_ID, name="DataCite")
    rivera = state.add_researcher("Tomás", "Rivera", "t.rivera@example.edu", "rivera-1",
                                  orcid=RIVERA)
    _add(state, rivera, "work", _work("Tidal records of Narragansett Bay", "10.5555/tr.2022.8",
                                      2022), client=CROSSREF_ID, name="Crossref Metadata Search")
    raman = state.add_researcher("Priya", "Raman", "priya.raman@example.edu", "raman-1",
                                 orcid=RAMAN, email_visibility="private")
    _add(state, raman, "employment", _affiliation(
        DEMO_INSTITUTION_ROR, "Lecturer", "Department of Economics", _date(2019, 1)),
        visibility="limited")
    _add(state, raman, "work", _work("Household savings notes", "10.5555/pr.private.2", 2020),
         client=CROSSREF_ID, name="Crossref Metadata Search", visibility="private")
