"""Input and output serializers of the scheduling API. Ids are public UUIDs, flat."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal import input_limits
from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.selectors.availability import EARLIEST_DATE, LATEST_DATE

# --- Catalogue ---------------------------------------------------------------------------------


class ClinicOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    slug = serializers.SlugField()
    name = serializers.CharField()
    city = serializers.CharField()
    address = serializers.CharField()
    timezone = serializers.CharField(help_text=_("IANA time zone; slots are computed in it."))
    phone = serializers.CharField()
    email = serializers.CharField()
    opening_hours = serializers.CharField()


class SpecialtyOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    slug = serializers.SlugField()
    name = serializers.CharField()


class ServiceOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    code = serializers.SlugField()
    name = serializers.CharField()
    specialty = serializers.UUIDField(source="specialty.public_id")
    duration_minutes = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    preparation = serializers.CharField()


class _PublicIds(serializers.ListField):
    child = serializers.UUIDField()

    def to_representation(self, data):
        return [str(item.public_id) for item in data.all()]


class DoctorOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="full_name")
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    bio = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    specialties = _PublicIds()
    clinics = _PublicIds()
    services = _PublicIds()


class DoctorFilterInput(serializers.Serializer):
    specialty = serializers.UUIDField(required=False)
    clinic = serializers.UUIDField(required=False)


class ServiceFilterInput(serializers.Serializer):
    specialty = serializers.UUIDField(required=False)


# --- Slots -------------------------------------------------------------------------------------


def _within_calendar(value: datetime.date) -> None:
    # Default and padded ranges are computed from these dates; the calendar's ends overflow.
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(_("This date is out of range."))


class SlotQueryInput(serializers.Serializer):
    service = serializers.UUIDField()
    doctor = serializers.UUIDField(required=False)
    specialty = serializers.UUIDField(required=False)
    clinic = serializers.UUIDField(required=False)
    channel = serializers.ChoiceField(
        choices=AppointmentChannel.choices, required=False, default=AppointmentChannel.ONLINE
    )
    start = serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        validators=[_within_calendar],
        help_text=_("First day, clinic-local (YYYY-MM-DD). Default: today."),
    )
    end = serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        validators=[_within_calendar],
        help_text=_("Last day, inclusive; at most 62 days after start. Default: start + 6 days."),
    )


class SlotOutput(serializers.Serializer):
    """Schema of one slot; the view returns plain dicts of this shape (no per-slot serializer)."""

    id = serializers.CharField(help_text=_("Opaque slot token."))
    start = serializers.DateTimeField(help_text=_("ISO 8601 with the clinic's UTC offset."))
    end = serializers.DateTimeField()
    doctor = serializers.UUIDField()
    clinic = serializers.UUIDField()
    room = serializers.UUIDField(allow_null=True)
    service = serializers.UUIDField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)


# --- Holds and appointments --------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry a UTC offset: a wall-clock time alone is ambiguous."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, e.g. 2026-03-02T10:00:00+08:00."),
        "out_of_range": input_limits.OUT_OF_RANGE,
        "bad_offset": input_limits.BAD_OFFSET,
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["iso-8601"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        # Checked before the conversion to UTC, which overflows at the calendar's ends.
        if not input_limits.date_in_range(parsed):
            self.fail("out_of_range")
        if not input_limits.offset_in_range(parsed):
            self.fail("bad_offset")
        return parsed.astimezone(datetime.UTC)

    def enforce_timezone(self, value):
        # Keep the caller's offset; DRF would otherwise make a naive value aware silently.
        if value.tzinfo is None:
            self.fail("naive")
        return value


class HoldInput(serializers.Serializer):
    service = serializers.UUIDField()
    doctor = serializers.UUIDField()
    start = AwareDateTimeField()


class HoldOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    expires_at = serializers.DateTimeField()


class AppointmentCreateInput(serializers.Serializer):
    service = serializers.UUIDField()
    doctor = serializers.UUIDField()
    start = AwareDateTimeField()
    patient = serializers.UUIDField(
        required=False, help_text=_("Patients: omit for yourself or name a dependant.")
    )
    channel = serializers.ChoiceField(choices=AppointmentChannel.choices, required=False)
    hold = serializers.UUIDField(required=False)


class RescheduleInput(serializers.Serializer):
    start = AwareDateTimeField()
    doctor = serializers.UUIDField(required=False)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")


class AppointmentListInput(serializers.Serializer):
    when = serializers.ChoiceField(choices=["upcoming", "past"], required=False)


def _local(value: datetime.datetime, appointment) -> str:
    return value.astimezone(appointment.clinic.tz).isoformat()


class AppointmentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    patient = serializers.UUIDField(source="patient.public_id")
    doctor = serializers.UUIDField(source="doctor.public_id")
    clinic = serializers.UUIDField(source="clinic.public_id")
    service = serializers.UUIDField(source="service.public_id")
    room = serializers.UUIDField(source="room.public_id", allow_null=True, default=None)
    channel = serializers.ChoiceField(choices=AppointmentChannel.choices)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start(self, obj) -> str:
        return _local(obj.starts_at, obj)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_end(self, obj) -> str:
        return _local(obj.ends_at, obj)


def _api_datetime(value: datetime.datetime) -> str:
    """As DRF's DateTimeField writes it: in the current time zone, UTC as "Z"."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def appointment_output(appointment) -> dict:
    """`AppointmentOutput(appointment).data` without DRF's per-field machinery: the booking
    answer is on the hot path. `AppointmentOutput` stays the documented schema; a test holds
    the two to the same output."""
    room = appointment.room
    return {
        "id": str(appointment.public_id),
        "status": appointment.status,
        "start": _local(appointment.starts_at, appointment),
        "end": _local(appointment.ends_at, appointment),
        "patient": str(appointment.patient.public_id),
        "doctor": str(appointment.doctor.public_id),
        "clinic": str(appointment.clinic.public_id),
        "service": str(appointment.service.public_id),
        "room": str(room.public_id) if room is not None else None,
        "channel": appointment.channel,
        "price": f"{appointment.price:.2f}",
        "cancel_reason": appointment.cancel_reason,
        "created_at": _api_datetime(appointment.created_at),
        "updated_at": _api_datetime(appointment.updated_at),
    }


class AppointmentPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AppointmentOutput(many=True)


class CalendarFeedOutput(serializers.Serializer):
    url = serializers.URLField(help_text=_("Secret address of your iCal feed; keep it private."))
