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
# The staff card of one patient: its context function also receives `patient=`.
STAFF_PATIENT_CARD = "staff_patient_card"
# The registrar desk's day board (e.g. a caller-ID card): the context function also receives
# `clinic=`, the clinic whose board is shown.
DESK = "desk"
# The desk's queues page, one section per kind of work waiting for a person (callbacks, and
# later booking requests and waitlist offers); the context function receives no object.
DESK_QUEUES = "desk_queues"


@dataclass(frozen=True)
class Panel:
    template: str
    # Builds the panel's context from the request (and, on some pages, the object shown);
    # None: nothing to show now.
    context: Callable[..., dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    template: str
    context: dict[str, Any]


_panels: dict[str, list[Panel]] = defaultdict(list)


def register_panel(page: str, panel: Panel) -> None:
    """Show `panel` on `page` (`LANDING`, `PATIENT_HOME`, `STAFF_PATIENT_CARD`); registering
    it again is a no-op."""
    if panel not in _panels[page]:
        _panels[page].append(panel)
        _panels[page].sort(key=lambda item: item.order)


def panels_for(page: str, request: HttpRequest, **shown_object: Any) -> list[RenderedPanel]:
    """The panels of `page` with their contexts, leaving out those with nothing to show.
    `shown_object` (e.g. `patient=`) is passed on to each panel's context function."""
    shown = []
    for panel in _panels[page]:
        context = panel.context(request, **shown_object)
        if context is not None:
            shown.append(RenderedPanel(template=panel.template, context=context))
    return shown
