from django.utils import translation

from analytics import charts


def _svg_text(items, language):
    with translation.override(language):
        return str(charts.bars(items, title="Revenue by clinic", unit="₽"))


def test_revenue_bars_group_thousands_in_the_active_language():
    items = [("Central", 1234567.0), ("North", 2500.0)]
    english = _svg_text(items, "en")
    assert "1,234,567\u00a0₽" in english
    assert "2,500\u00a0₽" in english
    russian = _svg_text(items, "ru")
    assert "1\u00a0234\u00a0567\u00a0₽" in russian
    assert "2\u00a0500\u00a0₽" in russian
    assert "1,234,567" not in russian
