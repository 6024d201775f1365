"""Seeding for the CRM's phase of `make bench` (`bench.crm` measures): everything the funnel
and the segment count read, timed as `crm.seed_seconds`.

- the demo network's three clinics and nine branches (`branch_clinics`), the demo's people
  generator scaled to `PATIENTS` patients written by `bulk_create` with their PII encrypted
  and blind indexes computed by the model's own `refresh_blind_indexes()`; a share of them
  with an active consent to advertising messages (some withdrawn);
- a year of visits for them (`bench.history`, `APPOINTMENTS` by COPY);
- `LEADS` leads over 12 months by COPY: web forms, calls, messengers and walk-ins from a
  dozen sources and campaigns; about 30 % of them booked (their patient and visit are one
  of the history's online or phone bookings made within three days of the enquiry, so
  attended visits and revenue follow the visit's status); contact details encrypted by the
  fields themselves (`Field.get_db_prep_value`), blind indexes by `portal.crypto`;
- ad spend per source, campaign, clinic and month (`bulk_create`);
- the activity facts and lead outcomes the segment counts and the funnel read, rebuilt as the
  beat's first refresh would (`crm.activity_rebuild_s`, inside the seed time).

The marketer signs in once in-process (a network-wide marketer); the load generator sends
that session's cookie.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from bench.console import log

PATIENTS = 100_000
LEADS = 200_000
APPOINTMENTS = 1_000_000
BOOKED_SHARE = 0.3
# The segment measured: the demo's own "no visit for half a year, agrees to advertising".
SEGMENT_RULES = {"inactive_days": "180", "marketing_consent": "on"}
ADVERTISING_SHARE = 0.4
BRANCHES = 9
# (source, utm_source, utm_medium, utm_campaign, weight, monthly spend per clinic in roubles)
CHANNELS = (
    ("web_form", "yandex", "cpc", "checkup-autumn", 14, 60_000),
    ("web_form", "yandex", "cpc", "cardiology-brand", 10, 45_000),
    ("web_form", "yandex", "cpc", "dermatology", 6, 30_000),
    ("call", "yandex", "cpc", "checkup-autumn", 6, 0),
    ("web_form", "google", "cpc", "ultrasound", 5, 25_000),
    ("web_form", "vk", "social", "family", 7, 28_000),
    ("messenger", "vk", "social", "family", 4, 0),
    ("web_form", "2gis", "referral", "", 4, 12_000),
    ("web_form", "prodoctorov", "referral", "", 8, 40_000),
    ("messenger", "telegram", "social", "kids", 3, 10_000),
    ("call", "", "", "", 22, 0),
    ("walk_in", "", "", "", 8, 0),
    ("web_form", "", "", "", 3, 0),
)
LEAD_COLUMNS = (
    "public_id",
    "clinic_id",
    "source",
    "stage_id",
    "patient_id",
    "name",
    "phone",
    "email",
    "comment",
    "phone_bidx",
    "email_bidx",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "ym_client_id",
    "yclid",
    "roistat_visit",
    "calltouch_session_id",
    "comagic_visitor_id",
    "landing_url",
    "tracking_number",
    "last_utm_source",
    "last_utm_campaign",
    "last_touch_at",
    "created_at",
    "first_contact_due_at",
    "first_contacted_at",
    "escalated_at",
    "booked_appointment_id",
    "closed_at",
)


@dataclass
class Crm:
    today: datetime.date
    marketer: object = None
    cookie: str = ""
    figures: dict = field(default_factory=dict)

    def funnel_path(self) -> str:
        query = {
            "date_from": (self.today - datetime.timedelta(days=364)).isoformat(),
            "date_to": self.today.isoformat(),
            "touch": "first",
        }
        return f"/crm/funnel/?{urlencode(query)}"

    def segment_count_path(self) -> str:
        return f"/crm/segments/count/?{urlencode(SEGMENT_RULES)}"


def demo_clinics() -> list:
    """The demo network's clinics and legal entities (`portal.demo_network`), created here."""
    from portal.demo_network import CLINICS, LEGAL_ENTITIES
    from portal.models import Clinic, LegalEntity

    entities = {}
    for key, values in LEGAL_ENTITIES.items():
        data = dict(values)
        entities[key] = LegalEntity.objects.get_or_create(inn=data.pop("inn"), defaults=data)[0]
    return [
        Clinic.objects.get_or_create(
            slug=slug, defaults=dict(values, legal_entity=entities[values["legal_entity"]])
        )[0]
        for slug, values in CLINICS.items()
    ]


