from django.db import models
from django.utils.translation import gettext_lazy as _


class Kpi(models.TextChoices):
    """The KPIs a clinic may set a target for (the definitions live in `analytics.kpis`)."""

    ONLINE_SHARE = "online_share", _("Online booking share")
    NO_SHOW_RATE = "no_show_rate", _("No-show rate")
    CANCELLATION_RATE = "cancellation_rate", _("Cancellation rate")
    LATE_CANCELLATION_RATE = "late_cancellation_rate", _("Late cancellation rate")
    WRONG_BOOKINGS = "wrong_bookings", _("Wrong bookings per 1,000")
    UTILISATION = "utilisation", _("Utilisation")
    RETENTION_90 = "retention_90", _("90-day retention")
    REQUEST_CONFIRMATION = "request_confirmation", _("Request to confirmation")
    CALL_ANSWER = "call_answer", _("Call answer time")
    WAITLIST_FILL = "waitlist_fill", _("Waitlist fill within 2 hours")
    DELIVERY_RATE = "delivery_rate", _("Message delivery rate")
    REVENUE = "revenue", _("Revenue")
    ASSISTANT_RESOLVED = "assistant_resolved", _("Resolved by the assistant")
    ASSISTANT_HANDOFF = "assistant_handoff", _("Handed to an operator")
    ASSISTANT_TIME_TO_BOOKING = "assistant_time_to_booking", _("Conversation to booking")
