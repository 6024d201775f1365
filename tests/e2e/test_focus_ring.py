"""Keyboard focus is plain to see (WCAG 2.4.7): a solid 3 px ring in a colour with enough
contrast on the page, on links, buttons and the language switch alike."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RING = """() => {
  const focused = document.activeElement, s = getComputedStyle(focused);
  return [focused.tagName, s.outlineStyle, s.outlineWidth, s.outlineColor];
}"""


def test_every_focused_control_of_the_header_shows_a_solid_ring(page, clinic_a):
    page.goto("/")
    seen = set()
    for _ in range(8):
        page.keyboard.press("Tab")
        tag, style, width, color = page.evaluate(RING)
        if tag == "BODY":
            continue
        seen.add(tag)
        assert (style, width, color) == ("solid", "3px", "rgb(29, 78, 216)"), tag
    assert {"A", "BUTTON"} <= seen  # links and the language buttons were both reached