def branch_clinics(count: int = BRANCHES) -> list:
    """More clinics of the same network, so the history spreads over many places."""
    from portal.models import Clinic, LegalEntity

    entity = LegalEntity.objects.order_by("pk").first()
    zones = ("Asia/Irkutsk", "Europe/Moscow", "Asia/Krasnoyarsk")
    return [
        Clinic.objects.create(
            slug=f"branch-{number}",
            name=f"Медфронт, филиал {number}",
            legal_entity=entity,
            city="Иркутск" if number % 3 == 0 else "Москва" if number % 3 == 1 else "Красноярск",
            address=f"ул. Филиальная, {number}",
            timezone=zones[number % 3],
        )
        for number in range(1, count + 1)
    ]


@dataclass
class People:
    ids: list[int]
    phones: dict[int, str]
    first_names: dict[int, str]


def seed_patients(*, count: int, clinics: list, seed: int = 2026) -> People:
    """`count` patients of the demo's generator, home clinics by the demo's weights, written by
    `bulk_create` in batches (PII encrypted by the fields, blind indexes computed first)."""
    from django.db import transaction
    from django.utils import timezone

    from portal.demo_people import PeopleGenerator, network_people
    from portal.models import Patient

    rng = random.Random(seed)
    gen = PeopleGenerator(rng, timezone.localdate())
    by_slug = {clinic.slug: clinic for clinic in clinics}
    people = network_people(gen, count)
    result = People(ids=[], phones={}, first_names={})
    batch = 2000
    for offset in range(0, len(people), batch):
        patients = []
        for person in people[offset : offset + batch]:
            patient = Patient(**person.patient_fields(), home_clinic=by_slug.get(person.clinic))
            # bulk_create skips save(), which keeps the blind indexes: compute them here.
            patient.refresh_blind_indexes()
            patients.append(patient)
        with transaction.atomic():
            Patient.objects.bulk_create(patients, batch_size=batch)
        for patient in patients:
            result.ids.append(patient.pk)
            result.phones[patient.pk] = patient.phone
            result.first_names[patient.pk] = patient.first_name
    return result


def seed_consents(people: People, *, now: datetime.datetime, rng: random.Random) -> int:
    """Advertising consents for `ADVERTISING_SHARE` of the patients; one in ten withdrawn."""
    from portal.choices import ConsentChannel, ConsentPurpose, SignatureMethod, SignerKind
    from portal.consent_texts import ensure_consent_documents
    from portal.models import Consent, ConsentDocument

    ensure_consent_documents()
    document = ConsentDocument.objects.filter(
        purpose=ConsentPurpose.ADVERTISING, language="ru"
    ).latest("published_at")
    consents = []
    for patient_id in people.ids:
        if rng.random() >= ADVERTISING_SHARE:
            continue
        signed = now - datetime.timedelta(days=rng.randrange(1, 700))
        withdrawn = rng.random() < 0.1
        consents.append(
            Consent(
                patient_id=patient_id,
                purpose=ConsentPurpose.ADVERTISING,
                document=document,
                document_version=document.version,
                document_sha256=document.sha256,
                signer_kind=SignerKind.PATIENT,
                channel=ConsentChannel.DESK,
                signature_method=SignatureMethod.HANDWRITTEN,
                signed_at=signed,
                withdrawn_at=signed + datetime.timedelta(days=30) if withdrawn else None,
                withdrawal_channel=ConsentChannel.WEB if withdrawn else "",
            )
        )
    Consent.objects.bulk_create(consents, batch_size=5000)
    return len(consents)


def _booked_visits(count: int, *, since: datetime.datetime, seed: float) -> list[tuple]:
    """(id, patient, clinic, created_at) of `count` online or phone bookings made since
    `since`, drawn at random by the database."""
    from django.db import connection

    from scheduling.models import Appointment

    table = Appointment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(
            f"""
            SELECT id, patient_id, clinic_id, created_at FROM {table}
             WHERE channel IN ('online', 'phone') AND created_at >= %s
             ORDER BY random() LIMIT %s
            """,  # noqa: S608 - table names come from model metadata
            [since, count],
        )
        return cursor.fetchall()


