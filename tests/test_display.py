"""Display: the ORCID macros (connect button, iD in full/compact/inline form) as a page shows them.

Rendered through the real extension (``ORCID(app, db=db)``), parsed as HTML, and checked for what
a reader or a screen reader gets: the link target, the visible text, the accessible names, and
that ORCID data is never markup.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator

import lxml.etree
import lxml.html
import pytest
from flask import Flask, render_template_string
from flask_sqlalchemy import SQLAlchemy
from werkzeug.serving import make_server

from flask_orcid import ORCID
from flask_orcid.display import canonical_orcid_id, orcid_uri_for

CARBERRY = "0000-0002-1825-0097"
SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """A host application with the real extension; ``**config`` overrides ORCID_* keys."""

    def make(**config: object) -> Flask:
        app = Flask(__name__)
        app.config.update(
            TESTING=True,
            SECRET_KEY="display-tests",
            SQLALCHEMY_DATABASE_URI="sqlite://",
            ORCID_CLIENT_ID="APP-DEMO000000000001",
            ORCID_CLIENT_SECRET="demo-secret-0001",
            ORCID_ENVIRONMENT="production",
        )
        app.config.update(config)
        db = SQLAlchemy()
        db.init_app(app)
        ORCID(app, db=db)
        with app.app_context():
            db.create_all()  # /connect records its state in orcid_oauth_states
        return app

    yield make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def render(app: Flask, call: str, **context: object) -> lxml.html.HtmlElement:
    """Render ``{{ orcid.<call> }}`` in a request and parse the result as an HTML fragment."""
    with app.test_request_context("/"):
        html = render_template_string(
            '{% import "orcid/macros.html" as orcid %}<div>{{ orcid.' + call + " }}</div>",
            **context,
        )
    return lxml.html.fragment_fromstring(html)


def links(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return tree.findall(".//a")


def icons(tree: lxml.html.HtmlElement) -> list:
    return [el for el in tree.iter() if isinstance(el.tag, str) and el.tag.endswith("svg")]


def visible_text(tree: lxml.html.HtmlElement) -> str:
    """Text a sighted reader sees (SVG titles are not drawn)."""
    parts = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("title", f"{SVG_NS}title"):
            parts.append(el.tail or "")
            continue
        parts.append((el.text or "") + (el.tail or ""))
    return " ".join(" ".join(parts).split())


# --- full form ------------------------------------------------------------------------------------


def test_full_form_links_icon_and_whole_uri_to_the_record(app: Flask) -> None:
    tree = render(app, "orcid_id_full(value)", value=CARBERRY)
    (link,) = links(tree)
    assert link.get("href") == f"https://orcid.org/{CARBERRY}"
    # the icon is inside the link and names itself for screen readers
    (icon,) = icons(link)
    assert icon.get("role") == "img" and icon.get("aria-label") == "ORCID iD"
    assert any(
        c.get("fill", "").upper() == "#A6CE39" for c in icon.iter() if c.tag.endswith("circle")
    )
    assert visible_text(tree) == f"https://orcid.org/{CARBERRY}"


def test_full_form_accepts_the_uri_form_and_canonicalises(app: Flask) -> None:
    tree = render(app, "orcid_id_full(value)", value=f"https://orcid.org/{CARBERRY.lower()}")
    assert links(tree)[0].get("href") == f"https://orcid.org/{CARBERRY}"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"ORCID_ENVIRONMENT": "sandbox"}, f"https://sandbox.orcid.org/{CARBERRY}"),
        (
            {"ORCID_ENVIRONMENT": "emulator", "ORCID_EMULATOR_URL": "http://127.0.0.1:5999/"},
            f"http://127.0.0.1:5999/{CARBERRY}",
        ),
    ],
)
def test_sandbox_and_emulator_ids_link_to_their_own_host(
    make_app: Callable[..., Flask], config: dict, expected: str
) -> None:
    app = make_app(**config)
    for call in ("orcid_id_full(value)", "orcid_id_compact(value)", "orcid_id_inline(value)"):
        assert links(render(app, call, value=CARBERRY))[0].get("href") == expected
    assert visible_text(render(app, "orcid_id_full(value)", value=CARBERRY)) == expected


def test_an_account_from_another_environment_links_to_that_environment(app: Flask) -> None:
    tree = render(app, "orcid_id_full(value, environment='sandbox')", value=CARBERRY)
    assert links(tree)[0].get("href") == f"https://sandbox.orcid.org/{CARBERRY}"


# --- compact, inline ------------------------------------------------------------------------------


def test_compact_form_is_linked_icon_then_the_id(app: Flask) -> None:
    tree = render(app, "orcid_id_compact(value)", value=CARBERRY)
    (link,) = links(tree)
    assert link.get("href") == f"https://orcid.org/{CARBERRY}"
    assert link.get("aria-label") == f"ORCID iD {CARBERRY}"
    assert len(icons(link)) == 1 and icons(link)[0].get("aria-hidden") == "true"
    assert visible_text(tree) == CARBERRY


def test_inline_form_follows_the_name_and_names_the_person_for_screen_readers(app: Flask) -> None:
    tree = render(app, "orcid_id_inline(value, name=name)", value=CARBERRY, name="Josiah Carberry")
    (link,) = links(tree)
    assert link.get("aria-label") == f"ORCID iD of Josiah Carberry: {CARBERRY}"
    assert len(icons(link)) == 1
    assert visible_text(tree) == "Josiah Carberry"


# --- unauthenticated ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["orcid_id_full", "orcid_id_compact", "orcid_id_inline"])
def test_unauthenticated_id_never_gets_the_icon_and_says_so(app: Flask, form: str) -> None:
    tree = render(app, f"{form}(value, authenticated=False, name='Ada Advisor')", value=CARBERRY)
    assert icons(tree) == []
    assert "orcid-id-unauthenticated" in tree[0].get("class")
    (link,) = links(tree)
    assert link.get("href") == f"https://orcid.org/{CARBERRY}"
    assert link.get("rel") == "nofollow"
    assert "(ORCID iD not authenticated)" in visible_text(tree)
    assert visible_text(tree).startswith("Ada Advisor")


@pytest.mark.parametrize("authenticated", [True, False])
def test_text_that_is_not_an_id_is_never_a_link(app: Flask, authenticated: bool) -> None:
    tree = render(
        app,
        "orcid_id_full(value, authenticated=authenticated)",
        value="javascript:alert(1)",
        authenticated=authenticated,
    )
    assert links(tree) == [] and icons(tree) == []
    assert visible_text(tree) == "javascript:alert(1) (not a valid ORCID iD)"
    # a mistyped check digit is caught the same way
    tree = render(app, "orcid_id_compact(value)", value="0000-0002-1825-0098")
    assert links(tree) == [] and icons(tree) == []


# --- escaping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "orcid_id_full(value, name=name)",
        "orcid_id_compact(value, name=name)",
        "orcid_id_inline(value, name=name)",
        "orcid_id_inline(value, name=name, authenticated=False)",
        "orcid_id_full(name, authenticated=False)",
        "connect_button(label=name, next=name)",
    ],
)
def test_names_from_orcid_render_inert(app: Flask, call: str) -> None:
    tree = render(app, call, value=CARBERRY, name=HOSTILE)
    assert tree.findall(".//script") == []
    assert HOSTILE in visible_text(tree)
    for el in tree.iter():
        assert not any(attr.startswith("on") for attr in el.attrib)
    if call.startswith("orcid_id_inline(value, name=name)"):
        assert HOSTILE in links(tree)[0].get("aria-label")


# --- connect button -------------------------------------------------------------------------------


def test_connect_button_is_a_link_to_the_connect_view_with_orcid_wording(app: Flask) -> None:
    tree = render(app, "connect_button(next='/deposit/3?step=2')")
    (link,) = links(tree)
    assert link.get("href") == "/orcid/connect?next=/deposit/3?step%3D2"
    assert "orcid-connect-button" in link.get("class")
    # accessible name = the visible text; the icon is decorative
    assert visible_text(link) == "Connect your ORCID iD"
    (icon,) = icons(link)
    assert icon.get("aria-hidden") == "true"
    assert link.get("aria-label") is None


def test_connect_button_follows_the_url_prefix(make_app: Callable[..., Flask]) -> None:
    app = make_app(ORCID_URL_PREFIX="/auth/orcid")
    assert links(render(app, "connect_button()"))[0].get("href") == "/auth/orcid/connect"


def test_signin_wording_and_custom_label(app: Flask) -> None:
    assert visible_text(render(app, "connect_button(signin=True)")) == "Sign in with ORCID"
    assert visible_text(render(app, "signin_button()")) == "Sign in with ORCID"
    tree = render(app, "connect_button(label='Link ORCID')")
    assert visible_text(tree) == "Link ORCID"


def test_the_connect_button_leads_to_orcid(app: Flask) -> None:
    """Following the button's link starts the OAuth flow (the view redirects to ORCID)."""
    href = links(render(app, "connect_button(next='/after')"))[0].get("href")
    response = app.test_client().get(href)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("https://orcid.org/oauth/authorize?")


