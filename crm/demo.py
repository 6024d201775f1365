"""The demo network's leads: two months of enquiries from ads, calls and walk-ins, some of
them from people who then booked (the loop closes on the demo's own bookings), some waiting
for a first call, so the marketer's pages tell a story on `make run`; and the assistant's
knowledge base (`crm.demo_knowledge`)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from crm import demo_conversations, demo_knowledge
from crm.choices import LeadSource
from crm.models import PipelineStage, Segment
from crm.services.campaigns import campaign_create, campaign_send, campaign_start
from crm.services.leads import lead_add_note, lead_create, lead_set_stage
from crm.services.loop import leads_close_loop
from crm.services.segments import segment_create
from crm.services.spend import ad_spend_add
from crm.services.tasks import lead_task_add
from portal.demo import DemoContext
from scheduling.models import Specialty

# (utm_source, utm_medium, utm_campaign)
CAMPAIGNS = (
    ("yandex", "cpc", "checkup-autumn"),
    ("yandex", "cpc", "cardiology-brand"),
    ("vk", "social", "family-dentistry"),
    ("google", "cpc", "ultrasound"),
    ("", "", ""),
)
NEW_NAMES = ("Алина", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Илья", "Кира", "Лев")

TASKS = (
    "Перезвонить, рассказать о ценах на обследование",
    "Отправить памятку о подготовке к УЗИ",
    "Уточнить удобное время и записать",
)


def seed(ctx: DemoContext) -> None:
    demo_knowledge.seed(ctx)
    talks = demo_conversations.seed(ctx)
    if talks:
        ctx.log(f"crm: {talks} past conversations with the assistant")
    # Calls seeded by telephony may have made leads already: the demo's own segments mark it.
    if Segment.objects.exists():
        return
    now = timezone.now()
    clinics = list(ctx.clinics.values())
    marketer = ctx.users.get("marketer")
    with_phones = [p for p in ctx.patients if p.phone][:25]
    created = 0
    # People already in the network's records: several of them book (the loop links them).
    lost = PipelineStage.objects.filter(clinic__isnull=True, code="lost").first()
    contacted = PipelineStage.objects.filter(clinic__isnull=True, code="contacted").first()
    for index, patient in enumerate(with_phones):
        utm_source, utm_medium, utm_campaign = CAMPAIGNS[index % len(CAMPAIGNS)]
        lead, _ = lead_create(
            source=LeadSource.WEB_FORM if utm_source else LeadSource.CALL,
            actor=None,
            clinic=clinics[index % len(clinics)],
            name=patient.first_name,
            phone=patient.phone,
            attribution={
                "utm_source": utm_source,
                "utm_medium": utm_medium,
                "utm_campaign": utm_campaign,
                "yclid": str(ctx.rng.randrange(10**9, 10**10)) if utm_source == "yandex" else "",
            },
            now=now - datetime.timedelta(days=60 - index * 2, hours=ctx.rng.randrange(9, 19)),
        )
        created += 1
        if index % 4 == 3 and lost is not None:
            # Gave up on before they booked: a closed lead the loop leaves alone.
            lead_set_stage(lead=lead, stage=lost, actor=marketer)
    # New people: some contacted, some lost, the newest still waiting for a call.
    for index, name in enumerate(NEW_NAMES):
        utm_source, utm_medium, utm_campaign = CAMPAIGNS[index % len(CAMPAIGNS)]
        lead, _ = lead_create(
            source=(LeadSource.WEB_FORM, LeadSource.CALL, LeadSource.WALK_IN)[index % 3],
            actor=None,
            clinic=clinics[index % len(clinics)],
            name=name,
            phone=f"+7914{ctx.rng.randrange(1000000, 9999999)}",
            comment="Хочу записаться, перезвоните, пожалуйста.",
            attribution={
                "utm_source": utm_source,
                "utm_medium": utm_medium,
                "utm_campaign": utm_campaign,
            },
            now=now - datetime.timedelta(days=len(NEW_NAMES) - index, minutes=20),
        )
        created += 1
        if marketer is None or index >= len(NEW_NAMES) - 3:
            continue
        lead_add_note(lead=lead, note="Позвонили, думает.", contacted=True, actor=marketer)
        # A follow-up for the marketer: the earliest ones are overdue now.
        lead_task_add(
            lead=lead,
            text=TASKS[index % len(TASKS)],
            due_at=now + datetime.timedelta(days=index - 3, hours=2),
            owner=marketer,
            actor=marketer,
        )
        stage = lost if index % 3 == 0 else contacted
        if stage is not None:
            lead_set_stage(lead=lead, stage=stage, actor=marketer)
    booked = leads_close_loop()
    # Two months of spend per campaign (roubles), so the funnel shows cost and ROMI.
    start = (now - datetime.timedelta(days=62)).date()
    for (utm_source, _medium, utm_campaign), amount in zip(
        CAMPAIGNS[:4], ("38000", "24000", "15000", "21000"), strict=True
    ):
        ad_spend_add(
            utm_source=utm_source,
            utm_campaign=utm_campaign,
            date_from=start,
            date_to=now.date(),
            amount=Decimal(amount),
            actor=marketer,
        )
    # Some of the demo's patients have not come for over half a year (the history lapses
    # them): the sent campaign invites them back; the cardiology segment is there to try.
    lapsed = segment_create(
        name="Не были полгода, согласны на рассылку",
        rules={"inactive_days": 180, "marketing_consent": True},
        actor=marketer,
    )
    cardio = Specialty.objects.filter(slug="cardiologist").first()
    segment_create(
        name="Были у кардиолога, согласны на рассылку",
        rules={"marketing_consent": True}
        | ({"specialty_id": cardio.pk} if cardio is not None else {}),
        actor=marketer,
    )
    campaign = campaign_create(
        name="Давно не виделись: приглашение на осмотр",
        segment=lapsed,
        channel="email",
        subject="Давно не виделись — пора на профилактический осмотр",
        text=(
            "Вы не были у нас больше полугода. Раз в год стоит пройти профилактический "
            "осмотр: запишитесь к терапевту в личном кабинете."
        ),
        actor=marketer,
    )
    campaign_start(campaign=campaign, actor=marketer)
    # The demo runs Celery eagerly; sending here does not depend on when the commit happens.
    campaign_send(campaign_id=campaign.pk)
    segment_create(name="Пропускали приёмы", rules={"min_no_shows": 1}, actor=marketer)
    segment_create(name="Взрослые 30–55 лет", rules={"age_from": 30, "age_to": 55}, actor=marketer)
    ctx.log(f"crm: {created} leads, {booked} of them booked")