def seed_leads(
    people: People, clinics: list, *, count: int, now: datetime.datetime, rng: random.Random
) -> dict:
    """`count` leads over the last 12 months by COPY; figures of what was written."""
    from django.db import connection, transaction

    from crm.models import Lead, PipelineStage
    from portal.crypto import blind_index
    from portal.models.patients import BIDX_PHONE

    stages = {s.code: s.pk for s in PipelineStage.objects.filter(clinic__isnull=True)}
    fields = {name: Lead._meta.get_field(name) for name in ("name", "phone", "email", "comment")}

    def encrypt(name: str, value: str):
        return fields[name].get_db_prep_value(value, connection, prepared=False)

    empty = {name: encrypt(name, "") for name in fields}
    comment = encrypt("comment", "Хочу записаться, перезвоните, пожалуйста.")
    year_ago = now - datetime.timedelta(days=364)
    booked = _booked_visits(int(count * BOOKED_SHARE), since=year_ago, seed=0.17)
    weights = [channel[4] for channel in CHANNELS]
    demo_clinic_ids = [clinic.pk for clinic in clinics]
    sources: dict[str, int] = {}

    def row(*, patient_id, clinic_id, created, appointment_id, booked_at, phone, first_name):
        source, utm_source, medium, campaign, _w, _spend = rng.choices(CHANNELS, weights)[0]
        stage = "booked" if appointment_id else rng.choice(("new", "contacted", "lost", "lost"))
        repeat = rng.random() < 0.15
        last_source, last_campaign = (
            (rng.choice(("yandex", "vk", "google")), "retargeting")
            if repeat
            else (utm_source, campaign)
        )
        contacted = created + datetime.timedelta(minutes=rng.randrange(3, 240))
        sources[utm_source or source] = sources.get(utm_source or source, 0) + 1
        return (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            clinic_id,
            source,
            stages[stage],
            patient_id,
            encrypt("name", first_name) if first_name else empty["name"],
            encrypt("phone", phone) if phone else empty["phone"],
            empty["email"],
            comment if source == "web_form" else empty["comment"],
            blind_index(BIDX_PHONE, phone) if phone else "",
            "",
            utm_source,
            medium,
            campaign,
            "",
            "",
            str(rng.getrandbits(60)) if utm_source == "yandex" else "",
            str(rng.getrandbits(60)) if medium == "cpc" and utm_source == "yandex" else "",
            "",
            "",
            "",
            f"https://medfront.example/?utm_source={utm_source}" if utm_source else "",
            "+73952480100" if source == "call" else "",
            last_source,
            last_campaign,
            created + datetime.timedelta(days=rng.randrange(1, 20)) if repeat else None,
            created,
            created + datetime.timedelta(minutes=15),
            contacted if stage != "new" or appointment_id else None,
            None,
            appointment_id,
            booked_at if appointment_id else (contacted if stage == "lost" else None),
        )

    table = Lead._meta.db_table
    written = 0
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(LEAD_COLUMNS)}) FROM STDIN") as copy:
            for appointment_id, patient_id, clinic_id, booked_at in booked:
                created = max(
                    year_ago, booked_at - datetime.timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
                )
                copy.write_row(
                    row(
                        patient_id=patient_id,
                        clinic_id=clinic_id,
                        created=created,
                        appointment_id=appointment_id,
                        booked_at=booked_at,
                        phone=people.phones.get(patient_id, ""),
                        first_name=people.first_names.get(patient_id, ""),
                    )
                )
                written += 1
            while written < count:
                known = rng.random() < 0.1
                patient_id = rng.choice(people.ids) if known else None
                created = year_ago + datetime.timedelta(seconds=rng.randrange(364 * 86400))
                copy.write_row(
                    row(
                        patient_id=patient_id,
                        clinic_id=rng.choice(demo_clinic_ids) if rng.random() < 0.9 else None,
                        created=created,
                        appointment_id=None,
                        booked_at=None,
                        phone=people.phones[patient_id]
                        if known
                        else f"+7914{rng.randrange(10**7):07d}",
                        first_name=people.first_names[patient_id] if known else "Гость",
                    )
                )
                written += 1
        cursor.execute(f"ANALYZE {table}")  # as autovacuum would after a load this size
    return {
        "leads": written,
        "booked": len(booked),
        "by_source": dict(sorted(sources.items())),
        "load_s": round(time.perf_counter() - started, 1),
    }


def seed_spend(clinics: list, *, today: datetime.date) -> int:
    """Each paid channel's spend per clinic and calendar month over the last 12 months."""
    from crm.models import AdSpend

    rows = []
    month = (today.replace(day=1) - datetime.timedelta(days=330)).replace(day=1)
    while month <= today:
        following = (month + datetime.timedelta(days=32)).replace(day=1)
        for _s, utm_source, _m, campaign, _w, amount in CHANNELS:
            if not amount:
                continue
            for clinic in clinics:
                rows.append(
                    AdSpend(
                        clinic=clinic,
                        utm_source=utm_source,
                        utm_campaign=campaign,
                        date_from=month,
                        date_to=following - datetime.timedelta(days=1),
                        amount=Decimal(amount),
                    )
                )
        month = following
    AdSpend.objects.bulk_create(rows)
    return len(rows)


