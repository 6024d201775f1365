from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from portal.metrics import register_call_answer_source
        from portal.panels import DESK, DESK_QUEUES, Panel, register_panel
        from telephony.selectors.answer_times import call_answer_figures
        from telephony.views.panels import (
            desk_callbacks_badge,
            desk_caller_panel,
            desk_queue_callbacks,
        )

        # The director dashboard's call answer time (analytics may not import telephony).
        register_call_answer_source(call_answer_figures)

        # First above the board: a ringing caller matters more than any queue.
        register_panel(
            DESK, Panel("telephony/panels/desk_caller.html", desk_caller_panel, order=10)
        )
        # Beside the board's link to the queues (order 21): callers waiting to be rung back.
        register_panel(
            DESK,
            Panel("telephony/panels/desk_callbacks_badge.html", desk_callbacks_badge, order=22),
        )
        # The callback queue on the desk's queues page, after the visits to rebook.
        register_panel(
            DESK_QUEUES,
            Panel("telephony/panels/queue_callbacks.html", desk_queue_callbacks, order=20),
        )
