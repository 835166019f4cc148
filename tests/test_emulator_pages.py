"""Issue 12: the emulator's pages for people: the public record at /<iD>, registration
prefilled from the authorize request, WCAG AA colours, a translated console."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import requests
from lxml import html

from tests.outbox_support import new_researcher
from tests.test_emulator_api import CARBERRY, Api, put_code_of, user_token, work_xml
from tests.test_emulator_oauth import authorize_url

BASE = Path(__file__).resolve().parent.parent / "flask_orcid" / "emulator" / "templates" / "base.html"


def _page(response: requests.Response) -> html.HtmlElement:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    return html.fromstring(response.text)


def test_the_id_link_opens_the_public_record(emulator):
    page = _page(requests.get(f"{emulator.url}/{CARBERRY}", timeout=10))
    assert page.get_element_by_id("record-name").text_content() == "Josiah S. Carberry"
    works = [w.text_content() for w in page.find_class("work")]
    assert any("The Psychoceramics of Cracked Pots" in w and "Journal article" in w
               and "DOI: 10.5555/12345678" in " ".join(w.split()) for w in works)
    assert page.xpath('//a[@href="https://doi.org/10.5555/12345678"]')
    places = " ".join(a.text_content() for a in page.find_class("affiliation"))
    assert "Brown University" in places and "Wesleyan University" in places


def test_the_public_record_shows_only_public_items_and_speaks_spanish(emulator):
    researcher = new_researcher(emulator, "Ana", "Pérez")
    api = Api(emulator, user_token(emulator, email=researcher["email"], password=researcher["password"]),
              orcid=researcher["orcid"])
    put_code_of(api.post("/work", work_xml(title="Una tesis &lt;b&gt;pública&lt;/b&gt;", value="10.5555/page.1")))
    hidden = put_code_of(api.post("/work", work_xml(title="Private one", value="10.5555/page.2")))
    # the researcher makes the second work private (the emulator's state, as its console would)
    registry = emulator.app.extensions["orcid_emulator"].state
    with registry.lock:
        registry.researchers[researcher["orcid"]].find(hidden).visibility = "private"
    page = _page(requests.get(f"{emulator.url}/{researcher['orcid']}?lang=es", timeout=10))
    assert page.get("lang") == "es"
    text = page.text_content()
    assert "Ana Pérez" in text and "Una tesis <b>pública</b>" in text and "Private one" not in text
    assert "Tesis doctoral o de maestría" in text and "Obras (1)" in " ".join(text.split())


def test_an_unknown_or_merged_id_says_so(emulator):
    assert requests.get(f"{emulator.url}/0000-0000-0000-0000", timeout=10).status_code == 404
    old, new = new_researcher(emulator, "Old"), new_researcher(emulator, "New")
    emulator.record_status(old["orcid"], "merged", primary=new["orcid"])
    page = _page(requests.get(f"{emulator.url}/{old['orcid']}", timeout=10))
    assert page.xpath(f'//a[@href="/{new["orcid"]}"]')
    assert "deprecated" in page.text_content()


def test_register_now_takes_the_names_and_email_from_the_authorize_request(emulator):
    with requests.Session() as browser:
        signin = browser.get(authorize_url(emulator, email="new-person@example.edu", given_names="Íñigo",
                                           family_names="Ruiz"), timeout=10)
        link = html.fromstring(signin.text).get_element_by_id("register-link").get("href")
        form = html.fromstring(browser.get(urljoin(signin.url, link), timeout=10).text)
    fields = {el.get("name"): el.get("value") for el in form.xpath('//form[@id="register-form"]//input')}
    assert (fields["given_names"], fields["family_names"], fields["email"]) == (
        "Íñigo", "Ruiz", "new-person@example.edu")


def _contrast(fore: str, back: str) -> float:
    def luminance(colour: str) -> float:
        colour = colour.lstrip("#")
        if len(colour) == 3:
            colour = "".join(c * 2 for c in colour)
        channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(fore), luminance(back)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_text_colour_passes_wcag_aa():
    style = re.search(r"<style>(.*?)</style>", BASE.read_text(), re.S).group(1)
    body = re.search(r"body\s*{([^}]*)}", style).group(1)
    text_colour = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{3,6})", body).group(1)
    checked = 0
    for selector, rules in re.findall(r"([^{}]+){([^}]*)}", style):
        fore = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", rules)
        back = re.search(r"background:\s*(#[0-9a-fA-F]{3,6})", rules)
        if fore or back:
            ratio = _contrast(fore.group(1) if fore else text_colour, back.group(1) if back else "#fff")
            assert ratio >= 4.5, f"{selector.strip()}: contrast {ratio:.2f} is below WCAG AA"
            checked += 1
    assert checked >= 4


def test_the_console_is_translated(emulator):
    with requests.Session() as browser:
        browser.get(f"{emulator.url}/signin?lang=es", timeout=10)
        signin = browser.get(f"{emulator.url}/signin", timeout=10)
        token = html.fromstring(signin.text).xpath('//input[@name="csrf_token"]')[0].get("value")
        console = browser.post(f"{emulator.url}/signin", data={
            "csrf_token": token, "username": "josiah@example.edu", "password": "carberry-1",
            "next_query": ""}, timeout=10)
        if "/console" not in console.url:
            console = browser.get(f"{emulator.url}/console", timeout=10)
    text = " ".join(html.fromstring(console.text).text_content().split())
    assert "Su registro ORCID" in text and "Todo el mundo" in text and "obra" in text
    assert " public " not in f" {text} " and "Everyone" not in text
