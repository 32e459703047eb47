"""强光模式 (high contrast) through the test client: the header's form, the cookie it sets,
the class every page renders from it, and where the form may send the courier back to.

The browser's side (what it looks like, without JavaScript, offline, axe) is in
tests/browser/test_high_contrast_browser.py.
"""

from __future__ import annotations

import html
import re
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_login import csrf_from

from stationfinder.web.couriers.display import COOKIE, same_site_path

ENDPOINT = "/display/contrast"
YEAR = 365 * 24 * 3600


def _form(page: str) -> dict[str, str]:
    """The toggle's form: its action, hidden fields and the button's name/value/state."""
    match = re.search(r'<form class="contrast"(.*?)</form>', page, re.S)
    assert match, "no 强光模式 form in the header"
    form = match.group(0)
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)
    }
    action = re.search(r'action="([^"]+)"', form)
    button = re.search(r"<button[^>]*>", form)
    assert action and button
    for attribute in ("name", "value", "aria-pressed"):
        found = re.search(rf'{attribute}="([^"]*)"', button.group(0))
        assert found, f"the button has no {attribute}"
        fields[f"button:{attribute}"] = found.group(1)
    fields["action"] = action.group(1)
    fields["label"] = re.sub(r"<[^>]+>|☀", "", form[button.end() : form.index("</button>")])
    return fields


def _html_class(page: str) -> str:
    tag = re.search(r"<html[^>]*>", page)
    assert tag, "no <html> tag"
    found = re.search(r'class="([^"]*)"', tag.group(0))
    return found.group(1) if found else ""


def _cookie(response, name: str = COOKIE) -> SimpleCookie:  # type: ignore[no-untyped-def]
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            return cookie
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def _switch(client: FlaskClient, wanted: str, next_: str | None, **kw: object):  # type: ignore[no-untyped-def]
    page = client.get("/", **kw).text
    data = {"csrf_token": csrf_from(page), "contrast": wanted}
    if next_ is not None:
        data["next"] = next_
    return client.post(ENDPOINT, data=data, **kw)


def test_the_header_carries_a_form_that_works_without_javascript(client: FlaskClient) -> None:
    page = client.get("/council?lang=en&status=new").text
    form = _form(page)
    assert form["action"] == ENDPOINT
    assert form["csrf_token"]
    assert form["next"] == "/council?lang=en&status=new"  # back to this very page
    assert form["button:name"] == "contrast" and form["button:value"] == "high"
    assert form["button:aria-pressed"] == "false"
    assert form["label"].strip() == "High contrast"
    assert _html_class(page) == ""


def test_switching_on_sets_a_long_lived_lax_cookie_and_goes_back(client: FlaskClient) -> None:
    response = _switch(client, "high", "/council?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/council?lang=en"
    cookie = _cookie(response)[COOKIE]
    assert cookie.value == "high"
    assert int(cookie["max-age"]) >= YEAR
    assert cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP: a Secure cookie would be dropped
    assert not cookie["httponly"]  # app.js reads it for pages kept offline
    page = client.get("/council?lang=en").text
    assert _html_class(page) == "contrast-high"
    form = _form(page)
    assert form["button:aria-pressed"] == "true" and form["button:value"] == "normal"


def test_the_cookie_is_secure_over_https(client: FlaskClient) -> None:
    # Over HTTPS Flask-WTF also wants the Referer to be this site, as a browser sends it.
    response = _switch(
        client, "high", "/", base_url="https://localhost", headers={"Referer": "https://localhost/"}
    )
    assert response.status_code == 303
    assert _cookie(response)[COOKIE]["secure"]


def test_switching_off_forgets_the_choice(client: FlaskClient) -> None:
    _switch(client, "high", "/")
    assert _html_class(client.get("/").text) == "contrast-high"
    response = _switch(client, "normal", "/map")
    assert response.status_code == 303 and response.headers["Location"] == "/map"
    cookie = _cookie(response)[COOKIE]
    assert cookie.value == "" and cookie["max-age"] == "0"
    page = client.get("/map").text
    assert _html_class(page) == ""
    assert _form(page)["button:aria-pressed"] == "false"


def test_every_page_renders_the_choice(client: FlaskClient) -> None:
    station = client.get("/api/v1/stations").get_json()["features"][0]["id"]
    client.set_cookie(COOKIE, "high")
    for path in (
        "/",
        "/?lang=en",
        "/nearest?lat=30.3062&lon=120.3227",
        "/map",
        f"/stations/{station}",
        f"/stations/{station}/report",
        "/council",
        "/council/new",
        "/council/mine",
        "/offline",
        "/stations/QT-NO-SUCH",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert _html_class(response.text) == "contrast-high", path
        assert "Cookie" in response.headers.get("Vary", ""), path  # never shared across phones


def test_an_unknown_cookie_value_is_the_normal_mode(client: FlaskClient) -> None:
    client.set_cookie(COOKIE, "HIGH<script>")
    page = client.get("/").text
    assert _html_class(page) == ""
    assert "HIGH&lt;script" not in page and '<script>"' not in page


def test_the_english_page_says_high_contrast_and_the_chinese_page_says_qiangguang(
    client: FlaskClient,
) -> None:
    assert _form(client.get("/?lang=en").text)["label"].strip() == "High contrast"
    assert _form(client.get("/?lang=zh").text)["label"].strip() == "强光模式"


OFF_SITE = [
    "//evil.example/x",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "/ /evil.example",
    "evil.example",
    "",
    "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_form_never_sends_the_courier_off_site(client: FlaskClient, target: str) -> None:
    response = _switch(client, "high", target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"  # the start page instead
    assert _cookie(response)[COOKIE].value == "high"  # the choice itself still counts


def test_without_next_the_form_goes_to_the_start_page(client: FlaskClient) -> None:
    response = _switch(client, "high", None)
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/council?lang=en&status=new", "/council?lang=en&status=new"),
        ("/nearest?place=金沙湖", "/nearest?place=%E9%87%91%E6%B2%99%E6%B9%96"),
        ("/stations/QT-XS-001#hours", "/stations/QT-XS-001#hours"),
    ],
)
def test_same_site_paths_are_kept(target: str, expected: str) -> None:
    assert same_site_path(target) == expected


@pytest.mark.parametrize("target", OFF_SITE)
def test_same_site_path_refuses(target: str) -> None:
    assert same_site_path(target) is None


def test_a_form_without_its_token_changes_nothing(app: Flask) -> None:
    client = app.test_client()
    response = client.post(ENDPOINT, data={"contrast": "high", "next": "/"})
    assert response.status_code == 400
    assert not any(h.startswith(f"{COOKIE}=") for h in response.headers.getlist("Set-Cookie"))
