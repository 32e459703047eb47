"""强光模式 (high contrast) in real Chromium, on a 393 × 851 phone.

A courier in strong sunlight taps the header's toggle: the page turns black on white at
once, stays so on reload and on the council's pages, and turns back on a second tap. The
same works without JavaScript (a form post that comes back to the page), and a copy of a
page the service worker kept offline shows the courier's current choice. The contrast is
measured from getComputedStyle for every piece of text on the page (WCAG's relative
luminance, backgrounds composited up the tree), axe finds no WCAG 2.1 A/AA violation in
the mode, and the layout holds at 393 px.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from test_tap_targets import MIN_PX, TARGETS_JS

from stationfinder.council import issues as council
from stationfinder.db import session_scope
from stationfinder.geo.point import Point
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

pytestmark = pytest.mark.browser

PHONE = {"width": 393, "height": 851}
AAA = 7.0  # WCAG 2.1 1.4.6, contrast (enhanced)
HIGH = "contrast-high"
LABEL = {"zh": "强光模式", "en": "High contrast"}
JINSHA_LAKE = "/nearest?lat=30.3062&lon=120.3227"
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE = Axe()

# For every visible element with text of its own (and every text field), the contrast
# ratio of its colour against what is behind it: its background and its ancestors',
# composited from the root down (white under everything), opacity included. Maps are left
# out: their text sits on tiles, not on a colour.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3] + under[3] * (1 - top[3]);
    if (!a) return [255, 255, 255, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a)
      .concat([a]);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      layers.push(parse(getComputedStyle(node).backgroundColor));
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const opacity = (el) => {
    let o = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      o *= Number(getComputedStyle(node).opacity);
    }
    return o;
  };
  const seen = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.leaflet-container, script, style, noscript, [hidden]')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const field = el.matches('input:not([type=hidden]):not([type=radio]):not([type=checkbox]),'
      + ' select, textarea');
    if (!own && !field) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width < 2 || box.height < 2 || style.visibility === 'hidden') continue;
    const bg = background(el);
    const ink = parse(style.color);
    ink[3] *= opacity(el);
    const fg = over(ink, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const words = (el.innerText || el.value || el.getAttribute('placeholder') || el.tagName)
      .trim().slice(0, 30);
    seen.push({ratio: (hi + 0.05) / (lo + 0.05), what: `${el.tagName}.${el.className} "${words}"`,
               color: style.color, fontSize: parseFloat(style.fontSize)});
  }
  return seen;
}
"""


def _contrast(page: Any) -> list[dict[str, Any]]:
    seen = page.evaluate(CONTRAST_JS)
    assert len(seen) > 10, f"too little text measured: {seen}"
    return seen


def _lowest(page: Any) -> tuple[float, list[str]]:
    """The lowest contrast ratio of the page's text, and what falls below AAA."""
    seen = _contrast(page)
    low = [f"{s['what']} {s['ratio']:.2f}:1 ({s['color']})" for s in seen if s["ratio"] < AAA]
    return min(s["ratio"] for s in seen), low


def _body_contrast(page: Any) -> float:
    """The contrast of the page's own text colour on the page's background."""
    return page.evaluate(
        """() => {
          const lum = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
          }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
          const s = getComputedStyle(document.body);
          const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05);
        }"""
    )


def _html_class(page: Any) -> str:
    return page.evaluate("() => document.documentElement.className")


def _phone(open_context: Callable[..., Any], **options: Any) -> Any:
    options.setdefault("viewport", PHONE)
    return open_context(has_touch=True, is_mobile=True, **options)


def _station_id(server: Any) -> str:
    with session_scope(server.app) as session:
        return registry.active_stations(session)[0].id


