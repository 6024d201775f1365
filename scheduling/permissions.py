"""Who may book, for whom, through which channel and where: the checks the API, FHIR and the
pages share before they call the booking services.

Patients (signed in, without a staff role) book online for themselves and their dependants
in any clinic; staff book any patient of the network, by phone by default, into the clinics
where they hold `appointment.book`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.models import Clinic, Patient
from scheduling.choices import AppointmentChannel
from scheduling.errors import InvalidInput
from scheduling.models import Promotion, ServicePrice
from scheduling.selectors.catalogue import get_by_public_id

M = TypeVar("M", bound=Model)


def require_booker(user: Any) -> None:
    """403 unless `user` books as a patient or holds `appointment.book` somewhere."""
    if not permissions.acts_as_patient(user) and not permissions.has_capability(
        user, "appointment.book"
    ):
        raise PermissionDenied


def patient_for_booking(user: Any, public_id: Any) -> Patient:
    """Whom the booking is for: a patient's self (no id) or dependant, or any patient of the
    network for staff (who must name one); 404 for anyone else."""
    if permissions.acts_as_patient(user):
        if public_id is None:
            return user.patient
        return get_by_public_id(permissions.patients_managed_by(user), public_id)
    if public_id is None:
        raise InvalidInput(
            _("Name the patient to book for."), code="patient_required", field="patient"
        )
    return get_by_public_id(
        Patient.objects.filter(anonymised_at__isnull=True, merged_into__isnull=True), public_id
    )


def channel_for(user: Any, requested: str | None) -> str:
    """Patients book online; staff book through the channel they name, by phone by default."""
    if permissions.acts_as_patient(user):
        if requested not in (None, AppointmentChannel.ONLINE):
            raise InvalidInput(
                _("Patients book online."), code="patients_book_online", field="channel"
            )
        return AppointmentChannel.ONLINE
    return requested or AppointmentChannel.PHONE


def bookable_clinic_ids(user: Any) -> set[int] | None:
    """The clinics `user` may book into: None for any (patients, network-wide staff)."""
    if permissions.acts_as_patient(user):
        return None
    return permissions.clinic_ids_with(user, "appointment.book")


# --- The catalogue: prices and promotions (`catalogue.manage`) ---------------------------------


def may_edit_services(user: Any) -> bool:
    """Services are shared by the network: only network-wide `catalogue.manage` edits them."""
    return permissions.has_capability(user, "catalogue.manage") and (
        permissions.clinic_ids_with(user, "catalogue.manage") is None
    )


def catalogue_clinic_for_user(user: Any, public_id: Any) -> Clinic:
    """The clinic whose prices and promotions `user` keeps: 404 unknown, 403 another's."""
    permissions.require_capability(user, "catalogue.manage")
    clinic = get_by_public_id(Clinic.objects.filter(is_active=True), public_id)
    permissions.require_capability(user, "catalogue.manage", clinic)
    return clinic


def _in_catalogue_clinics(user: Any, qs: QuerySet[M]) -> QuerySet[M]:
    permissions.require_capability(user, "catalogue.manage")
    ids = permissions.clinic_ids_with(user, "catalogue.manage")
    return qs if ids is None else qs.filter(clinic_id__in=ids)


def get_promotion_for_user(user: Any, public_id: Any) -> Promotion:
    """A promotion of a clinic where `user` keeps the catalogue; 404 for others' and unknown."""
    qs = Promotion.objects.select_related("clinic", "service")
    return get_by_public_id(_in_catalogue_clinics(user, qs), public_id)


def get_service_price_for_user(user: Any, public_id: Any) -> ServicePrice:
    """A price row of a clinic where `user` keeps the catalogue; 404 for others' and unknown."""
    qs = ServicePrice.objects.select_related("clinic", "service")
    return get_by_public_id(_in_catalogue_clinics(user, qs), public_id)


# --- Connectors (`network.manage`, network-wide) -----------------------------------------------


def connector_clinic_for_user(user: Any, public_id: Any) -> Clinic:
    """A clinic whose connector `user` configures: only network-wide `network.manage`
    (network admins); 403 for anyone else, 404 for an unknown clinic."""
    require_connector_admin(user)
    return get_by_public_id(Clinic.objects.filter(is_active=True), public_id)


def require_connector_admin(user: Any) -> None:
    if permissions.clinic_ids_with(user, "network.manage") is not None:
        raise PermissionDenied
