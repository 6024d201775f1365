"""The header and top navigation at the narrowest phone width (360 px): every item is fully
on screen, nothing clipped or hidden in a scrolling strip, and every touch target is at least
24 × 24 px (WCAG 2.2 target size, minimum)."""

import pytest

from portal.choices import Role
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
MEASURE = """() => {
    const width = document.documentElement.clientWidth;
    const controls = [...document.querySelectorAll(
        '.site-header a, .site-header button, .site-header input:not([type=hidden])')];
    return controls.map(el => {
        const r = el.getBoundingClientRect();
        let clipped = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            const box = p.getBoundingClientRect();
            const s = getComputedStyle(p);
            if (s.overflowX !== 'visible' && (r.left < box.left - 0.5 || r.right > box.right + 0.5))
                clipped = true;
            if (s.overflowY !== 'visible' && (r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5))
                clipped = true;
        }
        const skip = el.classList.contains('skip-link');
        return {text: (el.innerText || el.title || el.name).trim(), left: r.left, right: r.right,
                width: r.width, height: r.height, clipped, skip, viewport: width};
    });
}"""


def measured(browser, live_server, user, path, name):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 360, "height": 740}
    )
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(path)
    items = [item for item in page.evaluate(MEASURE) if not item["skip"]]
    screenshot(page, f"header-360-{name}")
    context.close()
    return items


def problems(items) -> list[str]:
    found = []
    for item in items:
        name = item["text"] or "?"
        if item["left"] < 0 or item["right"] > item["viewport"] or item["clipped"]:
            found.append(f"{name}: clipped ({item['left']:.0f}–{item['right']:.0f} px)")
        if item["width"] < 24 or item["height"] < 24:
            found.append(f"{name}: target {item['width']:.0f}×{item['height']:.0f} px")
    return found


@pytest.fixture
def people(patient, clinic_a):
    admin = make_staff(
        Role.NETWORK_ADMIN,
        None,
        email="network.administrator@example.test",
        display_name="Константинопольская Александра Владимировна",
    )
    return {"patient": patient.user, "network admin": admin}


@pytest.mark.parametrize("who", ["anonymous", "patient", "network admin"])
def test_the_header_fits_360_px_with_targets_of_24_px(browser, live_server, people, who):
    user = people.get(who)
    items = measured(browser, live_server, user, "/home/" if user else "/", who)
    assert len(items) >= (4 if user else 3)
    assert problems(items) == []
