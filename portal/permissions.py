"""The one permission layer that pages and the API share.

A capability is a named action; `CAPABILITIES` says which staff roles hold it. A role held in a
clinic grants the capability in that clinic; a network-wide membership (no clinic) grants it in
every clinic. Patients are not a role here: what a patient may touch is themselves and their
dependants (`patients_managed_by`). Templates may use these checks only to hide UI.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.choices import PATIENT_ROLE, Role
from portal.models import Clinic, FamilyLink, Patient, StaffMembership

R = Role
CAPABILITIES: dict[str, frozenset[str]] = {
    # Patients (the shared profile)
    "patient.search": frozenset(
        {R.REGISTRAR, R.HEAD_NURSE, R.DOCTOR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}
    ),
    "patient.view_card": frozenset(
        {R.REGISTRAR, R.HEAD_NURSE, R.DOCTOR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}
    ),
    "patient.create": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "patient.update": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # Bulk import from a legacy system's export, and merging two profiles of one person: both
    # rewrite many records at once, so only administrators import; the front desk, which meets
    # the duplicates, may merge the profiles of its own clinic.
    "patient.import": frozenset({R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "patient.merge": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # Appointments and the front desk
    "appointment.view": frozenset(
        {R.REGISTRAR, R.HEAD_NURSE, R.DOCTOR, R.CLINIC_ADMIN, R.DIRECTOR, R.NETWORK_ADMIN}
    ),
    "appointment.book": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "appointment.manage": frozenset({R.REGISTRAR, R.HEAD_NURSE, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "appointment.complete": frozenset(
        {R.DOCTOR, R.REGISTRAR, R.HEAD_NURSE, R.CLINIC_ADMIN, R.NETWORK_ADMIN}
    ),
    "appointment.rollback": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # Telephony: the caller panel, the callback queue and the day's calls of a clinic's lines
    "telephony.answer": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # Schedules, rooms, equipment, quotas
    "schedule.view": frozenset(
        {R.REGISTRAR, R.HEAD_NURSE, R.DOCTOR, R.CLINIC_ADMIN, R.DIRECTOR, R.NETWORK_ADMIN}
    ),
    "schedule.manage": frozenset({R.HEAD_NURSE, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "substitution.arrange": frozenset({R.DOCTOR, R.HEAD_NURSE, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # Catalogue: prices and promotions
    "catalogue.manage": frozenset({R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # CRM and analytics
    "crm.use": frozenset({R.MARKETER, R.NETWORK_ADMIN}),
    # The assistant's knowledge base: a clinic's articles, network-wide ones by network admins
    "knowledge.manage": frozenset({R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # The clinic admin sees the figures of their own clinics and sets their targets.
    "analytics.view": frozenset({R.DIRECTOR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "analytics.targets": frozenset({R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    # The assistant's operator inbox: registrars book and answer patients every day, marketers
    # own the website's enquiries, network admins oversee both.
    "assistant.answer": frozenset({R.REGISTRAR, R.MARKETER, R.NETWORK_ADMIN}),
    # Administration
    "audit.view": frozenset({R.DIRECTOR, R.NETWORK_ADMIN}),
    "outbox.view": frozenset({R.NETWORK_ADMIN}),
    # Patient messages: the message log (read-only, addresses masked) and the texts per event
    "messages.view": frozenset({R.REGISTRAR, R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "messages.manage": frozenset({R.CLINIC_ADMIN, R.NETWORK_ADMIN}),
    "network.manage": frozenset({R.NETWORK_ADMIN}),
}

# Where each role lands after sign-in, in order of precedence for users with several roles.
HOME_ORDER = (
    R.NETWORK_ADMIN,
    R.DIRECTOR,
    R.CLINIC_ADMIN,
    R.HEAD_NURSE,
    R.DOCTOR,
    R.REGISTRAR,
    R.MARKETER,
)


def _memberships(user) -> list[StaffMembership]:
    """Memberships of `user`, loaded once per user object (one query per request)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_medfront_memberships", None)
    if cached is None:
        cached = list(StaffMembership.objects.filter(user=user).select_related("clinic"))
        user._medfront_memberships = cached
    return cached


def memberships_of(user) -> list[StaffMembership]:
    return _memberships(user)


def sole_clinic(user) -> Clinic | None:
    """The clinic `user` works in when every membership is in that one clinic, else None
    (no memberships, several clinics, or a network-wide one). Costs no query of its own."""
    clinics = {m.clinic_id: m.clinic for m in _memberships(user)}
    if len(clinics) == 1:
        return next(iter(clinics.values()))
    return None


def forget_memberships(user) -> None:
    user.__dict__.pop("_medfront_memberships", None)


def remember_no_memberships(user) -> None:
    """Record that `user` holds no staff role, when the loading query has found out already
    (API token authentication), so that `_memberships` need not ask again."""
    user._medfront_memberships = []


def staff_roles(user) -> set[str]:
    return {m.role for m in _memberships(user)}


def is_staff_member(user) -> bool:
    return bool(_memberships(user))


