"""Figures other apps supply to the dashboards without the dashboards importing them.

Apps depend one way (portal → notifications → scheduling → crm → analytics) and no app may
import telephony, yet the director dashboard shows the call answer time. So the kernel keeps
this small registry: an app registers a source function at start-up (`AppConfig.ready`) and
analytics asks the registry. With nothing registered (telephony not installed) the question
answers None and the dashboard reads "no data yet".

Call answer time: `register_call_answer_source(func)`, where `func(*, zones, first, last)`
returns `CallAnswerFigures` for the incoming calls that started on the local days
`first`..`last` (inclusive) of the clinics in `zones` (clinic id → its time zone, as the
caller has them), a call's clinic being the one of the line rung. Registering again replaces
the source (tests may swap it).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class CallAnswerFigures:
    """Incoming calls of a period: the median seconds from the first ring to a person
    answering (answered calls only; None when none was answered), the calls answered, and
    the calls that ended unanswered (missed, left out of the median)."""

    median_seconds: float | None
    answered: int
    missed: int


class CallAnswerSource(Protocol):
    def __call__(
        self,
        *,
        zones: Mapping[int, ZoneInfo],
        first: datetime.date,
        last: datetime.date,
    ) -> CallAnswerFigures: ...


_sources: dict[str, CallAnswerSource] = {}


def register_call_answer_source(source: CallAnswerSource) -> None:
    _sources["call_answer"] = source


def unregister_call_answer_source() -> None:
    _sources.pop("call_answer", None)


def call_answer_figures(
    *, zones: Mapping[int, ZoneInfo], first: datetime.date, last: datetime.date
) -> CallAnswerFigures | None:
    """The registered source's figures, or None when no app supplies call figures."""
    source = _sources.get("call_answer")
    if source is None:
        return None
    return source(zones=zones, first=first, last=last)