def test_a_tap_turns_it_on_it_is_remembered_and_a_second_tap_turns_it_off(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = _phone(open_context).new_page()
    base = live_server.url
    page.goto(f"{base}/")
    toggle = page.get_by_test_id("contrast-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert _html_class(page) == ""
    normal_body = _body_contrast(page)

    toggle.click()  # with the script: at once, no reload
    expect(page.locator("html")).to_have_class(HIGH)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert _body_contrast(page) >= 20 > normal_body  # black on white
    lowest, low = _lowest(page)
    assert not low, f"text below {AAA}:1 in 强光模式:\n" + "\n".join(low)
    assert lowest >= AAA

    answer = page.reload()  # the server renders the class from the cookie: no flash
    assert answer is not None and f'class="{HIGH}"' in answer.text()
    expect(page.locator("html")).to_have_class(HIGH)

    page.get_by_test_id("council-link").click()
    page.wait_for_url(f"{base}/council")
    expect(page.locator("html")).to_have_class(HIGH)
    council_toggle = page.get_by_test_id("contrast-toggle")
    expect(council_toggle).to_have_attribute("aria-pressed", "true")
    lowest, low = _lowest(page)
    assert not low, f"council text below {AAA}:1 in 强光模式:\n" + "\n".join(low)

    # The council's pages switch at once too (council.js carries the same toggle): no
    # reload, so a half-written issue stays as it is.
    page.evaluate("window.__same_document = true")
    council_toggle.click()
    expect(page.locator("html")).not_to_have_class(HIGH)
    expect(council_toggle).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.__same_document === true")
    assert page.url == f"{base}/council"
    page.goto(f"{base}/council/new")
    page.locator("#description").fill("路口的充电桩坏了")
    page.get_by_test_id("contrast-toggle").click()
    expect(page.locator("html")).to_have_class(HIGH)
    expect(page.locator("#description")).to_have_value("路口的充电桩坏了")
    page.get_by_test_id("contrast-toggle").click()
    page.goto(f"{base}/")
    assert _html_class(page) == ""


def test_cards_badges_chips_and_council_statuses_reach_aaa(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    """The results list as the server draws it (badges 开放中/已关闭, hours, distances), a
    chosen chip, a station page, and the council's list and issue page with a status."""
    with session_scope(live_server.app) as session:
        issue = council.raise_issue(
            session,
            current_areas(live_server.app),
            title="驿站晚上十点就关门",
            description="夜班小哥没地方休息，希望延长开放时间。",
            category="rest_facilities",
            device_hash="high-contrast-test",
            place=council.Place(point=Point(120.3227, 30.3062)),
        )
        session.flush()
        number = council.work_order_number(issue)
    context = _phone(open_context)
    context.add_cookies([{"name": "contrast", "value": "high", "url": live_server.url}])
    page = context.new_page()
    for path in (
        JINSHA_LAKE,
        f"/stations/{_station_id(live_server)}",
        "/council?lang=en",
        f"/council/issues/{number}",
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("html")).to_have_class(HIGH)
        if path == JINSHA_LAKE:
            expect(page.get_by_test_id("hours-badge").first).to_be_visible()
            page.eval_on_selector(".chip input", "(box) => { box.checked = true; }")
        if path.startswith("/council"):
            expect(page.locator(".council-status").first).to_be_visible()
        _, low = _lowest(page)
        assert not low, f"{path}: text below {AAA}:1:\n" + "\n".join(low)


def test_without_javascript_the_form_switches_and_comes_back(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = _phone(open_context, java_script_enabled=False).new_page()
    base = live_server.url
    page.goto(f"{base}/council?lang=en")
    toggle = page.get_by_test_id("contrast-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    with page.expect_navigation():
        toggle.click()
    assert page.url == f"{base}/council?lang=en"  # the page the courier was on
    expect(page.locator("html")).to_have_class(HIGH)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_class(HIGH)
    with page.expect_navigation():
        page.get_by_test_id("contrast-toggle").click()
    assert page.url == f"{base}/"
    expect(page.locator("html")).not_to_have_class(HIGH)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "contrast" not in cookies


def test_a_tampered_return_address_stays_on_the_site(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    """The form's `next` changed to another site: the post lands on the start page (the
    network guard fails the test if the browser ever asks the other host)."""
    page = _phone(open_context).new_page()
    base = live_server.url
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page.goto(f"{base}/map")
        page.eval_on_selector(
            "form.contrast", "(form, target) => { form.next.value = target; }", target
        )
        with page.expect_navigation():
            page.eval_on_selector("form.contrast", "(form) => form.submit()")  # no script hook
        assert page.url == f"{base}/", target


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_toggle_is_labelled_in_the_page_language(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    page = _phone(open_context, locale="zh-CN" if lang == "zh" else "en-GB").new_page()
    for path in ("/", "/council"):
        page.goto(f"{live_server.url}{path}?lang={lang}")
        toggle = page.get_by_role("button", name=LABEL[lang], exact=True, pressed=False)
        expect(toggle).to_be_visible()
        expect(toggle).to_have_text(f"☀{LABEL[lang]}")
        box = toggle.bounding_box()
        assert box and box["width"] >= MIN_PX and box["height"] >= MIN_PX
        other = LABEL["en" if lang == "zh" else "zh"]
        expect(page.get_by_role("button", name=other, exact=True)).to_have_count(0)


def test_a_page_kept_offline_shows_the_current_choice(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    """The service worker's copy of / and of a station page were saved in the normal mode;
    switched on since, they open offline in 强光模式 (app.js reads the cookie)."""
    station = f"/stations/{_station_id(live_server)}"
    context = _phone(open_context)
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/")
    poll_until(
        page, "async () => !!navigator.serviceWorker.controller && !!(await caches.match('/'))"
    )
    page.goto(f"{base}{station}")
    poll_until(page, "async (path) => !!(await caches.match(path, {ignoreVary: true}))", station)
    page.goto(f"{base}/")
    page.get_by_test_id("contrast-toggle").click()
    expect(page.locator("html")).to_have_class(HIGH)
    kept = page.evaluate(
        "async (path) => (await (await caches.match(path, {ignoreVary: true})).text())", station
    )
    assert HIGH not in kept.split("<head>")[0]  # the copy itself says normal

    context.set_offline(True)
    for path in ("/", station):
        page.goto(f"{base}{path}")
        expect(page.locator("html")).to_have_class(HIGH)
        expect(page.get_by_test_id("contrast-toggle")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("contrast-toggle").click()  # offline too: the script switches it
    expect(page.locator("html")).not_to_have_class(HIGH)
    page.reload()
    expect(page.locator("html")).not_to_have_class(HIGH)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_axe_finds_no_wcag_violation_in_high_contrast(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    context = _phone(open_context, locale="zh-CN" if lang == "zh" else "en-GB")
    context.add_cookies([{"name": "contrast", "value": "high", "url": live_server.url}])
    page = context.new_page()
    found: list[str] = []
    for path in ("/", JINSHA_LAKE, f"/stations/{_station_id(live_server)}", "/council"):
        page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_class(HIGH)
        results = _AXE.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_21_A_AA},
                "resultTypes": ["violations"],
            },
        )
        for violation in results.response["violations"]:
            for node in violation["nodes"]:
                found.append(f"{path} [{lang}]: {violation['id']} at {node['target']}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_layout_holds_at_393_px_with_48_px_targets(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    context = _phone(open_context)
    context.add_cookies([{"name": "contrast", "value": "high", "url": live_server.url}])
    page = context.new_page()
    station = _station_id(live_server)
    problems: list[str] = []
    for path in ("/", JINSHA_LAKE, "/map", f"/stations/{station}", "/council", "/council/new"):
        page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_class(HIGH)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{path}: {width} px wide, scrolls sideways")
        small = page.evaluate(TARGETS_JS, MIN_PX)
        if small:
            problems.append(f"{path}: targets under {MIN_PX} px: {small}")
        header = page.locator("header.top").bounding_box()
        if not header or header["height"] > 140:
            problems.append(f"{path}: the header takes {header} of the screen")
    assert not problems, "\n".join(problems)
