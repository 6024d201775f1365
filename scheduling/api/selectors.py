"""Read paths the API needs beyond the engine's own selectors: the public catalogue and the
appointments a caller may see. Every list is scoped by the caller, never by ids from the URL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal import permissions
from portal.models import Clinic, Patient, User
from scheduling.choices import UPCOMING_STATUSES
from scheduling.db import db_uuid, model_from_row, run_batch, select_columns
from scheduling.models import Appointment, Doctor, Service, Specialty
from scheduling.selectors.availability import FirstRound, first_round_statements


def public_clinics() -> QuerySet[Clinic]:
    return Clinic.objects.filter(is_active=True).order_by("city", "name")


def public_specialties() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name")


def public_services(*, specialty: Specialty | None = None) -> QuerySet[Service]:
    qs = Service.objects.filter(is_active=True).select_related("specialty").order_by("name")
    return qs.filter(specialty=specialty) if specialty is not None else qs


def public_doctors(
    *, specialty: Specialty | None = None, clinic: Clinic | None = None
) -> QuerySet[Doctor]:
    qs = Doctor.objects.filter(is_active=True)
    if specialty is not None:
        qs = qs.filter(specialties=specialty)
    if clinic is not None:
        qs = qs.filter(clinics=clinic)
    return (
        qs.distinct()
        .order_by("last_name", "first_name", "id")
        .prefetch_related(
            Prefetch("specialties", queryset=Specialty.objects.only("id", "public_id")),
            Prefetch("clinics", queryset=Clinic.objects.only("id", "public_id")),
            Prefetch(
                "services", queryset=Service.objects.filter(is_active=True).only("id", "public_id")
            ),
        )
    )


def get_by_public_id(qs: QuerySet, public_id) -> object:
    """One row of `qs` by public id; 404 for unknown or malformed ids."""
    try:
        return qs.get(public_id=uuid.UUID(str(public_id)))
    except (qs.model.DoesNotExist, ValueError, TypeError, AttributeError) as exc:
        raise Http404 from exc


# What the booking path reads of the caller's own profile: whom to notify, in which language.
BOOKING_PROFILE_FIELDS = ("id", "public_id", "user", "phone", "email", "preferred_language")


def _own_profile_statement(user) -> tuple[str, list]:
    return (
        f"SELECT {select_columns(Patient, 't', BOOKING_PROFILE_FIELDS)}"  # noqa: S608 - names and placeholders only
        f" FROM {Patient._meta.db_table} t WHERE t.user_id = %s",
        [user.pk],
    )


def _cache_own_profile(user, rows) -> None:
    profile = model_from_row(Patient, rows[0], fields=BOOKING_PROFILE_FIELDS) if rows else None
    if profile is not None:
        Patient.user.field.set_cached_value(profile, user)
    User.patient.related.set_cached_value(user, profile)


def _wants_own_profile(user) -> bool:
    return user.is_authenticated and not User.patient.related.is_cached(user)


def _active_by_public_id(model, public_id: uuid.UUID) -> tuple[str, list]:
    return (
        f"SELECT {select_columns(model, 't')} FROM {model._meta.db_table} t"  # noqa: S608 - names and placeholders only
        " WHERE t.public_id = %s AND t.is_active = %s",
        [db_uuid(public_id), True],
    )


def _as_uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


# Primary keys of services and doctors by public id, learnt from rows read: the pairs never
# change (a public id is never reused or edited), so a process may keep them. A key found here
# is only ever used together with the row read afresh by its public id (`BookingReads`).
_KNOWN_IDS: dict[tuple[type, uuid.UUID], int] = {}
_KNOWN_IDS_MAX = 10_000


def _remember_id(model, public_id: uuid.UUID, pk: int) -> None:
    if len(_KNOWN_IDS) >= _KNOWN_IDS_MAX:
        _KNOWN_IDS.clear()
    _KNOWN_IDS[(model, public_id)] = pk


class BookingReads:
    """What a booking or hold request reads first, in one round trip: the caller's own profile
    and, when the body names them by well-formed ids, the active service and doctor. Reading
    them tells the caller nothing: the permission check and validation come after, in their
    usual order.

    The profile is cached on `user` (or its absence) with only the columns a booking reads:
    asking `user.patient` first would load and decrypt all of its encrypted fields; the ones
    left out still load, one query each, if anything reads them.

    With `read_ahead` (a patient's booking without a hold, on PostgreSQL) the same round trip
    also carries the engine's first reads for the body's start (who works when), when this
    process already knows the service's and doctor's primary keys: the booking's transaction
    then begins with what is taken, one round trip fewer (`first_round`, which the engine uses
    only if it was read for the service, doctor, clinic and days it resolves)."""

    def __init__(self, user, body, *, read_ahead: bool = False):
        wanted = [
            (model, _as_uuid_or_none(body.get(key)) if isinstance(body, Mapping) else None)
            for key, model in (("service", Service), ("doctor", Doctor))
        ]
        self.catalogue = [(model, public_id) for model, public_id in wanted if public_id]
        statements = [_active_by_public_id(model, pid) for model, pid in self.catalogue]
        own_profile = _wants_own_profile(user)
        if own_profile:
            statements.append(_own_profile_statement(user))
        ahead = _first_round_ahead(body, self.catalogue) if read_ahead else None
        if ahead is not None:
            statements.extend(ahead[1])
        answers = run_batch(statements) if statements else []
        self.first_round: FirstRound | None = None
        if ahead is not None:
            key, sent = ahead
            self.first_round = FirstRound(key, answers[len(answers) - len(sent) :])
            del answers[len(answers) - len(sent) :]
        if own_profile:
            _cache_own_profile(user, answers.pop())
        self.found = {
            (model, public_id): model_from_row(model, rows[0]) if rows else None
            for (model, public_id), rows in zip(self.catalogue, answers, strict=True)
        }
        for (model, public_id), found in self.found.items():
            if found is not None:
                _remember_id(model, public_id, found.pk)

    def service_and_doctor(self, service_id, doctor_id) -> tuple[Service, Doctor]:
        """`active_service_and_doctor`, answered from what was read when the ids are those."""
        keys = [(Service, _as_uuid_or_none(service_id)), (Doctor, _as_uuid_or_none(doctor_id))]
        if not all(key in self.found for key in keys):
            return active_service_and_doctor(service_id, doctor_id)
        service, doctor = (self.found[key] for key in keys)
        if service is None or doctor is None:
            raise Http404
        return service, doctor


def _first_round_ahead(body, catalogue) -> tuple | None:
    """The key and the statements of the engine's first round trip for the body's start
    (`first_round_statements`); None when the keys are not known yet, the start is not an
    aware ISO time, or off PostgreSQL (where statements do not share a round trip: nothing to
    save)."""
    if connection.vendor != "postgresql" or len(catalogue) != 2 or body.get("hold"):
        return None  # (two well-formed ids mean the body is a mapping)
    ids = tuple(_KNOWN_IDS.get(entry) for entry in catalogue)
    try:
        start = parse_datetime(body["start"]) if isinstance(body.get("start"), str) else None
        if None in ids or start is None or timezone.is_naive(start):
            return None
        return first_round_statements(service_id=ids[0], doctor_id=ids[1], start=start)
    except (ValueError, OverflowError):  # not a time, or at the calendar's edge: refused later
        return None


def active_service_and_doctor(service_id, doctor_id) -> tuple[Service, Doctor]:
    """The active service and doctor with these public ids, read in one round trip (the
    booking's hot path); 404 for unknown, inactive or malformed ids."""
    wanted = [(Service, _as_uuid_or_none(service_id)), (Doctor, _as_uuid_or_none(doctor_id))]
    if not all(public_id for _model, public_id in wanted):
        raise Http404
    services, doctors = run_batch([_active_by_public_id(model, pid) for model, pid in wanted])
    if not services or not doctors:
        raise Http404
    return model_from_row(Service, services[0]), model_from_row(Doctor, doctors[0])


def appointments_all() -> QuerySet[Appointment]:
    """Every appointment with what the API shows; callers scope it (see below)."""
    return Appointment.objects.select_related("patient", "doctor", "clinic", "service", "room")


def appointments_visible_to(user) -> QuerySet[Appointment]:
    """Patients: their own and their dependants' visits; staff: visits in their clinics."""
    qs = appointments_all()
    conditions = Q(pk__in=[])
    if permissions.is_patient(user):
        conditions |= Q(patient__in=permissions.patients_managed_by(user))
    clinic_ids = permissions.clinic_ids_with(user, "appointment.view")
    if clinic_ids is None:
        return qs
    if clinic_ids:
        conditions |= Q(clinic_id__in=clinic_ids)
    doctor = _doctor_of(user)
    if doctor is not None:
        conditions |= Q(doctor=doctor)
    return qs.filter(conditions)


def _doctor_of(user):
    try:
        return user.doctor_profile
    except Doctor.DoesNotExist:
        return None


def appointment_list(*, user, when: str | None = None) -> QuerySet[Appointment]:
    qs = appointments_visible_to(user)
    now = timezone.now()
    if when == "upcoming":
        return qs.filter(starts_at__gte=now, status__in=UPCOMING_STATUSES).order_by("starts_at")
    if when == "past":
        return qs.filter(Q(starts_at__lt=now) | ~Q(status__in=UPCOMING_STATUSES)).order_by(
            "-starts_at"
        )
    return qs.order_by("-starts_at")


def get_appointment_for_user(user, public_id) -> Appointment:
    """The appointment if `user` may see it; 404 for unknown or someone else's."""
    return get_by_public_id(appointments_visible_to(user), public_id)
