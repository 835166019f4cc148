"""Public metadata of a thesis: the citation, Highwire ``citation_*`` tags, schema.org JSON-LD,
BibTeX and FAIR signposting ``Link`` headers. The author's iD appears only when authenticated."""

from __future__ import annotations

from flask import current_app, url_for

from . import people
from .licenses import license_of
from .models import Thesis

DOCTORAL = {"phd", "edd"}
#: The media type DOI content negotiation serves DataCite XML as.
DATACITE_MEDIA_TYPE = "application/vnd.datacite.datacite+xml"


def initials(given_names: str) -> str:
    """``María José`` -> ``M. J.``; hyphenated names keep the hyphen (``Jean-Paul`` -> ``J.-P.``)."""
    parts = []
    for word in given_names.split():
        parts.append("-".join(f"{piece[0]}." for piece in word.split("-") if piece))
    return " ".join(parts)


def full_title(thesis: Thesis) -> str:
    return f"{thesis.title}: {thesis.subtitle}" if thesis.subtitle else thesis.title


def thesis_kind(thesis: Thesis) -> str:
    return "Doctoral dissertation" if thesis.degree in DOCTORAL else "Master's thesis"


def citation_text(thesis: Thesis) -> str:
    """An APA-style reference; the DOI is the persistent link."""
    year = thesis.degree_date.year if thesis.degree_date else "n.d."
    author = f"{thesis.family_name}, {initials(thesis.given_names)}".strip(", ")
    institution = current_app.config["REPOSITORY_INSTITUTION_NAME"]
    repo = current_app.config["REPOSITORY_NAME"]
    text = f"{author} ({year}). {full_title(thesis)} [{thesis_kind(thesis)}, {institution}]. {repo}."
    if thesis.doi:
        text += f" https://doi.org/{thesis.doi}"
    return text


def bibtex(thesis: Thesis) -> str:
    kind = "phdthesis" if thesis.degree in DOCTORAL else "mastersthesis"
    key = f"{thesis.family_name.split(' ')[0].lower() or 'thesis'}{thesis.degree_date.year if thesis.degree_date else ''}etd{thesis.id}"  # noqa: E501

    def esc(value: str) -> str:
        return value.replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}")

    fields = [
        ("author", f"{thesis.family_name}, {thesis.given_names}"),
        ("title", full_title(thesis)),
        ("school", current_app.config["REPOSITORY_INSTITUTION_NAME"]),
        ("year", str(thesis.degree_date.year) if thesis.degree_date else ""),
        ("doi", thesis.doi or ""),
        ("url", url_for("public.landing", thesis_id=thesis.id, _external=True)),
        ("keywords", ", ".join(thesis.keyword_list)),
        ("language", thesis.language or ""),
    ]
    body = ",\n".join(f"  {name} = {{{esc(value)}}}" for name, value in fields if value)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def pdf_available(thesis: Thesis) -> bool:
    return thesis.status == "published" and bool(thesis.pdf_file) and not thesis.is_embargoed()


def highwire_tags(thesis: Thesis, orcid_uri: str | None) -> list[tuple[str, str]]:
    """Google Scholar's ``citation_*`` tags; ``citation_author_orcid`` follows its author."""
    cfg = current_app.config
    tags = [("citation_title", full_title(thesis))]
    tags.append(("citation_author", f"{thesis.family_name}, {thesis.given_names}"))
    if orcid_uri:
        tags.append(("citation_author_orcid", orcid_uri))
    tags.append(("citation_author_institution", cfg["REPOSITORY_INSTITUTION_NAME"]))
    if thesis.degree_date:
        tags.append(("citation_publication_date", thesis.degree_date.strftime("%Y/%m/%d")))
    if thesis.published_at:
        tags.append(("citation_online_date", thesis.published_at.strftime("%Y/%m/%d")))
    tags.append(("citation_dissertation_institution", cfg["REPOSITORY_INSTITUTION_NAME"]))
    tags.append(("citation_publisher", cfg["REPOSITORY_INSTITUTION_NAME"]))
    if thesis.language:
        tags.append(("citation_language", thesis.language))
    for keyword in thesis.keyword_list:
        tags.append(("citation_keywords", keyword))
    if thesis.doi:
        tags.append(("citation_doi", thesis.doi))
    tags.append(
        ("citation_abstract_html_url", url_for("public.landing", thesis_id=thesis.id, _external=True))
    )
    if pdf_available(thesis):
        tags.append(("citation_pdf_url", url_for("public.pdf", thesis_id=thesis.id, _external=True)))
    chosen = license_of(thesis.license)
    if chosen is not None:
        # Highwire has no licence tag; Dublin Core's rights element is what harvesters read
        tags.append(("DC.rights", chosen.url))
    return tags


