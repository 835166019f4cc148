"""i18n: the Spanish catalog is complete and compiled, and the extension's pages really are Spanish.

The catalog tests read the shipped ``.po``/``.mo`` files and re-extract the strings from the
sources (the same rules as ``babel.cfg``), so adding a user-facing string without translating it
fails here. The page tests render the blueprint's pages with ``Accept-Language: es`` and look
for Spanish text and for English left behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import Babel, force_locale
from flask_sqlalchemy import SQLAlchemy
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from flask_orcid import ORCID, ORCIDIdValidator
from flask_orcid.i18n import LOCALES, TRANSLATIONS_DIR, gettext, lazy_gettext, ngettext

ROOT = Path(__file__).resolve().parent.parent
PO = TRANSLATIONS_DIR / "es" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS_DIR / "es" / "LC_MESSAGES" / "messages.mo"

#: The keywords of the extraction command in babel.cfg.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "orcid_gettext": None,
    "orcid_ngettext": (1, 2),
}

OFFLINE = {
    "ORCID_EMULATOR_URL": "http://127.0.0.1:9",
    "ORCID_CLIENT_ID": "APP-OFFLINE00000001",
    "ORCID_CLIENT_SECRET": "offline-secret",
}
SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def read_catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="es")


def msgid_key(message_id: Any) -> str:
    return message_id[0] if isinstance(message_id, tuple | list) else message_id


# --- the catalog ----------------------------------------------------------------------------------


def test_every_spanish_entry_is_translated_and_not_fuzzy() -> None:
    catalog = read_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid_key(message.id)!r}")
        elif not all(s.strip() for s in strings):
            problems.append(f"untranslated: {msgid_key(message.id)!r}")
    assert not problems, "\n".join(problems)
    assert len([m for m in catalog if m.id]) >= 60


def test_placeholders_survive_translation() -> None:
    """A translation that drops or renames %(name)s would crash or lose data at render time."""
    catalog = read_catalog()
    errors = [
        f"{msgid_key(message.id)!r}: {error}"
        for message, message_errors in catalog.check()
        for error in message_errors
    ]
    assert not errors, "\n".join(errors)
    for message in catalog:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(re.findall(r"%\((\w+)\)", ids[0]))
            for s in strings:
                assert set(re.findall(r"%\((\w+)\)", s)) == wanted, msgid_key(message.id)


def test_every_string_in_the_sources_is_in_the_catalog() -> None:
    """Re-extract like babel.cfg says; run its commands and translate when this fails."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = {
        msgid_key(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    in_catalog = {msgid_key(m.id) for m in read_catalog() if m.id}
    missing = sorted(extracted - in_catalog)
    assert not missing, (
        "strings not in flask_orcid/translations/es (re-extract with the commands in babel.cfg "
        "and translate them):\n" + "\n".join(missing)
    )
    # the extraction found the pages' strings, not nothing
    assert {"Connect your ORCID iD", "Your ORCID connection", "Disconnect"} <= extracted


def test_the_compiled_catalog_matches_the_po_file() -> None:
    """The .mo is what Flask-Babel loads: a .po edited without `pybabel compile` does nothing."""
    with MO.open("rb") as f:
        compiled = read_mo(f)

    def strings(message: Any) -> tuple[str, ...]:
        value = message.string
        return tuple(value) if isinstance(value, tuple | list) else (value,)

    po = {msgid_key(m.id): strings(m) for m in read_catalog() if m.id}
    mo = {msgid_key(m.id): strings(m) for m in compiled if m.id}
    stale = sorted(k for k in po.keys() | mo.keys() if po.get(k) != mo.get(k))
    assert not stale, "run `pybabel compile -d flask_orcid/translations`:\n" + "\n".join(stale)
    assert "es" in LOCALES


# --- gettext --------------------------------------------------------------------------------------


@pytest.fixture
def babel_app() -> Flask:
    app = Flask("i18n_host")
    Babel(app, locale_selector=lambda: "es_MX")
    return app


def test_gettext_follows_the_request_locale_with_regional_fallback(babel_app: Flask) -> None:
    with babel_app.test_request_context("/"):
        assert gettext("Connect your ORCID iD") == "Conecte su iD de ORCID"
        assert gettext("ORCID iD %(orcid)s", orcid="0000-0002-1825-0097") == (
            "iD de ORCID 0000-0002-1825-0097"
        )
        label = lazy_gettext("Disconnect")
        assert str(label) == "Desconectar"
        with force_locale("en"):
            assert str(label) == "Disconnect"  # lazy: translated when used
        assert ngettext("%(num)d item", "%(num)d items", 3) == "3 items"  # unknown: source kept


def test_orcid_id_validator_explains_in_the_users_language(babel_app: Flask) -> None:
    """An advisor's iD typed into a form: the error says what is wrong, in Spanish."""

    class AdvisorForm(Form):
        advisor_orcid = StringField(validators=[ORCIDIdValidator()])

    cases = {
        "0000-0002-1825-0098": "El dígito de control de 0000-0002-1825-0098 no es correcto",
        "0000-0002-1825": "Un iD de ORCID tiene 16 dígitos, como 0000-0002-1825-0097",
        "0000-00a2-1825-0097": "no se admite 'A' en el lugar del dígito 7",
    }
    with babel_app.test_request_context("/"):
        for value, spanish in cases.items():
            form = AdvisorForm(MultiDict({"advisor_orcid": value}))
            assert not form.validate()
            assert spanish in form.advisor_orcid.errors[0]
    with Flask("english").test_request_context("/"):
        form = AdvisorForm(MultiDict({"advisor_orcid": "0000-0002-1825-0098"}))
        assert not form.validate()
        assert form.advisor_orcid.errors[0].startswith("The check digit of 0000-0002-1825-0098")


def test_without_flask_babel_or_a_request_the_english_source_is_used() -> None:
    assert gettext("Connect your ORCID iD") == "Connect your ORCID iD"
    with Flask("no_babel").test_request_context("/"):
        assert gettext("Disconnect") == "Disconnect"
        assert ngettext("%(num)d file", "%(num)d files", 1) == "1 file"


def test_macros_in_spanish(babel_app: Flask) -> None:
    babel_app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite://", **OFFLINE)
    ORCID(babel_app, db=SQLAlchemy(babel_app))
    with babel_app.test_request_context("/"):
        html = render_template_string(
            '{% import "orcid/macros.html" as o %}'
            "{{ o.connect_button() }}|{{ o.signin_button() }}|{{ o.orcid_id_full(i) }}|"
            "{{ o.orcid_id_inline(i, name='Ana') }}|"
            "{{ o.orcid_id_compact(i, authenticated=False) }}",
            i="0000-0002-1825-0097",
        )
    for spanish in (
        "Conecte su iD de ORCID",
        "Iniciar sesión con ORCID",
        'aria-label="iD de ORCID"',
        'aria-label="iD de ORCID de Ana: 0000-0002-1825-0097"',
        "(iD de ORCID no autenticado)",
    ):
        assert spanish in html


# --- pages ----------------------------------------------------------------------------------------


def texts(html: str) -> list[str]:
    """Visible text chunks plus the attributes people hear or read (aria-label, title, alt)."""
    tree = lxml.html.document_fromstring(html)
    chunks = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        if el.tag == "code":  # machine values (keys, codes), the same in every language
            if el.tail and el.tail.strip():
                chunks.append(" ".join(el.tail.split()))
            continue
        for piece in (el.text, el.tail, *(el.get(a) for a in ("aria-label", "title", "alt"))):
            if piece and piece.strip():
                chunks.append(" ".join(piece.split()))
    return chunks


_NOT_WORDS = re.compile(
    r"\S+@\S+|https?://\S+|\d{4}-\d{4}-\d{4}-\d{3}[\dX]|\b(?:ORCID|iD|HTTP|ms)\b"
)


def english_left(english_html: str, spanish_html: str, data: tuple[str, ...] = ()) -> list[str]:
    """Text shown identically in the English and the Spanish page, that is made of words
    (apart from ``data``: what people entered, such as a thesis title)."""
    spanish = set(texts(spanish_html))
    return [
        chunk
        for chunk in dict.fromkeys(texts(english_html))
        if chunk in spanish
        and chunk not in data
        and len(re.findall(r"[A-Za-z]{2,}", _NOT_WORDS.sub(" ", chunk))) >= 1
    ]


def both(client: Any, method: str, url: str, **kwargs: Any) -> tuple[Any, Any]:
    call = getattr(client, method)
    return call(url, headers=ENGLISH, **kwargs), call(url, headers=SPANISH, **kwargs)


def test_connection_page_without_an_account_is_all_spanish(
    make_app: Callable[..., Flask], make_user: Callable[..., Any], login: Callable[..., None]
) -> None:
    app = make_app(**OFFLINE)
    client = app.test_client()
    login(client, make_user(app, email="m@example.edu"))
    en, es = both(client, "get", "/orcid/")
    assert en.status_code == es.status_code == 200
    page = es.get_data(as_text=True)
    assert '<html lang="es">' in page
    for spanish in (
        "Su conexión con ORCID",
        "No ha conectado ningún iD de ORCID a su cuenta.",
        "¿Qué es ORCID?",
        "Qué podremos hacer",
        "Conocer su iD de ORCID, para poder mostrarlo como verificado.",
        "Conecte su iD de ORCID",
        "¿Necesita ayuda? Escriba a",
    ):
        assert spanish in page
    assert english_left(en.get_data(as_text=True), page) == []


@pytest.mark.parametrize(
    ("method", "url", "status", "spanish"),
    [
        # a forged state
        ("get", "/orcid/callback?state=forged&code=abc", 400, "Empiece de nuevo, por favor."),
        # no state at all
        ("get", "/orcid/callback?code=abc", 400, "no es de fiar"),
        # disconnect without the CSRF token
        ("post", "/orcid/disconnect", 400, "Vuelva a cargar la página"),
    ],
)
def test_error_pages_are_spanish(
    make_app: Callable[..., Flask],
    make_user: Callable[..., Any],
    login: Callable[..., None],
    method: str,
    url: str,
    status: int,
    spanish: str,
) -> None:
    app = make_app(**OFFLINE)
    client = app.test_client()
    login(client, make_user(app, email="m@example.edu"))
    en, es = both(client, method, url, follow_redirects=True)
    assert en.status_code == es.status_code == status
    page = es.get_data(as_text=True)
    assert spanish in page and '<html lang="es">' in page
    assert english_left(en.get_data(as_text=True), page) == []


def test_signed_out_visitor_gets_spanish(make_app: Callable[..., Flask]) -> None:
    app = make_app(**OFFLINE)
    en, es = both(app.test_client(), "get", "/orcid/")
    assert es.status_code == en.status_code
    if es.status_code in (301, 302, 303):  # sent to the host's login page
        return
    page = es.get_data(as_text=True)
    assert "Inicie sesión en este sitio" in page
    assert english_left(en.get_data(as_text=True), page) == []


# --- the whole flow, in Spanish -------------------------------------------------------------------


def test_connected_and_disconnected_pages_are_spanish(
    make_app, make_user, login, connect, emulator
) -> None:
    app = make_app()
    en_client = app.test_client()
    login(en_client, make_user(app, email="en@example.edu", locale="en"))
    assert connect(en_client, "josiah@example.edu").status_code == 302
    es_client = app.test_client()
    login(es_client, make_user(app, email="es@example.edu", locale="es"))
    assert connect(es_client, "maria@example.edu").status_code == 302

    en, es = en_client.get("/orcid/"), es_client.get("/orcid/")
    page = es.get_data(as_text=True)
    for spanish in (
        "Este iD de ORCID está conectado a su cuenta:",
        "Lo que nos permitió hacer",
        "Añadir obras (como su tesis) y afiliaciones",
        "Desconectar mi iD de ORCID",
        'aria-label="iD de ORCID"',
    ):
        assert spanish in page
    assert english_left(en.get_data(as_text=True), page) == []

    def disconnect(client: Any) -> Any:
        tree = lxml.html.document_fromstring(
            client.get("/orcid/disconnect/confirm").get_data(as_text=True))
        token = tree.xpath(
            "//form[contains(@class, 'orcid-disconnect-form')]//input[@name='csrf_token']/@value"
        )[0]
        return client.post("/orcid/disconnect", data={"csrf_token": token}, follow_redirects=True)

    en, es = disconnect(en_client), disconnect(es_client)
    assert en.status_code == es.status_code == 200
    page = es.get_data(as_text=True)
    assert "Su iD de ORCID está desconectado" in page
    assert "Lo que permanece en su registro de ORCID" in page
    assert english_left(en.get_data(as_text=True), page) == []


def test_denial_page_is_spanish(make_app, make_user, login, connect, emulator) -> None:
    app = make_app()
    pages = []
    for locale in ("en", "es"):
        client = app.test_client()
        login(client, make_user(app, email=f"{locale}@example.edu", locale=locale))
        pages.append(connect(client, "josiah@example.edu", approve=False).get_data(as_text=True))
    en, es = pages
    assert "No ha conectado su iD de ORCID" in es and "Continuar sin ORCID" in es
    assert "¿Qué es ORCID?" in es
    assert english_left(en, es) == []


def test_items_and_admin_pages_are_spanish(make_app, make_user, login, monkeypatch) -> None:
    from flask import session

    from .outbox_support import thesis
    from .plugins.app import db
    from .plugins.app import orcid as ext

    app = make_app(**OFFLINE)
    monkeypatch.setattr(ext, "_admin_checker", lambda: bool(session.get("admin")))
    pages = {}
    for locale in ("en", "es"):
        user = make_user(app, email=f"{locale}@example.edu", locale=locale)
        with app.app_context():
            ext.publish(str(user.id), "thesis:1", thesis(1, "Über Töpfe"))
            db.session.commit()
            item = ext.item_state(str(user.id), "thesis:1")
            item.state, item.park_reason, item.error_code = "parked", "rejected", 9037
            db.session.commit()
        client = app.test_client()
        login(client, user)
        with client.session_transaction() as sess:
            sess["admin"] = True
        items = client.get("/orcid/items")
        admin = client.get("/orcid/admin")
        assert items.status_code == admin.status_code == 200
        pages[locale] = items.get_data(as_text=True), admin.get_data(as_text=True)
    (en_items, en_admin), (es_items, es_admin) = pages["en"], pages["es"]
    assert "Lo que este sitio escribió en su registro de ORCID" in es_items
    assert "Envíos a ORCID" in es_admin and "Elementos que requieren atención" in es_admin
    assert english_left(en_items, es_items, data=("Über Töpfe",)) == []
    # the admin's event and state columns show ORCID's and the worker's codes, not prose
    assert english_left(en_admin, es_admin, data=("Über Töpfe",)) == []
