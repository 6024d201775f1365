"""When doctors work and what limits bookings: policy, schedule rules and exceptions. All
times of day are wall-clock times in the clinic's zone."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField
from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import (
    BookingMode,
    ExceptionKind,
    Weekday,
)

from .catalogue import Doctor, Room, Service

# Two years: enough for planned check-ups, far from the calendar's end.
MAX_HORIZON_DAYS = 730
# Reminders go out at most this long before a visit, and at most this many per visit.
MAX_REMINDER_OFFSET_MINUTES = 14 * 24 * 60
MAX_REMINDERS = 4


def default_reminder_offsets() -> list[int]:
    """24 hours and 2 hours before the visit."""
    return [24 * 60, 2 * 60]


def validate_reminder_offsets(value) -> None:
    """A list of distinct whole minutes before the visit, each within two weeks."""
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        raise ValidationError(
            _("There may be at most %(count)d reminder times."),
            params={"count": MAX_REMINDERS},
            code="reminder_offsets",
        )
    if len(set(value)) != len(value) or not all(
        isinstance(minutes, int)
        and not isinstance(minutes, bool)
        and 1 <= minutes <= MAX_REMINDER_OFFSET_MINUTES
        for minutes in value
    ):
        raise ValidationError(
            _("Each reminder time is a different whole number of minutes, from 1 to %(max)d."),
            params={"max": MAX_REMINDER_OFFSET_MINUTES},
            code="reminder_offsets",
        )


def all_weekdays() -> list[int]:
    """Every day of the week, Monday 0 to Sunday 6."""
    return list(range(7))


def validate_weekdays(value) -> None:
    """A non-empty list of distinct weekday numbers, 0 to 6."""
    if (
        not isinstance(value, list)
        or not value
        or len(set(value)) != len(value)
        or not all(
            isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6 for day in value
        )
    ):
        raise ValidationError(
            _("List the working days as different numbers from 0 (Monday) to 6 (Sunday)."),
            code="weekdays",
        )


class BookingPolicy(TimeStampedModel):
    """A clinic's booking mode and rules. A clinic without a row uses the defaults."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="booking_policy", verbose_name=_("clinic")
    )
    mode = models.CharField(
        _("booking mode"), max_length=12, choices=BookingMode.choices, default=BookingMode.NATIVE
    )
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice, minutes"), default=60)
    horizon_days = models.PositiveIntegerField(
        _("booking horizon, days"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON_DAYS)],
    )
    reschedule_deadline_hours = models.PositiveIntegerField(
        _("reschedule deadline, hours before"), default=2
    )
    cancel_deadline_hours = models.PositiveIntegerField(
        _("late cancellation threshold, hours before"), default=24
    )
    max_active_per_patient = models.PositiveIntegerField(
        _("active bookings per patient"), default=5, validators=[MinValueValidator(1)]
    )
    max_reschedules = models.PositiveIntegerField(_("reschedules per appointment"), default=2)
    rollback_window_minutes = models.PositiveIntegerField(_("rollback window, minutes"), default=15)
    hold_ttl_minutes = models.PositiveIntegerField(
        _("hold time, minutes"), default=10, validators=[MinValueValidator(1)]
    )
    reminder_offsets_minutes = models.JSONField(
        _("reminders, minutes before the visit"),
        default=default_reminder_offsets,
        blank=True,
        validators=[validate_reminder_offsets],
        help_text=_("For example [1440, 120]: a day and two hours before. Empty: no reminders."),
    )
    contact_hours_start = models.TimeField(_("contact hours start"), default=datetime.time(8, 0))
    contact_hours_end = models.TimeField(
        _("contact hours end"),
        default=datetime.time(20, 0),
        help_text=_(
            "Local time. Reminders due outside these hours wait for the next morning; "
            "the same start and end allow any hour."
        ),
    )
    request_sla_minutes = models.PositiveIntegerField(
        _("booking request answer time, working minutes"),
        default=15,
        validators=[MinValueValidator(1)],
        help_text=_("Request mode: an open request not answered within this is escalated."),
    )
    desk_opens = models.TimeField(_("desk opens"), default=datetime.time(8, 0))
    desk_closes = models.TimeField(
        _("desk closes"),
        default=datetime.time(20, 0),
        help_text=_(
            "Local time. Working minutes of booking requests count only while the desk is "
            "open; the same opening and closing time means round the clock."
        ),
    )
    desk_days = models.JSONField(
        _("desk working days"),
        default=all_weekdays,
        validators=[validate_weekdays],
        help_text=_("Weekday numbers, Monday 0 to Sunday 6, for example [0, 1, 2, 3, 4]."),
    )
    prepaid_services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="+",
        verbose_name=_("services paid online in advance"),
        help_text=_(
            "Booked online, these services wait for an online prepayment and are released "
            "if it does not arrive in time."
        ),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policies")
        constraints = [
            # Slot arithmetic adds the horizon to today; an absurd value must not overflow it.
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1, horizon_days__lte=MAX_HORIZON_DAYS),
                name="booking_policy_horizon_range",
            ),
        ]

    def __str__(self):
        return f"{self.clinic}: {self.get_mode_display()}"


