"""Holds and appointments: book, list, read, reschedule, cancel and the staff status changes.

Who may do what:
- Patients book for themselves (`patient` omitted) or a dependant, always online; they see,
  move and cancel their own and their dependants' visits.
- Staff book any patient of the network into schedules of clinics where they hold
  `appointment.book` (channel "phone" by default) and act on visits of their clinics according
  to their capabilities. Visits outside their clinics are 404 to them.
The engine (`scheduling.services.booking`) keeps every booking rule; its domain errors become
problem+json 409/422 in `portal.api.exceptions`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import permissions
from portal.api.exceptions import problem_responses
from portal.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from scheduling.api import serializers as s
from scheduling.errors import HoldInvalid
from scheduling.models import Doctor, Hold
from scheduling.permissions import (
    bookable_clinic_ids,
    channel_for,
    patient_for_booking,
    require_booker,
)
from scheduling.selectors import appointments as selectors
from scheduling.selectors.catalogue import active_service_and_doctor, get_by_public_id
from scheduling.services import booking
from scheduling.services.holds import hold_create


def _doctor(public_id) -> Doctor:
    return get_by_public_id(Doctor.objects.filter(is_active=True), public_id)


def _hold_of(user, public_id) -> Hold | None:
    if public_id is None:
        return None
    hold = Hold.objects.filter(public_id=public_id, created_by=user).first()
    if hold is None:
        raise HoldInvalid(code="hold_gone")
    return hold


def _output(appointment) -> dict:
    return s.appointment_output(appointment)


def _reload(appointment):
    return selectors.appointments_all().get(pk=appointment.pk)


class HoldCreateView(APIView):
    """Keep a free slot for a few minutes while the booking is confirmed."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="holds_create",
        request=s.HoldInput,
        responses={201: s.HoldOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
    )
    def post(self, request):
        require_booker(request.user)
        data = s.HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        service, doctor = active_service_and_doctor(values["service"], values["doctor"])
        hold = hold_create(
            doctor=doctor,
            service=service,
            start=values["start"],
            channel=channel_for(request.user, None),
            actor=request.user,
            bookable_clinic_ids=bookable_clinic_ids(request.user),
        )
        return Response(s.HoldOutput(hold).data, status=status.HTTP_201_CREATED)


class AppointmentPagination(PageNumberPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class AppointmentListCreateView(APIView):
    """Visits the caller may see (own and dependants', or their clinics'), and booking."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="appointments_list",
        parameters=[
            s.AppointmentListInput,
            OpenApiParameter("page", int, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
        responses={200: s.AppointmentPageOutput, **problem_responses(400, 401, 404)},
    )
    def get(self, request):
        query = s.AppointmentListInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.appointment_list(user=request.user, when=query.validated_data.get("when"))
        paginator = AppointmentPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([s.appointment_output(a) for a in page])

    @extend_schema(
        operation_id="appointments_create",
        request=s.AppointmentCreateInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: s.AppointmentOutput,
            **problem_responses(400, 401, 403, 404, 409, 422),
        },
    )
    @idempotent
    def post(self, request):
        require_booker(request.user)
        data = s.AppointmentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        service, doctor = active_service_and_doctor(values["service"], values["doctor"])
        appointment = booking.appointment_book(
            patient=patient_for_booking(request.user, values.get("patient")),
            doctor=doctor,
            service=service,
            start=values["start"],
            channel=channel_for(request.user, values.get("channel")),
            actor=request.user,
            hold=_hold_of(request.user, values.get("hold")),
            bookable_clinic_ids=bookable_clinic_ids(request.user),
        )
        return Response(_output(appointment), status=status.HTTP_201_CREATED)


class AppointmentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="appointments_retrieve",
        responses={200: s.AppointmentOutput, **problem_responses(401, 404)},
    )
    def get(self, request, public_id):
        appointment = selectors.get_appointment_for_user(request.user, public_id)
        return Response(_output(appointment))


def appointment_for_action(user, public_id, *, capability: str, patient_may: bool):
    """The appointment to act on: 404 if the caller cannot see it, 403 if they may not act."""
    appointment = selectors.get_appointment_for_user(user, public_id)
    if patient_may and permissions.can_act_for_patient(user, appointment.patient):
        return appointment
    if permissions.has_capability(user, capability, appointment.clinic_id):
        return appointment
    raise PermissionDenied


class _ActionView(APIView):
    """POST /appointments/{id}/<action>/: one engine call on one appointment."""

    permission_classes = [IsAuthenticated]
    capability = "appointment.manage"
    patient_may = False
    input_serializer: type | None = None

    def act(self, appointment, user, values):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, public_id):
        appointment = appointment_for_action(
            request.user, public_id, capability=self.capability, patient_may=self.patient_may
        )
        values = {}
        if self.input_serializer is not None:
            data = self.input_serializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
        changed = self.act(appointment, request.user, values)
        return Response(_output(_reload(changed)))


def _action_schema(operation_id: str, request_serializer=None, *, idempotency=False):
    return extend_schema(
        operation_id=operation_id,
        request=request_serializer,
        parameters=[IDEMPOTENCY_PARAMETER] if idempotency else None,
        responses={200: s.AppointmentOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
    )


class RescheduleView(_ActionView):
    """Move a visit to another free slot (optionally with another doctor)."""

    patient_may = True
    input_serializer = s.RescheduleInput

    @_action_schema("appointments_reschedule", s.RescheduleInput, idempotency=True)
    @idempotent
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        doctor = _doctor(values["doctor"]) if values.get("doctor") else None
        return booking.appointment_reschedule(
            appointment=appointment, start=values["start"], doctor=doctor, actor=user
        )


class CancelView(_ActionView):
    """Cancel a visit that has not started; its time is free again at once."""

    patient_may = True
    input_serializer = s.ReasonInput

    @_action_schema("appointments_cancel", s.ReasonInput, idempotency=True)
    @idempotent
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_cancel(
            appointment=appointment, actor=user, reason=values.get("reason", "")
        )


class ConfirmView(_ActionView):
    """Staff: the patient confirmed they will come."""

    @_action_schema("appointments_confirm")
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_confirm(appointment=appointment, actor=user)


class CheckInView(_ActionView):
    """Staff: the patient has arrived."""

    @_action_schema("appointments_check_in")
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_check_in(appointment=appointment, actor=user)


class NoShowView(_ActionView):
    """Staff: the patient did not come."""

    @_action_schema("appointments_no_show")
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_mark_no_show(appointment=appointment, actor=user)


class CompleteView(_ActionView):
    """Staff (or the doctor): the visit took place."""

    capability = "appointment.complete"

    @_action_schema("appointments_complete")
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_complete(appointment=appointment, actor=user)


class RollbackView(_ActionView):
    """Staff: undo the latest booking or reschedule within the clinic's rollback window."""

    capability = "appointment.rollback"
    input_serializer = s.ReasonInput

    @_action_schema("appointments_rollback", s.ReasonInput)
    def post(self, request, public_id):
        return super().post(request, public_id)

    def act(self, appointment, user, values):
        return booking.appointment_rollback(
            appointment=appointment, actor=user, reason=values.get("reason", "")
        )