def is_patient(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        return user.patient is not None
    except Patient.DoesNotExist:
        return False


def acts_as_patient(user) -> bool:
    """A signed-in patient without any staff role: staff who are also patients act as staff
    (they book for others, and patient-only limits do not apply to them)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return not is_staff_member(user) and is_patient(user)


def user_roles(user) -> set[str]:
    roles = staff_roles(user)
    if is_patient(user):
        roles.add(PATIENT_ROLE)
    return roles


def primary_role(user) -> str | None:
    roles = staff_roles(user)
    for role in HOME_ORDER:
        if role in roles:
            return role
    return PATIENT_ROLE if is_patient(user) else None


def has_capability(user, capability: str, clinic: Clinic | int | None = None) -> bool:
    """True if `user` may do `capability` — in `clinic` when given, else in at least one."""
    allowed = CAPABILITIES[capability]
    clinic_id = clinic.pk if isinstance(clinic, Clinic) else clinic
    for membership in _memberships(user):
        if membership.role not in allowed:
            continue
        if membership.clinic_id is None or clinic_id is None or membership.clinic_id == clinic_id:
            return True
    return False


def clinic_ids_with(user, capability: str) -> set[int] | None:
    """Clinic ids where `user` holds `capability`; None means every clinic (network-wide)."""
    allowed = CAPABILITIES[capability]
    ids: set[int] = set()
    for membership in _memberships(user):
        if membership.role in allowed:
            if membership.clinic_id is None:
                return None
            ids.add(membership.clinic_id)
    return ids


def clinics_with(user, capability: str) -> QuerySet[Clinic]:
    ids = clinic_ids_with(user, capability)
    qs = Clinic.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(pk__in=ids)


def require_capability(user, capability: str, clinic: Clinic | int | None = None) -> None:
    if not has_capability(user, capability, clinic):
        raise PermissionDenied


# --- Patients ----------------------------------------------------------------------------------


def patients_managed_by(user) -> QuerySet[Patient]:
    """The caller's own profile and the dependants they may act for (links still valid)."""
    if not is_patient(user):
        return Patient.objects.none()
    me = user.patient
    today = timezone.localdate()
    dependant_ids = (
        FamilyLink.objects.filter(guardian=me)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values("dependant_id")
    )
    return Patient.objects.filter(Q(pk=me.pk) | Q(pk__in=dependant_ids))


def can_act_for_patient(user, patient: Patient) -> bool:
    return patients_managed_by(user).filter(pk=patient.pk).exists()


def get_patient_for_user(user, public_id, *, action: str = "view") -> Patient:
    """The patient `public_id` if `user` may `action` it; 404 for unknown or foreign ones.

    Patients reach themselves and their dependants. Staff reach the network-shared profile
    through `patient.view_card` / `patient.update`; guardian object permissions
    (`portal.view_patient`) grant single cards to users without a role.
    """
    try:
        patient = Patient.objects.get(
            public_id=public_id, anonymised_at__isnull=True, merged_into__isnull=True
        )
    except (Patient.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        # A malformed id (UUIDField raises ValidationError for a bad string) is unknown too.
        raise Http404 from exc
    if can_act_for_patient(user, patient):
        return patient
    staff_capability = "patient.update" if action == "change" else "patient.view_card"
    if has_capability(user, staff_capability):
        return patient
    if action == "change" and has_capability(user, "patient.view_card"):
        raise PermissionDenied
    if action == "view" and user.is_authenticated and user.has_perm("portal.view_patient", patient):
        return patient
    raise Http404


def get_patient_for_staff(user, public_id, *, capability: str = "patient.view_card") -> Patient:
    """The patient `public_id` for a staff workplace page that needs `capability`.

    Staff without the capability get 403. Users who are not staff get 404 for a card that is
    not theirs (so a patient learns nothing about other ids) and 403 for their own one, which
    they see in their account pages instead. Unknown ids are 404 for everyone allowed in.
    """
    action = "change" if capability == "patient.update" else "view"
    if has_capability(user, capability):
        return get_patient_for_user(user, public_id, action=action)
    if not is_staff_member(user):
        get_patient_for_user(user, public_id, action="view")
    raise PermissionDenied


CAPABILITY_DESCRIPTIONS = {
    "patient.search": "Find patients by phone, e-mail, name + birth date, last 4 digits + surname",
    "patient.view_card": "Open a patient card (audited)",
    "patient.create": "Register a new patient",
    "patient.update": "Edit a patient's profile",
    "patient.import": "Import patients and visit history from a legacy system's export",
    "patient.merge": "Merge two profiles of one person (clinic staff: profiles of their clinic)",
    "appointment.view": "See appointments of the clinic",
    "appointment.book": "Book for a patient (phone, walk-in)",
    "appointment.manage": "Confirm, check in, mark no-show, cancel, reschedule",
    "appointment.complete": "Mark a visit completed",
    "appointment.rollback": "Undo a wrong booking, move or status mark (red button)",
    "telephony.answer": "Answer the clinic's lines: caller ID, callbacks, the day's calls",
    "schedule.view": "See schedules and the day board",
    "schedule.manage": "Set schedules, quotas, rooms and equipment",
    "substitution.arrange": "Arrange a substitution",
    "catalogue.manage": "Keep prices, promotions and the booking policy",
    "crm.use": "Work the CRM: leads, segments, campaigns",
    "knowledge.manage": "Edit the assistant's knowledge base (the clinic's articles)",
    "analytics.view": "Read KPI dashboards (clinic admin: their own clinics)",
    "analytics.targets": "Set a clinic's KPI targets",
    "assistant.answer": "Answer conversations the assistant handed over (transcripts audited)",
    "audit.view": "Read the audit trail",
    "outbox.view": "Browse the development outbox",
    "messages.view": "Read the message log of the clinic: status, attempts, errors (no text)",
    "messages.manage": "Edit the texts of patient messages per event, channel and language",
    "network.manage": "Manage clinics and staff of the network",
}


def render_roles_table() -> str:
    """Markdown table of capabilities × roles (✓ = within the scope of the membership)."""
    roles = list(Role)
    header = "| capability | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    lines = [header, rule]
    for capability, allowed in CAPABILITIES.items():
        cells = []
        for role in roles:
            cells.append("✓" if role in allowed else "")
        description = CAPABILITY_DESCRIPTIONS[capability]
        lines.append(f"| `{capability}` — {description} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
