"""Panels other apps add to the kernel's pages (the landing page, the patient's home).

Apps depend one way, portal → notifications → scheduling → crm → analytics, so the landing
page cannot import the booking engine to show "book a visit". Instead an app registers a panel
here at start-up (`AppConfig.ready`): a template and a function that builds its context from
the request. The page renders every panel registered for it, in `order`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

LANDING = "landing"
PATIENT_HOME = "patient_home"


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]  # None: nothing to show now
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    template: str
    context: dict[str, Any]


_panels: dict[str, list[Panel]] = defaultdict(list)


def register_panel(page: str, panel: Panel) -> None:
    """Show `panel` on `page` (`LANDING`, `PATIENT_HOME`); registering it again is a no-op."""
    if panel not in _panels[page]:
        _panels[page].append(panel)
        _panels[page].sort(key=lambda item: item.order)


def panels_for(page: str, request: HttpRequest) -> list[RenderedPanel]:
    """The panels of `page` with their contexts, leaving out those with nothing to show."""
    shown = []
    for panel in _panels[page]:
        context = panel.context(request)
        if context is not None:
            shown.append(RenderedPanel(template=panel.template, context=context))
    return shown