def json_ld(thesis: Thesis, orcid_id: str | None, orcid_uri: str | None, degree_label: str) -> dict:
    """schema.org ``Thesis``; the author's ``@id`` is their iD URI when they authenticated one."""
    cfg = current_app.config
    landing = url_for("public.landing", thesis_id=thesis.id, _external=True)
    author: dict[str, object] = {
        "@type": "Person",
        "name": thesis.author_name,
        "givenName": thesis.given_names,
        "familyName": thesis.family_name,
    }
    if orcid_id and orcid_uri:
        author["@id"] = orcid_uri
        author["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "ORCID",
            "value": orcid_id,
            "url": orcid_uri,
        }
    doc: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Thesis",
        "@id": f"https://doi.org/{thesis.doi}" if thesis.doi else landing,
        "url": landing,
        "name": thesis.title,
        "author": author,
        "inSupportOf": degree_label,
        "sourceOrganization": {
            "@type": "CollegeOrUniversity",
            "@id": cfg["REPOSITORY_INSTITUTION_ROR"],
            "name": cfg["REPOSITORY_INSTITUTION_NAME"],
        },
        "publisher": {"@type": "Organization", "name": cfg["REPOSITORY_NAME"]},
    }
    _describe(doc, thesis)
    co_authors = [p for p in people.contributors(thesis) if p.is_creator]
    if co_authors:
        doc["author"] = [author, *(person_ld(p) for p in co_authors)]
    others = [p for p in people.contributors(thesis) if not p.is_creator]
    if others:
        doc["contributor"] = [person_ld(p) for p in others]
    if pdf_available(thesis):
        doc["encoding"] = {
            "@type": "MediaObject",
            "contentUrl": url_for("public.pdf", thesis_id=thesis.id, _external=True),
            "encodingFormat": "application/pdf",
        }
    if thesis.embargo_until and thesis.is_embargoed():
        doc["isAccessibleForFree"] = False
    chosen = license_of(thesis.license)
    if chosen is not None:
        doc["license"] = chosen.url
    return doc


def _describe(doc: dict[str, object], thesis: Thesis) -> None:
    """The thesis's optional descriptive fields and its identifiers (DOI, handle)."""
    if thesis.subtitle:
        doc["alternativeHeadline"] = thesis.subtitle
    if thesis.abstract:
        doc["abstract"] = thesis.abstract
    if thesis.keyword_list:
        doc["keywords"] = thesis.keyword_list
    if thesis.language:
        doc["inLanguage"] = thesis.language
    if thesis.degree_date:
        doc["datePublished"] = thesis.degree_date.isoformat()
    identifiers = []
    if thesis.doi:
        identifiers.append({"@type": "PropertyValue", "propertyID": "doi", "value": thesis.doi,
                            "url": f"https://doi.org/{thesis.doi}"})
    if thesis.handle:
        identifiers.append({"@type": "PropertyValue", "propertyID": "handle",
                            "value": thesis.handle, "url": f"https://hdl.handle.net/{thesis.handle}"})
    if identifiers:
        doc["identifier"] = identifiers


#: How JSON-LD marks an iD its holder never proved (typed in by the depositor).
UNAUTHENTICATED_NOTE = "not authenticated"


def person_ld(person: people.Person) -> dict[str, object]:
    """A schema.org ``Person``. An authenticated iD is the person's ``@id`` and an ``identifier``;
    a typed one stays, as an ``identifier`` whose ``description`` says ``not authenticated``
    and never as ``@id`` (which would assert who the person is)."""
    doc: dict[str, object] = {"@type": "Person", "name": person.name}
    if person.orcid and person.orcid_uri:
        identifier: dict[str, object] = {
            "@type": "PropertyValue", "propertyID": "ORCID", "value": person.orcid,
            "url": person.orcid_uri,
        }
        if person.authenticated:
            doc["@id"] = person.orcid_uri
        else:
            identifier["description"] = UNAUTHENTICATED_NOTE
        doc["identifier"] = identifier
    return doc


def signposting(thesis: Thesis, orcid_uri: str | None) -> str:
    """FAIR signposting links for the landing page's ``Link`` header."""
    links = []
    if orcid_uri:
        links.append(f'<{orcid_uri}>; rel="author"')
    if thesis.doi:
        links.append(f'<https://doi.org/{thesis.doi}>; rel="cite-as"')
    links.append(
        f'<{url_for("public.metadata_jsonld", thesis_id=thesis.id, _external=True)}>; '
        'rel="describedby"; type="application/ld+json"'
    )
    links.append(
        f'<{url_for("public.metadata_bibtex", thesis_id=thesis.id, _external=True)}>; '
        'rel="describedby"; type="application/x-bibtex"'
    )
    if thesis.doi:
        links.append(
            f'<{url_for("public.metadata_datacite", thesis_id=thesis.id, _external=True)}>; '
            f'rel="describedby"; type="{DATACITE_MEDIA_TYPE}"'
        )
    if pdf_available(thesis):
        links.append(
            f'<{url_for("public.pdf", thesis_id=thesis.id, _external=True)}>; '
            'rel="item"; type="application/pdf"'
        )
    chosen = license_of(thesis.license)
    if chosen is not None:
        links.append(f'<{chosen.url}>; rel="license"')
    links.append('<https://schema.org/Thesis>; rel="type"')
    links.append('<https://schema.org/AboutPage>; rel="type"')
    return ", ".join(links)