def rebuild_activity() -> float:
    """The activity facts and lead outcomes, as the beat's first refresh builds them in a running
    network (`crm.services.activity.activity_rebuild`); its seconds."""
    from django.db import connection

    from crm.models import Lead, PatientActivity, PatientSpecialty
    from crm.services.activity import activity_rebuild
    from portal.models import Consent, Patient

    started = time.perf_counter()
    activity_rebuild()
    with connection.cursor() as cursor:
        # As autovacuum would after a load this size (the rebuild rewrote the booked leads; the
        # patients and their consents were loaded by the seed, and a count plans on their sizes).
        for model in (PatientActivity, PatientSpecialty, Lead, Patient, Consent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return round(time.perf_counter() - started, 1)


def seed_marketer():
    from portal.choices import Role
    from portal.models import StaffMembership, User

    marketer = User.objects.create_user(email="bench-marketer@bench.example.test", password=None)
    StaffMembership.objects.create(user=marketer, role=Role.MARKETER, clinic=None)
    return marketer


def seed(results: dict, *, after_first_step=None, leads_and_spend: bool = True) -> Crm:
    """Everything the phase reads (see the module's docstring), timed into `results["crm"]`.

    The history is loaded in two steps (`bench.dashboard.history_steps`); `after_first_step()`,
    when given, runs between them (the dashboard's measurement on a small history) and is not
    counted in the seeding time. `leads_and_spend=False` leaves the leads and ad spend out
    (`BENCH_ONLY=dashboard`).

    `BENCH_CRM_PATIENTS`, `BENCH_CRM_LEADS` and `BENCH_HISTORY_APPOINTMENTS` shrink the data
    for development; the figures to report come from the defaults."""
    import os

    from django.utils import timezone

    from bench import dashboard, desk, history, history_staff

    patients = int(os.environ.get("BENCH_CRM_PATIENTS", PATIENTS))
    leads = int(os.environ.get("BENCH_CRM_LEADS", LEADS))
    appointments = int(os.environ.get("BENCH_HISTORY_APPOINTMENTS", APPOINTMENTS))
    rng = random.Random(16)
    now = timezone.now()
    today = timezone.localdate()
    crm = Crm(today=today)
    figures = crm.figures
    figures["sizes_default"] = (patients, leads, appointments) == (PATIENTS, LEADS, APPOINTMENTS)
    started = time.perf_counter()
    clinics = demo_clinics()
    people = seed_patients(count=patients, clinics=clinics)
    figures["patients"] = len(people.ids)
    figures["patients_s"] = round(time.perf_counter() - started, 1)
    log(f"crm: {len(people.ids)} patients in {figures['patients_s']} s")
    figures["advertising_consents"] = seed_consents(people, now=now, rng=rng)
    roster = history_staff.staff(
        clinics + branch_clinics(), since=today - datetime.timedelta(days=400)
    )
    small, rest = dashboard.history_steps(appointments)
    until = today - datetime.timedelta(days=1)
    first = history.load(count=small, seats=roster.seats, patient_ids=people.ids, until=until)
    paused = 0.0
    if after_first_step is not None:
        pause = time.perf_counter()
        after_first_step()
        paused = time.perf_counter() - pause
    second = None
    if rest:
        second = history.load(
            count=rest, seats=roster.seats, patient_ids=people.ids, until=until, loaded=small
        )
    figures["history"] = dashboard.merge_loads(first, second)
    log(f"crm: history {figures['history']}")
    if leads_and_spend:
        figures["leads"] = seed_leads(people, clinics, count=leads, now=now, rng=rng)
        log(f"crm: leads {figures['leads']}")
        figures["ad_spend_rows"] = seed_spend(clinics, today=today)
        figures["activity_rebuild_s"] = rebuild_activity()
        log(f"crm: activity facts rebuilt in {figures['activity_rebuild_s']} s")
    figures["seed_seconds"] = round(time.perf_counter() - started - paused, 1)
    crm.marketer = seed_marketer()
    crm.cookie = desk.session_cookie(crm.marketer)
    results["crm"] = figures
    results["history_load_s"] = figures["history"]["load_s"]
    results["history_overlaps"] = history.overlaps()
    return crm
