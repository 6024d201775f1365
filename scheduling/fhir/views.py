"""FHIR R4 endpoints (`/fhir/R4/`, `application/fhir+json`, no trailing slashes).

DRF views with a FHIR renderer, so token and session authentication work as in the REST API.
Errors are OperationOutcome resources with the same statuses as the REST API's problems
(reused from `portal.api.exceptions`). Searches answer `searchset` Bundles.
"""

from __future__ import annotations

import datetime
import re
import uuid

from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from pydantic import ValidationError as PydanticValidationError
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import permissions
from portal.api.exceptions import Problem, problem_exception_handler
from portal.api.idempotency import idempotent
from portal.models import Clinic
from scheduling.errors import BookingError, InvalidInput
from scheduling.fhir import resources as r
from scheduling.fhir.ids import parse_fhir_slot_id, parse_schedule_id
from scheduling.models import Doctor, Service
from scheduling.permissions import (
    bookable_clinic_ids,
    channel_for,
    patient_for_booking,
    require_booker,
)
from scheduling.selectors import appointments as appointment_selectors
from scheduling.selectors import catalogue
from scheduling.selectors.availability import MAX_RANGE_DAYS, free_slots, resolve_slot
from scheduling.services import booking

FHIR_CONTENT_TYPE = "application/fhir+json"
DEFAULT_SLOT_DAYS = 7
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_CONTENT_TYPE
    format = "fhir"


class FhirJSONParser(JSONParser):
    media_type = FHIR_CONTENT_TYPE


def outcome_response(status_code: int, diagnostics) -> Response:
    body = r.operation_outcome(
        code=_ISSUE_CODES.get(status_code, "processing"), diagnostics=force_str(diagnostics)
    )
    return Response(body, status=status_code, content_type=FHIR_CONTENT_TYPE)


def fhir_exception_handler(exc, context):
    """The REST API's mapping of errors to statuses, answered as an OperationOutcome."""
    problem = problem_exception_handler(exc, context)
    if problem is None:
        return None
    data = problem.data
    diagnostics = data.get("detail", "")
    for field, messages in (data.get("errors") or {}).items():
        diagnostics += f" {field}: {' '.join(messages)}"
    response = outcome_response(problem.status_code, diagnostics.strip())
    for header in ("WWW-Authenticate", "Retry-After"):
        if problem.has_header(header):
            response[header] = problem[header]
    return response


def fhir_not_found(request, *args, **kwargs) -> JsonResponse:
    body = r.operation_outcome(
        code="not-found", diagnostics=force_str(_("There is no FHIR endpoint at this address."))
    )
    return JsonResponse(body, status=404, content_type=FHIR_CONTENT_TYPE)


@extend_schema(exclude=True)
class FhirView(APIView):
    """Base: FHIR JSON in and out, OperationOutcome errors, public unless said otherwise."""

    permission_classes = [AllowAny]
    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    private = False

    def get_exception_handler(self):
        return fhir_exception_handler

    def perform_content_negotiation(self, request, force=False):
        # Clients send Accept: application/json, application/fhir+json or */*: all get FHIR JSON.
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.private and not request.user.is_authenticated:
            raise NotAuthenticated

    def search_url(self, request) -> str:
        return request.build_absolute_uri()


def _not_found(what) -> Problem:
    return Problem(status_code=404, detail=_("%(what)s was not found.") % {"what": what})


def _bad_param(name: str, message) -> Problem:
    return Problem(status_code=400, detail=message, extra={"errors": {name: [str(message)]}})


def _reference_id(value: str, resource_type: str) -> str:
    """`Type/id`, a full URL ending in it, or a bare id → id."""
    value = (value or "").strip()
    match = re.search(rf"(?:^|/){resource_type}/([A-Za-z0-9\-.]{{1,64}})$", value)
    if match:
        return match.group(1)
    if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", value):
        return value
    raise _bad_param(
        resource_type, _("Give a reference like %(type)s/<id>.") % {"type": resource_type}
    )


# --- metadata and catalogue ---------------------------------------------------------------------


class MetadataView(FhirView):
    def get(self, request):
        return Response(r.capability_statement())


def _doctors():
    return Doctor.objects.filter(is_active=True).prefetch_related("specialties")