def _validate_breaks(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Breaks must be a list of [start, end] pairs."))
    for pair in value:
        try:
            start, end = (datetime.time.fromisoformat(p) for p in pair)
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Each break needs a start and an end time.")) from exc
        if start >= end:
            raise ValidationError(_("A break must end after it starts."))


class ScheduleRule(TimeStampedModel):
    """A doctor's weekly working window in one clinic, with breaks, slot step and buffer.

    Several rules may cover one weekday (split shifts). `buffer_minutes` is kept free after
    each visit; `room` is the doctor's own cabinet for visits that need no special room.
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="schedule_rules", verbose_name=_("doctor")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="schedule_rules", verbose_name=_("clinic")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, validators=[MaxValueValidator(6)]
    )
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    breaks = models.JSONField(
        _("breaks"),
        default=list,
        blank=True,
        validators=[_validate_breaks],
        help_text=_('Pairs of start and end times, e.g. [["12:00", "12:30"]].'),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("slot step, minutes"), default=30, validators=[MinValueValidator(5)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(_("buffer after a visit"), default=0)
    room = models.ForeignKey(
        Room,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("room"),
        help_text=_("The doctor's own room, for visits that need no special room."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: no end date.")
    )

    class Meta:
        ordering = ["doctor", "weekday", "start_time"]
        verbose_name = _("schedule rule")
        verbose_name_plural = _("schedule rules")
        indexes = [models.Index(fields=["doctor", "clinic", "weekday"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="schedule_rule_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="schedule_rule_weekday"),
            models.CheckConstraint(
                condition=Q(slot_step_minutes__gte=5), name="schedule_rule_step_min"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="schedule_rule_valid_range",
            ),
        ]

    def __str__(self):
        return f"{self.doctor} {self.get_weekday_display()} {self.start_time}-{self.end_time}"


class ScheduleException(TimeStampedModel):
    """An absence (vacation, sick leave, day off) or extra hours of one doctor.

    An absence covers whole days from `date_from` to `date_to`, or only `start_time`–`end_time`
    on each of them; without a clinic it applies in every clinic. Extra hours add a window in
    one clinic on each day of the range.
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("doctor")
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("clinic"),
        help_text=_("Empty: an absence in every clinic. Extra hours need a clinic."),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ExceptionKind.choices)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    start_time = models.TimeField(
        _("starts"), null=True, blank=True, help_text=_("Empty: the whole day.")
    )
    end_time = models.TimeField(_("ends"), null=True, blank=True)
    slot_step_minutes = models.PositiveSmallIntegerField(_("slot step, minutes"), default=30)
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("room")
    )
    # Staff write why a doctor is away ("sick leave"): personal data, encrypted.
    note = EncryptedCharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date_from"]
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="schedule_exception_dates"
            ),
            models.CheckConstraint(
                condition=(Q(start_time__isnull=True) & Q(end_time__isnull=True))
                | Q(end_time__gt=F("start_time")),
                name="schedule_exception_times",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ExceptionKind.EXTRA_HOURS)
                | (Q(clinic__isnull=False) & Q(start_time__isnull=False)),
                name="schedule_exception_extra_hours_complete",
            ),
            models.CheckConstraint(
                condition=Q(slot_step_minutes__gte=5), name="schedule_exception_step_min"
            ),
        ]

    def __str__(self):
        return f"{self.doctor} {self.kind} {self.date_from}..{self.date_to}"
