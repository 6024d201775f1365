"""Read paths of the audit trail: the audit log pages (the chain check: `audit_chain`)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Field, Model, Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from portal import permissions
from portal.choices import PATIENT_ROLE, AuditAction, Role
from portal.models import AuditEvent, Clinic, Patient, User
from portal.services.audit import audit_record
from portal.types import RequestUser

# Blind-index columns name what a search matched on; a reader needs the words, not the column.
INDEX_FIELD_LABELS = {
    "phone_bidx": gettext_lazy("phone"),
    "email_bidx": gettext_lazy("e-mail"),
    "name_birth_bidx": gettext_lazy("name and date of birth"),
    "last4_surname_bidx": gettext_lazy("last 4 phone digits and surname"),
    "duplicates": gettext_lazy("possible duplicates"),
    # Lists an event says were read, not fields of a model.
    "callbacks": gettext_lazy("callbacks to ring back"),
    "calls": gettext_lazy("calls"),
    "turns": gettext_lazy("conversation"),
    "rebook_tasks": gettext_lazy("visits to rebook"),
    "rules": gettext_lazy("schedule rules"),
}
# Object types recorded under a name that is not a model label.
OBJECT_TYPE_LABELS = {
    "scheduling.document": gettext_lazy("document"),
    "portal.family_link": gettext_lazy("family link"),
    "portal.contact_preference": gettext_lazy("contact preferences"),
    "portal.messenger_link": gettext_lazy("messenger link"),
    "portal.messenger_link_code": gettext_lazy("messenger link code"),
    "scheduling.freed_slot": gettext_lazy("freed time"),
    "scheduling.waitlist_offer": gettext_lazy("waiting list offer"),
    "scheduling.waitlist_entry": gettext_lazy("waiting list entry"),
    "crm.offline_conversions": gettext_lazy("offline conversions"),
}


@dataclass(frozen=True)
class AuditPatient:
    """A patient an event names: the name for readers who may see patients, else a short id."""

    public_id: str
    label: str
    named: bool


@dataclass(frozen=True)
class AuditRow:
    """One audit event with the names a reader needs, resolved in bulk."""

    event: AuditEvent
    actor_label: str
    clinic_label: str
    patients: list[AuditPatient] = field(default_factory=list)

    @property
    def object_label(self) -> str:
        """What was touched, in words ("Appointment", "Document: certificate")."""
        label = capfirst(str(object_type_label(self.event.object_type)))
        if self.event.object_type == "scheduling.document" and self.event.object_id:
            return f"{label}: {self.event.object_id}"
        return label

    @property
    def fields_label(self) -> str:
        """The changed (or searched-by) fields in the reader's language."""
        model = _model_of(self.event.object_type)
        return ", ".join(str(field_label(model, name)) for name in self.event.changed_fields or [])

    @property
    def role_label(self) -> str:
        """The actor's role in the reader's language; events keep the raw code."""
        role = self.event.role
        if role == PATIENT_ROLE:
            return gettext("Patient")
        return str(Role(role).label) if role in Role.values else role