class PractitionerSearchView(FhirView):
    def get(self, request):
        items = [r.practitioner(d) for d in _doctors().order_by("last_name", "id")]
        return Response(r.bundle(items, self_url=self.search_url(request)))


class PractitionerReadView(FhirView):
    def get(self, request, resource_id):
        return Response(r.practitioner(_get(_doctors(), resource_id, _("The practitioner"))))


def _services():
    return Service.objects.filter(is_active=True).select_related("specialty")


class HealthcareServiceSearchView(FhirView):
    def get(self, request):
        items = [r.healthcare_service(s) for s in _services().order_by("name")]
        return Response(r.bundle(items, self_url=self.search_url(request)))


class HealthcareServiceReadView(FhirView):
    def get(self, request, resource_id):
        return Response(r.healthcare_service(_get(_services(), resource_id, _("The service"))))


class LocationSearchView(FhirView):
    def get(self, request):
        items = [r.location(c) for c in catalogue.public_clinics()]
        return Response(r.bundle(items, self_url=self.search_url(request)))


class LocationReadView(FhirView):
    def get(self, request, resource_id):
        return Response(
            r.location(_get(catalogue.public_clinics(), resource_id, _("The location")))
        )


def _get(qs, resource_id, what):
    try:
        return qs.get(public_id=uuid.UUID(resource_id))
    except (qs.model.DoesNotExist, ValueError) as exc:
        raise _not_found(what) from exc


# --- Schedule and Slot -------------------------------------------------------------------------


def _schedule_doctors():
    return Doctor.objects.filter(is_active=True).prefetch_related(
        Prefetch("clinics", queryset=Clinic.objects.filter(is_active=True)),
        Prefetch("services", queryset=Service.objects.filter(is_active=True)),
    )


def _schedule_pair(resource_id: str) -> tuple[Doctor, Clinic]:
    try:
        doctor_id, clinic_id = parse_schedule_id(resource_id)
    except InvalidInput as exc:
        raise _not_found(_("The schedule")) from exc
    doctor = _schedule_doctors().filter(public_id=doctor_id).first()
    clinic = (
        next((c for c in doctor.clinics.all() if c.public_id == clinic_id), None)
        if doctor
        else None
    )
    if clinic is None:
        raise _not_found(_("The schedule"))
    return doctor, clinic


class ScheduleSearchView(FhirView):
    def get(self, request):
        doctors = _schedule_doctors().order_by("last_name", "id")
        actor = request.query_params.get("actor")
        location_id = None
        if actor:
            if "Location/" in actor:
                location_id = _reference_id(actor, "Location")
            else:
                doctors = doctors.filter(public_id=_uuid(_reference_id(actor, "Practitioner")))
        items = []
        for doctor in doctors:
            for clinic in doctor.clinics.all():
                if location_id and str(clinic.public_id) != location_id:
                    continue
                items.append(r.schedule(doctor, clinic, list(doctor.services.all())))
        return Response(r.bundle(items, self_url=self.search_url(request)))


class ScheduleReadView(FhirView):
    def get(self, request, resource_id):
        doctor, clinic = _schedule_pair(resource_id)
        return Response(r.schedule(doctor, clinic, list(doctor.services.all())))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise _not_found(_("The referenced resource")) from exc


_DATE_PARAM = re.compile(r"^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})(T.+)?$")


def _parse_date_params(values: list[str], name: str):
    """FHIR date search values → (lower, upper) bounds, each (value, inclusive, is_datetime)."""
    lower = upper = None
    for raw in values:
        match = _DATE_PARAM.match(raw.strip())
        if not match:
            raise _bad_param(name, _("Use e.g. %(name)s=ge2026-03-01.") % {"name": name})
        prefix, date_text, time_text = match.group(1) or "eq", match.group(2), match.group(3)
        value: datetime.date
        try:
            if time_text:
                value = datetime.datetime.fromisoformat(
                    date_text + time_text.replace("Z", "+00:00")
                )
                if value.tzinfo is None:
                    raise _bad_param(name, _("Give times with their UTC offset."))
            else:
                value = datetime.date.fromisoformat(date_text)
        except ValueError as exc:
            raise _bad_param(name, _("This is not a valid date.")) from exc
        is_dt = time_text is not None
        if prefix in ("ge", "gt", "eq"):
            lower = (value, prefix != "gt", is_dt)
        if prefix in ("le", "lt", "eq"):
            upper = (value, prefix != "lt", is_dt)
    return lower, upper


