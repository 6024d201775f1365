"""The KPI registry: one written definition per KPI, used for the dashboard's hover text, its
glossary page and the exports' headers. Definitions are the contract the selectors keep."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analytics.choices import Kpi


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    label: str | Promise
    definition: str | Promise
    # "percent" (a 0..1 share shown as %), "per_mille", "minutes", "seconds", "money", "count"
    unit: str
    # True: higher is better (the comparison arrow turns green going up).
    higher_is_better: bool = True
    # Where the figure comes from, for the glossary.
    source: str | Promise = ""


K = Kpi
DEFINITIONS: dict[str, KpiDefinition] = {
    d.code: d
    for d in (
        KpiDefinition(
            K.ONLINE_SHARE,
            K.ONLINE_SHARE.label,
            _(
                "Bookings patients made themselves (website, assistant, waiting-list offer, "
                "partner system) ÷ all bookings made in the period, by the day of booking."
            ),
            "percent",
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            "bookings",
            _("Bookings"),
            _("Appointments made in the period, by the day they were made, in every channel."),
            "count",
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.NO_SHOW_RATE,
            K.NO_SHOW_RATE.label,
            _("Visits marked no-show ÷ (visits attended + no-shows), by the visit's day."),
            "percent",
            higher_is_better=False,
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.CANCELLATION_RATE,
            K.CANCELLATION_RATE.label,
            _(
                "Visits cancelled ÷ visits due in the period (rolled-back bookings are not "
                "visits), by the visit's day."
            ),
            "percent",
            higher_is_better=False,
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.LATE_CANCELLATION_RATE,
            K.LATE_CANCELLATION_RATE.label,
            _(
                "Visits cancelled after the clinic's cancellation deadline ÷ visits due in the "
                "period."
            ),
            "percent",
            higher_is_better=False,
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.WRONG_BOOKINGS,
            K.WRONG_BOOKINGS.label,
            _(
                "Bookings and reschedules undone by staff with the rollback button, plus "
                "bookings and moves the engine refused because the doctor, room or equipment "
                "was already taken (an overlap), per 1,000 bookings made in the period, by the "
                "clinic's local day."
            ),
            "per_mille",
            higher_is_better=False,
            source=_(
                "Rollback records (rollups; today live) and the daily counts of refused "
                "overlapping bookings."
            ),
        ),
        KpiDefinition(
            K.UTILISATION,
            K.UTILISATION.label,
            _(
                "Minutes of visits that keep their time (not cancelled or rolled back) ÷ the "
                "doctors' scheduled working minutes after breaks, absences and substitutions."
            ),
            "percent",
            source=_("Appointments and schedules (rollups)."),
        ),
        KpiDefinition(
            "new_patients",
            _("New patients"),
            _(
                "Completed visits that were the patient's first completed visit in the network; "
                "returning: the other completed visits."
            ),
            "count",
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.RETENTION_90,
            K.RETENTION_90.label,
            _(
                "Of the patients whose first completed visit fell in the period, the share who "
                "completed another visit within 90 days of it. A patient counts only once those "
                "90 days have passed, so a period within the last 90 days has no figure yet: "
                "choose one that starts earlier (the last 12 months, say)."
            ),
            "percent",
            source=_("Patient cohorts (rollups)."),
        ),
        KpiDefinition(
            K.REQUEST_CONFIRMATION,
            K.REQUEST_CONFIRMATION.label,
            _(
                "Median time from a patient's booking request to the confirmed booking, for "
                "requests made in the period (wall-clock minutes)."
            ),
            "minutes",
            higher_is_better=False,
            source=_("Booking requests."),
        ),
        KpiDefinition(
            K.CALL_ANSWER,
            K.CALL_ANSWER.label,
            _(
                "Median seconds from an incoming call's first ring to a person answering it, "
                "for the calls that started on the period's local days of the clinic whose "
                "line rang. Missed calls are left out of the median and counted beside it. "
                "The specialty and doctor filters do not apply."
            ),
            "seconds",
            higher_is_better=False,
            source=_("Telephony call records (the registered call-figures source)."),
        ),
        KpiDefinition(
            K.WAITLIST_FILL,
            K.WAITLIST_FILL.label,
            _(
                "Slots freed by a cancellation and offered to the waiting list that were "
                "booked within 2 hours ÷ all such slots freed in the period (still being "
                "offered: not counted yet). Times a schedule change opened are not "
                "cancellations: they have their own figure."
            ),
            "percent",
            source=_("Waiting-list offers."),
        ),
        KpiDefinition(
            "waitlist_time_to_fill",
            _("Waitlist time to fill"),
            _(
                "Median minutes from a slot being freed by a cancellation to its booking "
                "through the waiting list, over the slots freed in the period that were filled."
            ),
            "minutes",
            higher_is_better=False,
            source=_("Waiting-list offers."),
        ),
        KpiDefinition(
            "waitlist_manual",
            _("Waitlist fills needing staff"),
            _(
                "Slots freed by a cancellation and filled after staff stepped in — given to a "
                "patient by hand, or won by a patient whose rank a staff boost had raised when "
                "the slot was filled — ÷ all such slots filled, of the slots freed in the "
                "period."
            ),
            "percent",
            higher_is_better=False,
            source=_("Waiting-list offers."),
        ),
        KpiDefinition(
            "waitlist_opened_fill",
            _("Schedule-change times filled within 2 hours"),
            _(
                "Times a schedule change opened (a weekly rule added or widened, extra hours, "
                "an absence removed, a closure lifted) and offered to the waiting list that "
                "were booked within 2 hours ÷ all such times opened in the period (still being "
                "offered: not counted yet). Kept apart from the cancellations' fill rate."
            ),
            "percent",
            source=_("Waiting-list offers."),
        ),
        KpiDefinition(
            K.DELIVERY_RATE,
            K.DELIVERY_RATE.label,
            _(
                "Messages the provider reported delivered ÷ messages with a final delivery "
                "report (delivered, not delivered or expired), recorded in the period."
            ),
            "percent",
            source=_("Message outbox and the daily counts kept after the purge."),
        ),
        KpiDefinition(
            K.REVENUE,
            K.REVENUE.label,
            _(
                "The price patients pay (after discounts) of the visits completed in the "
                "period, by service, clinic and booking channel (acquisition sources come with "
                "the CRM)."
            ),
            "money",
            source=_("Appointments (rollups; today live)."),
        ),
        KpiDefinition(
            K.ASSISTANT_RESOLVED,
            K.ASSISTANT_RESOLVED.label,
            _(
                "Conversations with the assistant it settled itself (an answer, a booking, a "
                "move or a cancellation) and never handed to an operator ÷ all conversations "
                "started in the period in which the patient wrote at least once. A conversation "
                "without a clinic counts for the whole network only; the specialty and doctor "
                "filters do not apply."
            ),
            "percent",
            source=_("Assistant conversations."),
        ),
        KpiDefinition(
            "assistant_bookings",
            _("Booked by the assistant"),
            _(
                "Visits the assistant booked in the conversations started in the period "
                "(counted as for the share resolved by the assistant; a booking the patient "
                "later cancelled still counts)."
            ),
            "count",
            source=_("Assistant conversations."),
        ),
        KpiDefinition(
            K.ASSISTANT_HANDOFF,
            K.ASSISTANT_HANDOFF.label,
            _(
                "Conversations handed to an operator (the patient asked for a person, was not "
                "understood twice or was unhappy) ÷ all conversations started in the period, "
                "counted as for the share resolved by the assistant."
            ),
            "percent",
            higher_is_better=False,
            source=_("Assistant conversations."),
        ),
        KpiDefinition(
            K.ASSISTANT_TIME_TO_BOOKING,
            K.ASSISTANT_TIME_TO_BOOKING.label,
            _(
                "Median minutes from the start of a conversation to the first visit booked in "
                "it, over the conversations started in the period that booked one."
            ),
            "minutes",
            higher_is_better=False,
            source=_("Assistant conversations."),
        ),
    )
}


def definition(code: str) -> KpiDefinition:
    return DEFINITIONS[code]
