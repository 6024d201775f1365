"""The portal side of the demo network: legal entities, clinics, the demo logins, patients.

Invariants:
- Idempotent: every object is found by a stable key (INN, clinic slug, login email, the demo
  patient's user, generated patients' home clinics) and created only when missing; nothing
  existing is updated, so a second run writes no rows.
- What is written comes from `portal.demo_network` (fixed network data) and
  `portal.demo_people` (generated people).
- Patients are written by one `bulk_create` (blind indexes computed first, since `save()` is not
  called) with one audit event per created patient and family link (field names only).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Collection

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from portal.choices import (
    AuditAction,
    ConsentChannel,
    ConsentPurpose,
    IdDocumentType,
    LegalBasis,
    SignatureMethod,
    SignerKind,
)
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD, DemoContext
from portal.demo_network import CLINICS, DEMO_MEMBERSHIPS, DEMO_STAFF_SEX, LEGAL_ENTITIES
from portal.demo_people import PeopleGenerator, Person, demo_family, network_people
from portal.models import (
    AuditEvent,
    Clinic,
    FamilyLink,
    LegalEntity,
    Patient,
    StaffMembership,
    User,
)
from portal.services.audit import audit_record_many
from portal.services.family import majority_date
from portal.services.patients import EDITABLE_FIELDS
from portal.services.patients import OBJECT_TYPE as PATIENT_OBJECT_TYPE

FAMILY_LINK_OBJECT_TYPE = "portal.familylink"

# --- Seeding -----------------------------------------------------------------------------------


def seed_portal(ctx: DemoContext) -> None:
    """Create (or find) the demo network's portal side and fill `ctx` for the app seeders.

    Fills `ctx.legal_entities`, `ctx.clinics` (by slug), `ctx.users` (by DEMO_LOGINS key),
    `ctx.demo_patient`, `ctx.dependants` and `ctx.patients` (every patient of the demo clinics,
    oldest first, the demo patient's family included).
    """
    with transaction.atomic():
        ctx.legal_entities = _ensure_legal_entities()
        ctx.clinics = _ensure_clinics(ctx.legal_entities)
        ctx.users = _ensure_logins(ctx)
        _ensure_patients(ctx)
    _ensure_consents(ctx)


def _ensure_legal_entities() -> dict[str, LegalEntity]:
    entities = {}
    for key, values in LEGAL_ENTITIES.items():
        data = dict(values)
        entities[key], _created = LegalEntity.objects.get_or_create(
            inn=data.pop("inn"), defaults=data
        )
    return entities


def _ensure_clinics(entities: dict[str, LegalEntity]) -> dict[str, Clinic]:
    clinics = {}
    for slug, values in CLINICS.items():
        data = dict(values, legal_entity=entities[values["legal_entity"]])
        clinics[slug], _created = Clinic.objects.get_or_create(slug=slug, defaults=data)
    return clinics


def _ensure_logins(ctx: DemoContext) -> dict[str, User]:
    existing = {u.email: u for u in User.objects.filter(email__in=DEMO_LOGINS.values())}
    # One hash for every new demo login: the password is public, and hashing costs ~0.1 s each.
    password_hash = None
    gen = None
    users: dict[str, User] = {}
    for key, email in DEMO_LOGINS.items():
        user = existing.get(email)
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            display_name = ""
            if key in DEMO_STAFF_SEX:
                sex = DEMO_STAFF_SEX[key]
                gen = gen or PeopleGenerator(ctx.rng, ctx.today)
                person = gen.person(clinic="irkutsk-centre", sex=sex, russian=True, ages=(30, 55))
                display_name = f"{person.first_name} {person.middle_name} {person.last_name}"
            user = User.objects.create(
                email=email,
                password=password_hash,
                is_demo=True,
                is_staff=key == "netadmin",
                display_name=display_name,
                preferred_language="ru",
            )
        users[key] = user
    _ensure_verified_emails(users.values())
    _ensure_memberships(users, ctx.clinics)
    return users


def _ensure_verified_emails(users: Collection[User]) -> None:
    have = set(
        EmailAddress.objects.filter(user__in=users, verified=True).values_list("user_id", flat=True)
    )
    missing = [u for u in users if u.pk not in have]
    for user in missing:
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )


def _ensure_memberships(users: dict[str, User], clinics: dict[str, Clinic]) -> None:
    have = set(
        StaffMembership.objects.filter(user__in=users.values()).values_list(
            "user_id", "role", "clinic_id"
        )
    )
    new = []
    for key, memberships in DEMO_MEMBERSHIPS.items():
        for role, slug in memberships:
            clinic = clinics[slug] if slug else None
            row = (users[key].pk, role.value, clinic.pk if clinic else None)
            if row not in have:
                new.append(StaffMembership(user=users[key], role=role, clinic=clinic))
    StaffMembership.objects.bulk_create(new)


def _ensure_patients(ctx: DemoContext) -> None:
    clinic_ids = [c.pk for c in ctx.clinics.values()]
    patient_user = ctx.users["patient"]
    demo_patient = Patient.objects.filter(user=patient_user).first()
    if demo_patient is None:
        _create_patients(ctx)
        demo_patient = Patient.objects.get(user=patient_user)
    ctx.demo_patient = demo_patient
    ctx.dependants = list(
        Patient.objects.filter(guardian_links__guardian=demo_patient).order_by("pk")
    )
    ctx.patients = list(
        Patient.objects.filter(home_clinic_id__in=clinic_ids, anonymised_at__isnull=True)
        .select_related("home_clinic")
        .order_by("pk")
    )


def _create_patients(ctx: DemoContext) -> None:
    gen = PeopleGenerator(ctx.rng, ctx.today)
    people = demo_family(gen, ctx.users["patient"]) + network_people(gen, ctx.patient_count)
    _write_people(ctx, gen, people)


def _write_people(ctx: DemoContext, gen: PeopleGenerator, people: list[Person]) -> None:
    rng = gen.rng
    now = timezone.now()
    insurers = ("СОГАЗ", "Ингосстрах", "РЕСО-Гарантия", "АльфаСтрахование", "Ренессанс")
    patients = []
    for person in people:
        age = (ctx.today - person.birth_date).days // 365
        patient = Patient(
            **person.patient_fields(),
            user=person.user,
            created_by=person.created_by,
            home_clinic=ctx.clinics[person.clinic],
            phone_verified_at=now if person.user else None,
        )
        if person.russian:
            if rng.random() < 0.6:
                patient.snils = gen.snils()
            if rng.random() < 0.5:
                patient.oms_policy = f"{rng.randrange(10**15, 10**16)}"
            if age >= 14 and rng.random() < 0.5:
                patient.id_document_type = IdDocumentType.PASSPORT_RU
                series = "25" if person.clinic.startswith("irkutsk") else "45"
                patient.id_document_number = (
                    f"{series} {rng.randint(0, 24):02d} {rng.randrange(10**6):06d}"
                )
            elif age < 14 and rng.random() < 0.5:
                patient.id_document_type = IdDocumentType.BIRTH_CERTIFICATE
                patient.id_document_number = f"IV-СТ № {rng.randrange(10**6):06d}"
        elif age >= 18 and rng.random() < 0.5:
            patient.id_document_type = IdDocumentType.FOREIGN_PASSPORT
            patient.id_document_number = f"{rng.randrange(10**9):09d}"
        if age >= 18 and rng.random() < 0.15:
            patient.dms_insurer = rng.choice(insurers)
            patient.dms_policy = f"{rng.randint(100, 999)}-{rng.randrange(10**7):07d}"
        # bulk_create skips save(), which keeps the blind indexes; compute them here.
        patient.refresh_blind_indexes()
        patients.append(patient)
    Patient.objects.bulk_create(patients, batch_size=500)

    by_key = {person.key: patient for person, patient in zip(people, patients, strict=True)}
    links = [
        FamilyLink(
            guardian=by_key[person.key],
            dependant=by_key[dependant_key],
            relation=relation,
            legal_basis=basis,
            basis_document=_basis_document(rng, basis, by_key[dependant_key]),
            valid_until=_link_end(ctx, basis, by_key[dependant_key]),
        )
        for person in people
        for dependant_key, relation, basis in person.links
    ]
    FamilyLink.objects.bulk_create(links, batch_size=500)
    audit_record_many(
        [_patient_event(p, now) for p in patients] + [_link_event(link, now) for link in links]
    )


def _basis_document(rng: random.Random, basis: str, dependant: Patient) -> str:
    if basis == LegalBasis.PARENT_OF_MINOR:
        if dependant.id_document_type == IdDocumentType.BIRTH_CERTIFICATE:
            return f"Свидетельство о рождении {dependant.id_document_number}"
        if dependant.preferred_language == "en":
            return f"Birth certificate {rng.randrange(10**8, 10**9)}"
        return f"Свидетельство о рождении IV-СТ № {rng.randrange(10**6):06d}"
    if basis == LegalBasis.POWER_OF_ATTORNEY:
        return f"Доверенность 38 АА {rng.randrange(10**7):07d}"
    return ""


def _patient_event(patient: Patient, now: datetime.datetime) -> AuditEvent:
    filled = [
        name
        for name in EDITABLE_FIELDS
        if getattr(patient, "home_clinic_id" if name == "home_clinic" else name) not in ("", None)
    ]
    return AuditEvent(
        occurred_at=now,
        actor_id=patient.created_by_id,
        actor_public_id=str(patient.created_by.public_id) if patient.created_by else "",
        role="patient" if patient.created_by_id else "",
        clinic_id=patient.home_clinic_id,
        action=AuditAction.CREATE,
        object_type=PATIENT_OBJECT_TYPE,
        object_id=str(patient.public_id),
        patient_ids=[str(patient.public_id)],
        changed_fields=sorted(filled),
    )


def _link_end(ctx: DemoContext, basis: str, dependant: Patient) -> datetime.date | None:
    """When a demo link ends, by the rules `family_add_dependant` keeps for real ones."""
    # Generated people all have a date of birth; without one a parent's link has no set end.
    if basis == LegalBasis.PARENT_OF_MINOR and dependant.birth_date is not None:
        return majority_date(dependant.birth_date) - datetime.timedelta(days=1)
    if basis == LegalBasis.POWER_OF_ATTORNEY:
        return ctx.today.replace(year=ctx.today.year + 3)
    return None


def _link_event(link: FamilyLink, now: datetime.datetime) -> AuditEvent:
    return AuditEvent(
        occurred_at=now,
        clinic_id=link.guardian.home_clinic_id,
        action=AuditAction.CREATE,
        object_type=FAMILY_LINK_OBJECT_TYPE,
        object_id=str(link.pk or ""),
        patient_ids=sorted([str(link.guardian.public_id), str(link.dependant.public_id)]),
        changed_fields=sorted(
            ["relation", "legal_basis"]
            + (["basis_document"] if link.basis_document else [])
            + (["valid_until"] if link.valid_until else [])
        ),
    )


# Purposes every demo patient has signed besides the required ones: reminders need this one.
DEMO_CONSENT_PURPOSES = (ConsentPurpose.SERVICE_NOTIFICATIONS,)


def _ensure_consents(ctx: DemoContext) -> None:
    """Publish the consent texts and sign the required ones (and service notifications) for
    every demo patient who has not signed them yet, through the consents service.

    The demo patient signs in her account for herself and, as their parent, for her children;
    everyone else signed a paper form at the registrar's desk.
    """
    try:
        from portal.consent_texts import ensure_consent_documents
        from portal.services.consents import consent_sign
    except ImportError:
        ctx.log("portal: consents service not installed; demo patients sign no consents.")
        return
    from portal.models import Consent, ConsentDocument

    ensure_consent_documents()
    required = set(
        ConsentDocument.objects.filter(is_required=True).values_list("purpose", flat=True)
    )
    purposes = sorted(required | set(DEMO_CONSENT_PURPOSES))
    signed = set(
        Consent.objects.filter(
            patient__in=ctx.patients,
            withdrawn_at__isnull=True,
            purpose__in=[*purposes, ConsentPurpose.ADVERTISING],
        ).values_list("patient_id", "purpose")
    )
    family = {p.pk for p in ctx.dependants}
    # Parents sign for their minor children (under 15 a child cannot consent alone).
    parents = {
        link.dependant_id: link.guardian
        for link in FamilyLink.objects.filter(
            dependant__in=ctx.patients, legal_basis=LegalBasis.PARENT_OF_MINOR
        ).select_related("guardian")
    }
    patient_user, registrar = ctx.users["patient"], ctx.users["registrar"]
    with transaction.atomic():
        for patient in ctx.patients:
            for purpose in purposes:
                if (patient.pk, purpose) in signed:
                    continue
                common = {"patient": patient, "purpose": purpose, "language": "ru"}
                if patient.pk == ctx.demo_patient.pk:
                    consent_sign(
                        actor=patient_user,
                        signer_kind=SignerKind.PATIENT,
                        channel=ConsentChannel.WEB,
                        signature_method=SignatureMethod.ACCOUNT_CONFIRMATION,
                        **common,
                    )
                elif patient.pk in family:
                    consent_sign(
                        actor=patient_user,
                        signer_kind=SignerKind.REPRESENTATIVE,
                        representative=ctx.demo_patient,
                        channel=ConsentChannel.WEB,
                        signature_method=SignatureMethod.ACCOUNT_CONFIRMATION,
                        **common,
                    )
                elif patient.pk in parents:
                    consent_sign(
                        actor=registrar,
                        signer_kind=SignerKind.REPRESENTATIVE,
                        representative=parents[patient.pk],
                        channel=ConsentChannel.DESK,
                        signature_method=SignatureMethod.HANDWRITTEN,
                        **common,
                    )
                else:
                    consent_sign(
                        actor=registrar,
                        signer_kind=SignerKind.PATIENT,
                        channel=ConsentChannel.DESK,
                        signature_method=SignatureMethod.HANDWRITTEN,
                        **common,
                    )
        # About a third of the adults agreed to advertising on the paper form, so the
        # marketer's segments and campaigns have an audience (the demo patient did not: her
        # account shows how news and offers ask for that consent).
        for patient in ctx.patients:
            if (
                patient.pk % 3
                or patient.pk == ctx.demo_patient.pk
                or patient.pk in family
                or patient.pk in parents
                or (patient.pk, ConsentPurpose.ADVERTISING) in signed
            ):
                continue
            consent_sign(
                actor=registrar,
                patient=patient,
                purpose=ConsentPurpose.ADVERTISING,
                language="ru",
                signer_kind=SignerKind.PATIENT,
                channel=ConsentChannel.DESK,
                signature_method=SignatureMethod.HANDWRITTEN,
            )