def _local_date_bounds(lower, upper) -> tuple[datetime.date, datetime.date]:
    """Clinic-local dates to ask the engine for; datetime bounds widen by a day for zones."""
    one = datetime.timedelta(days=1)
    if lower is None:
        first = timezone.now().date()
    elif lower[2]:
        first = lower[0].astimezone(datetime.UTC).date() - one
    else:
        first = lower[0] if lower[1] else lower[0] + one
    if upper is None:
        last = first + datetime.timedelta(days=DEFAULT_SLOT_DAYS - 1)
    elif upper[2]:
        last = upper[0].astimezone(datetime.UTC).date() + one
    else:
        last = upper[0] if upper[1] else upper[0] - one
    return first, last


def _utc_superset(lower, upper) -> Q:
    """Start times that may meet the bounds: exact for datetime bounds, a day wider either way
    for local dates (no clinic's zone is a day away from UTC)."""
    one = datetime.timedelta(days=1)
    condition = Q()
    if lower is not None:
        value, _inclusive, is_dt = lower
        if not is_dt:
            value = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC) - one
        condition &= Q(starts_at__gte=value)
    if upper is not None:
        value, _inclusive, is_dt = upper
        if not is_dt:
            value = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC) + 2 * one
        condition &= Q(starts_at__lte=value)
    return condition


def _within(start: datetime.datetime, lower, upper) -> bool:
    for bound, is_lower in ((lower, True), (upper, False)):
        if bound is None:
            continue
        value, inclusive, is_dt = bound
        subject = start if is_dt else start.date()
        if is_lower and (subject < value or (subject == value and not inclusive)):
            return False
        if not is_lower and (subject > value or (subject == value and not inclusive)):
            return False
    return True


def _service_from_token(token: str) -> Service:
    code = token.split("|")[-1].strip()
    service = _services().filter(code=code).first()
    if service is None:
        try:
            service = _services().filter(public_id=uuid.UUID(code)).first()
        except ValueError:
            service = None
    if service is None:
        raise _not_found(_("The service type"))
    return service


