"""A year of past calls on each demo line, so the dashboard's call answer time tells the
seed's story: a reception that answered in about 49 seconds a year ago answers in about 29
now, and misses fewer calls. Rows are written in bulk (demo history, not provider events)
and carry no caller number."""

from __future__ import annotations

import datetime

from django.utils import timezone

from portal.demo import DemoContext
from telephony.choices import CallDirection, CallState
from telephony.models import Call, TelephonyAccount, TelephonyLine

DAYS = 365
CALLS_PER_DAY = (8, 16)
PREFIX = "demo-history"


def seed_history(account: TelephonyAccount, line: TelephonyLine, ctx: DemoContext) -> int:
    """Past calls of `line` (once: a line that has them is left alone)."""
    if Call.objects.filter(line=line, provider_call_id__startswith=PREFIX).exists():
        return 0
    rng = ctx.rng
    tz = line.clinic.tz
    today = timezone.now().astimezone(tz).date()
    calls = []
    for back in range(DAYS, 0, -1):
        day = today - datetime.timedelta(days=back)
        # From a year ago (1.0) to yesterday (0.0): answers get faster, fewer calls missed.
        age = back / DAYS
        typical = 29 + 20 * age
        for n in range(rng.randint(*CALLS_PER_DAY)):
            started = datetime.datetime.combine(
                day, datetime.time(rng.randint(8, 19), rng.randint(0, 59)), tz
            )
            missed = rng.random() < 0.06 + 0.06 * age
            answered = None
            if not missed:
                answered = started + datetime.timedelta(
                    seconds=max(3, round(rng.lognormvariate(0, 0.45) * typical))
                )
            calls.append(
                Call(
                    account=account,
                    line=line,
                    provider_call_id=f"{PREFIX}-{line.pk}-{day:%Y%m%d}-{n}",
                    direction=CallDirection.INBOUND,
                    state=CallState.ENDED,
                    started_at=started,
                    answered_at=answered,
                    ended_at=(answered or started) + datetime.timedelta(minutes=rng.randint(1, 6)),
                    missed=missed,
                )
            )
    Call.objects.bulk_create(calls, batch_size=1000)
    return len(calls)
