"""The demo network's telephony: a generic-webhook PBX with a reception line in each clinic
where the demo registrar works (answered by them at extension 101), and today's calls so the
calls page and its callback queue have something to show.

The demo secret is published like the demo password (`seed_demo` runs only with DEBUG on);
the summary prints the webhook address to ring the demo with (README, "Telephony").
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from portal.demo import DemoContext
from portal.models import Patient, StaffMembership
from telephony import demo_history
from telephony.choices import CallState
from telephony.models import Call, LineAnswerer, TelephonyAccount, TelephonyLine
from telephony.providers.base import CallEvent
from telephony.services.calls import call_event_record

DEMO_ACCOUNT = "Demo PBX"
DEMO_SECRET = "medfront-demo-pbx-secret"  # noqa: S105 - documented demo secret
# (minutes ago, seconds to answer or None for missed, talk minutes)
TODAY_CALLS = ((95, 6, 4), (70, 14, 3), (42, None, 0), (25, 9, 6), (11, None, 0))


def seed(ctx: DemoContext) -> None:
    registrar = ctx.users.get("registrar")
    if registrar is None:
        return
    account = TelephonyAccount.objects.filter(name=DEMO_ACCOUNT).first()
    if account is None:
        account = TelephonyAccount.objects.create(
            name=DEMO_ACCOUNT, provider="generic", secret=DEMO_SECRET
        )
    clinics = [
        m.clinic
        for m in StaffMembership.objects.filter(user=registrar, clinic__isnull=False)
        .select_related("clinic")
        .order_by("clinic_id")
    ]
    for index, clinic in enumerate(clinics):
        line, created = TelephonyLine.objects.get_or_create(
            account=account,
            number=f"+7395200{index:04d}",
            defaults={"clinic": clinic, "name": "Регистратура"},
        )
        LineAnswerer.objects.get_or_create(line=line, user=registrar, defaults={"extension": "101"})
        if created:
            _today_calls(account, line, ctx)
        demo_history.seed_history(account, line, ctx)
    ctx.log(
        f"telephony: {DEMO_ACCOUNT} rings the demo registrar at "
        f"/telephony/generic/{account.public_id}/events/ (secret {DEMO_SECRET!r})"
    )


def _today_calls(account: TelephonyAccount, line: TelephonyLine, ctx: DemoContext) -> None:
    phones = list(
        Patient.objects.filter(home_clinic=line.clinic)
        .exclude(phone_bidx="")
        .order_by("id")
        .values_list("phone", flat=True)[: len(TODAY_CALLS)]
    )
    now = timezone.now()
    for index, (minutes_ago, answer_seconds, talk_minutes) in enumerate(TODAY_CALLS):
        caller = phones[index] if index < len(phones) else f"+7914000{index:04d}"
        call_id = f"demo-{line.pk}-{index}"
        if Call.objects.filter(account=account, provider_call_id=call_id).exists():
            continue
        started = now - datetime.timedelta(minutes=minutes_ago)
        events = [(CallState.RINGING, started, "")]
        ended = started + datetime.timedelta(seconds=40)
        if answer_seconds is not None:
            answered = started + datetime.timedelta(seconds=answer_seconds)
            events.append((CallState.ANSWERED, answered, "101"))
            ended = answered + datetime.timedelta(minutes=talk_minutes)
        events.append((CallState.ENDED, ended, ""))
        for state, at, extension in events:
            call_event_record(
                account=account,
                event=CallEvent(
                    key=f"demo:{call_id}:{state}",
                    call_id=call_id,
                    state=state,
                    at=at,
                    from_number=caller,
                    to_number=line.number,
                    extension=extension,
                ),
                now=now,
            )