class SlotSearchView(FhirView):
    """Free slots: `schedule`, `service-type`, `start=ge..&start=lt..`, `status=free`."""

    def get(self, request):
        params = request.query_params
        wanted_status = params.get("status", "free")
        if wanted_status.split("|")[-1] != "free":
            # Only free slots are published; busy time is not anyone's business.
            return Response(r.bundle([], self_url=self.search_url(request)))
        doctor = clinic = None
        if params.get("schedule"):
            doctor, clinic = _schedule_pair(_reference_id(params["schedule"], "Schedule"))
        if params.get("service-type"):
            services = [_service_from_token(params["service-type"])]
        elif doctor is not None:
            services = list(doctor.services.filter(is_active=True).select_related("specialty"))
        else:
            raise _bad_param("service-type", _("Search slots by service-type, schedule, or both."))
        lower, upper = _parse_date_params(params.getlist("start"), "start")
        first, last = _local_date_bounds(lower, upper)
        if last < first:
            return Response(r.bundle([], self_url=self.search_url(request)))
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise _bad_param(
                "start",
                _("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS - 2},
            )
        items = []
        for service in services:
            for item in free_slots(
                service=service, doctor=doctor, clinic=clinic, start_date=first, end_date=last
            ):
                if _within(item.start, lower, upper):
                    items.append(r.slot(item, service=service, clinic_tz=item.start.tzinfo))
        items.sort(key=lambda x: x["start"])
        return Response(r.bundle(items, self_url=self.search_url(request)))


def _slot_from_id(resource_id: str):
    try:
        ref = parse_fhir_slot_id(resource_id)
    except InvalidInput as exc:
        raise _not_found(_("The slot")) from exc
    service = _services().filter(public_id=ref.service_public_id).first()
    doctor = Doctor.objects.filter(is_active=True, public_id=ref.doctor_public_id).first()
    if service is None or doctor is None:
        raise _not_found(_("The slot"))
    return service, doctor, ref.start


class SlotReadView(FhirView):
    """A slot by id while it is free; a taken or past one is no longer published (404)."""

    def get(self, request, resource_id):
        service, doctor, start = _slot_from_id(resource_id)
        try:
            item = resolve_slot(service=service, doctor=doctor, start=start)
        except BookingError as exc:
            # Every refusal means the same to a reader: not a free slot any more.
            raise Problem(status_code=404, detail=_("This slot is no longer free.")) from exc
        return Response(r.slot(item, service=service, clinic_tz=item.start.tzinfo))


# --- Patient and Appointment (authenticated) ---------------------------------------------------


class PatientSearchView(FhirView):
    """The caller's own Patient resource (a searchset of one, or none for staff)."""

    private = True

    def get(self, request):
        items = [r.patient(request.user.patient)] if permissions.is_patient(request.user) else []
        return Response(r.bundle(items, self_url=self.search_url(request)))


class PatientReadView(FhirView):
    private = True

    def get(self, request, resource_id):
        if (
            not permissions.is_patient(request.user)
            or str(request.user.patient.public_id) != resource_id
        ):
            raise _not_found(_("The patient"))
        return Response(r.patient(request.user.patient))


_FHIR_TO_STATUS: dict[str, list[str]] = {}
for _ours, _theirs in r.APPOINTMENT_STATUS.items():
    _FHIR_TO_STATUS.setdefault(_theirs, []).append(_ours)


class AppointmentSearchCreateView(FhirView):
    """Search visits the caller may see; POST books a free Slot through the engine."""

    private = True
    max_results = 200

    def get(self, request):
        qs = appointment_selectors.appointments_visible_to(request.user).order_by("-starts_at")
        wanted = request.query_params.get("status")
        if wanted:
            qs = qs.filter(status__in=_FHIR_TO_STATUS.get(wanted.split("|")[-1], []))
        lower, upper = _parse_date_params(request.query_params.getlist("date"), "date")
        items = []
        # The database narrows to the bounds widened by a day (dates are each clinic's own);
        # the exact test is in the clinic's zone.
        for a in qs.filter(_utc_superset(lower, upper)).iterator(chunk_size=self.max_results):
            if _within(a.starts_at.astimezone(a.clinic.tz), lower, upper):
                items.append(r.appointment(a))
                if len(items) == self.max_results:
                    break
        return Response(r.bundle(items, self_url=self.search_url(request)))

    @idempotent
    def post(self, request):
        from fhir.resources.R4B.appointment import Appointment as FhirAppointment

        require_booker(request.user)
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
            raise _bad_param("resourceType", _("Send an Appointment resource."))
        try:
            FhirAppointment.model_validate(body)
        except (PydanticValidationError, ValueError, TypeError) as exc:
            raise _bad_param(
                "Appointment", _("The Appointment resource is not valid FHIR R4.")
            ) from exc
        slots = body.get("slot") or []
        if len(slots) != 1 or not isinstance(slots[0], dict):
            raise _bad_param("slot", _("Name exactly one Slot to book."))
        service, doctor, start = _slot_from_id(_reference_id(slots[0].get("reference", ""), "Slot"))
        patient_ref = None
        for participant in body.get("participant") or []:
            reference = ((participant or {}).get("actor") or {}).get("reference", "")
            if "Patient/" in reference:
                patient_ref = _reference_id(reference, "Patient")
        appointment = booking.appointment_book(
            patient=patient_for_booking(request.user, patient_ref),
            doctor=doctor,
            service=service,
            start=start,
            channel=channel_for(request.user, None),
            actor=request.user,
            bookable_clinic_ids=bookable_clinic_ids(request.user),
        )
        appointment = appointment_selectors.appointments_all().get(pk=appointment.pk)
        response = Response(r.appointment(appointment), status=status.HTTP_201_CREATED)
        response["Location"] = f"{r.base_url()}/Appointment/{appointment.public_id}"
        return response


class AppointmentReadView(FhirView):
    private = True

    def get(self, request, resource_id):
        return Response(
            r.appointment(appointment_selectors.get_appointment_for_user(request.user, resource_id))
        )