def audit_events(
    *,
    user: RequestUser,
    patient: uuid.UUID | None = None,
    actor: str = "",
    action: str = "",
    clinic: Clinic | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events newest first, for holders of `audit.view`, filtered as given.

    Readers whose `audit.view` is tied to clinics see the events of those clinics only.
    `patient` is a patient's public id; `actor` a user's e-mail or public id (an unknown one
    matches nothing). The period's
    dates are in the reader's time zone, both ends included.
    """
    permissions.require_capability(user, "audit.view")
    qs = AuditEvent.objects.order_by("-pk")
    readable = permissions.clinic_ids_with(user, "audit.view")
    if readable is not None:
        qs = qs.filter(clinic_id__in=readable)
    if patient:
        qs = qs.filter(_mentions_patient(str(patient)))
    if actor:
        qs = qs.filter(_actor_condition(actor))
    if action:
        qs = qs.filter(action=action)
    if clinic is not None:
        qs = qs.filter(clinic_id=clinic.pk)
    if date_from:
        qs = qs.filter(occurred_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(occurred_at__date__lte=date_to)
    return qs


def audit_readable_clinics(user: RequestUser) -> QuerySet[Clinic]:
    """The clinics a reader of the audit log may filter by."""
    return permissions.clinics_with(user, "audit.view").order_by("name")


def object_type_label(object_type: str) -> str:
    """A recorded object type in words: the model's verbose name where it is a model."""
    if object_type in OBJECT_TYPE_LABELS:
        return str(OBJECT_TYPE_LABELS[object_type])
    model = _model_of(object_type)
    if model is not None:
        return str(model._meta.verbose_name)
    # A type recorded by code newer than this list: its own name in words, never "app.name".
    return object_type.rpartition(".")[2].replace("_", " ")


def field_label(model: type[Model] | None, name: str) -> str:
    """A recorded field name in words: the field's verbose name, or what an index searches."""
    if name in INDEX_FIELD_LABELS:
        return str(INDEX_FIELD_LABELS[name])
    if model is not None:
        try:
            found = model._meta.get_field(name)
        except FieldDoesNotExist:
            found = None
        # Reverse relations and generic keys have no verbose name of their own.
        if isinstance(found, Field):
            return str(found.verbose_name)
    return name.replace("_", " ")


def _model_of(object_type: str) -> type[Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def audit_events_for_patient(
    *, user: RequestUser, patient: Patient, limit: int = 10
) -> list[AuditRow]:
    """The latest events naming `patient`, for the card; empty for users without `audit.view`."""
    if not permissions.has_capability(user, "audit.view"):
        return []
    events = list(
        AuditEvent.objects.filter(_mentions_patient(str(patient.public_id))).order_by("-pk")[:limit]
    )
    return audit_describe(events)


def audit_describe(
    events: list[AuditEvent], *, reader: RequestUser | None = None
) -> list[AuditRow]:
    """Actor, clinic and patient names for a page of events: a fixed number of queries
    whatever the page size. Patients are named only for a `reader` who may open patient cards;
    others see the start of their public id."""
    names = _patient_names(events, reader) if reader is not None else {}
    actor_ids = {e.actor_id for e in events if e.actor_id}
    clinic_ids = {e.clinic_id for e in events if e.clinic_id}
    actors = {
        u.pk: u
        for u in User.objects.filter(pk__in=actor_ids).only(
            "pk", "email", "display_name", "public_id"
        )
    }
    clinics = dict(Clinic.objects.filter(pk__in=clinic_ids).values_list("pk", "name"))
    rows = []
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id is not None else None
        if actor is not None:
            actor_label = actor.display_name or actor.email or str(actor.public_id)
        elif event.actor_id:
            actor_label = f"#{event.actor_id}"
        else:
            actor_label = ""
        clinic_label = clinics.get(event.clinic_id, "") if event.clinic_id is not None else ""
        patients = [
            AuditPatient(str(pid), names.get(str(pid), str(pid)[:8]), str(pid) in names)
            for pid in event.patient_ids or []
        ]
        rows.append(AuditRow(event, actor_label, clinic_label, patients))
    return rows


def audit_log_rows(events: list[AuditEvent], *, reader: RequestUser) -> list[AuditRow]:
    """A page of the audit log for `reader`. Patients it shows by name are a listing of those
    patients, audited like a search."""
    rows = audit_describe(events, reader=reader)
    named = sorted({p.public_id for row in rows for p in row.patients if p.named})
    if named:
        audit_record(
            actor=reader,
            action=AuditAction.LIST,
            object_type="portal.patient",
            patient_ids=named,
        )
    return rows


def _patient_names(events: list[AuditEvent], reader: RequestUser) -> dict[str, str]:
    if not permissions.has_capability(reader, "patient.view_card"):
        return {}
    wanted = {str(pid) for event in events for pid in event.patient_ids or []}
    if not wanted:
        return {}
    return {
        str(patient.public_id): patient.full_name
        for patient in Patient.objects.filter(public_id__in=wanted).only(
            "public_id", "last_name", "first_name", "middle_name", "anonymised_at"
        )
    }


def _mentions_patient(public_id: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(patient_ids__contains=[public_id])
    # SQLite has no JSON containment; a whole UUID cannot be a substring of another one.
    return Q(patient_ids__icontains=f'"{public_id}"')


def _actor_condition(actor: str) -> Q:
    actor = actor.strip()
    try:
        return Q(actor_public_id=str(uuid.UUID(actor)))
    except ValueError:
        pass
    user_id = User.objects.filter(email__iexact=actor).values_list("pk", flat=True).first()
    return Q(actor_id=user_id) if user_id else Q(pk__in=[])