# --- static files ---------------------------------------------------------------------------------


def test_static_icon_and_stylesheet_are_served(app: Flask) -> None:
    client = app.test_client()
    tree = render(app, "stylesheet()")
    href = tree.find(".//link").get("href")
    with client.get(href) as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        text = css.get_data(as_text=True)
    # a visible keyboard focus ring on the button and the iD links
    assert ".orcid-connect-button:focus-visible" in text and "outline: 3px solid" in text

    with client.get("/orcid/static/orcid/orcid-id-icon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        root = lxml.etree.fromstring(svg.data)
    assert root.tag == f"{SVG_NS}svg" and root.get("aria-label") == "ORCID iD"
    fills = {el.get("fill") for el in root.iter() if isinstance(el.tag, str) and el.get("fill")}
    assert fills == {"#A6CE39", "#FFFFFF"}


def test_inline_icon_is_the_same_drawing_as_the_static_file(app: Flask) -> None:
    with app.test_client().get("/orcid/static/orcid/orcid-id-icon.svg") as response:
        static = lxml.etree.fromstring(response.data)
    shapes = [
        (el.tag.split("}")[-1], dict(el.attrib))
        for el in static
        if isinstance(el.tag, str) and el.tag.endswith(("circle", "rect", "path"))
    ]
    (inline,) = icons(render(app, "icon(32)"))
    inline_shapes = [(el.tag, dict(el.attrib)) for el in inline if isinstance(el.tag, str)]
    assert inline_shapes == shapes


# --- helpers --------------------------------------------------------------------------------------


def test_helpers_outside_a_request() -> None:
    assert canonical_orcid_id("https://orcid.org/0000-0002-1825-009x") is None  # bad check digit
    assert canonical_orcid_id(None) is None
    assert canonical_orcid_id(" 0000 0002 1825 0097 ") == CARBERRY
    assert orcid_uri_for(CARBERRY) == f"https://orcid.org/{CARBERRY}"
    assert orcid_uri_for(CARBERRY, "sandbox") == f"https://sandbox.orcid.org/{CARBERRY}"
    assert orcid_uri_for("not an id") is None


def test_orcid_uri_filter(app: Flask) -> None:
    with app.test_request_context("/"):
        out = render_template_string("{{ x | orcid_uri }}", x=CARBERRY)
    assert out == f"https://orcid.org/{CARBERRY}"


# --- in a real browser ----------------------------------------------------------------------------


def _chromium_path() -> str | None:
    """A system Chromium when Playwright's own build is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def live_page(make_app: Callable[..., Flask]) -> Iterator[tuple[str, object]]:
    """The macros on a host page served over real HTTP on 127.0.0.1, opened in Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # ORCID "lives" on a closed local port: nothing the browser does can leave the machine
    app = make_app(ORCID_ENVIRONMENT="emulator", ORCID_EMULATOR_URL="http://127.0.0.1:9")

    @app.get("/profile")
    def profile() -> str:
        return render_template_string(
            """<!doctype html><html lang="en"><head><title>Profile</title>
            {% import "orcid/macros.html" as orcid %}{{ orcid.stylesheet() }}</head><body>
            <p>{{ orcid.connect_button(next="/profile") }}</p>
            <p>{{ orcid.orcid_id_full(id) }}</p>
            <p>{{ orcid.orcid_id_inline(id, name="Josiah Carberry") }}</p>
            <p>{{ orcid.orcid_id_compact(id, authenticated=False, name="Ada Advisor") }}</p>
            </body></html>""",
            id=CARBERRY,
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch()
            except sync_api.Error:
                path = _chromium_path()
                if path is None:
                    pytest.skip("no Chromium: run `playwright install chromium`")
                browser = playwright.chromium.launch(executable_path=path)
            try:
                yield f"http://127.0.0.1:{server.server_port}", browser.new_page()
            finally:
                browser.close()
    finally:
        server.shutdown()
        thread.join(5)


def test_in_a_browser_the_button_is_reachable_by_keyboard_and_named(live_page) -> None:
    base, page = live_page
    page.goto(f"{base}/profile")
    # accessible names as assistive technology computes them
    button = page.get_by_role("link", name="Connect your ORCID iD", exact=True)
    assert button.count() == 1
    assert page.get_by_role("img", name="ORCID iD").count() == 1  # the full form's icon
    assert page.get_by_role("link", name=f"ORCID iD of Josiah Carberry: {CARBERRY}").count() == 1
    assert (
        page.locator(".orcid-id-full a").get_attribute("href") == f"http://127.0.0.1:9/{CARBERRY}"
    )
    # the unauthenticated advisor: no icon image anywhere near it
    advisor = page.locator(".orcid-id-unauthenticated")
    assert advisor.locator("svg").count() == 0
    assert "(ORCID iD not authenticated)" in advisor.inner_text()

    # Tab reaches the button first, with a visible focus ring from orcid.css
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement, s = getComputedStyle(e);"
        " return [e.className, s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused == ["orcid-connect-button", "solid", "3px"]
    icon_box = button.locator("svg").bounding_box()
    assert icon_box["width"] == 24 and icon_box["height"] == 24

    # Enter follows it to the connect view, which sends the browser on to ORCID's authorize URL
    page.route("**/oauth/authorize**", lambda route: route.fulfill(body="ORCID sign-in"))
    with page.expect_request("**/oauth/authorize**") as authorize:
        page.keyboard.press("Enter")
    assert authorize.value.url.startswith("http://127.0.0.1:9/oauth/authorize?client_id=")
