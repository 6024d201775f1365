from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from notifications.inbound import register_reply_handler
        from portal.panels import (
            DESK,
            LANDING,
            PATIENT_HOME,
            STAFF_PATIENT_CARD,
            Panel,
            register_panel,
        )
        from portal.selectors.health import register_health_component
        from scheduling import signals
        from scheduling.selectors.connectors import connectors_status
        from scheduling.services.waitlist_offers import waitlist_offer_reply
        from scheduling.views import desk_queues, panels

        # The day board's cached grid follows what its version's query does not read.
        signals.connect()

        # Connectors' health in /healthz ("none", "ok" or "degraded"; never the status).
        register_health_component("connectors", connectors_status)

        # YES / NO by SMS or messenger answers the patient's open waitlist offer.
        register_reply_handler(waitlist_offer_reply)

        # "Book a visit" on the kernel's pages, which cannot import the booking engine.
        register_panel(LANDING, Panel("scheduling/panels/book.html", panels.book_panel, order=10))
        register_panel(
            PATIENT_HOME,
            Panel("scheduling/panels/my_visits.html", panels.my_visits_panel, order=10),
        )
        # The patient's visits and a "Book" button on the staff card.
        register_panel(
            STAFF_PATIENT_CARD,
            Panel("scheduling/panels/staff_visits.html", panels.staff_visits_panel, order=10),
        )
        # The booking-request queue's count and link on the day board of request-mode clinics.
        register_panel(
            DESK,
            Panel("scheduling/panels/desk_requests.html", panels.desk_requests_panel, order=20),
        )
        # The day board's link to the desk's queues, with the count of visits to rebook.
        register_panel(
            DESK,
            Panel(
                "scheduling/panels/desk_queues_link.html", desk_queues.desk_queue_badge, order=21
            ),
        )
