from django.db import models
from django.utils.translation import gettext_lazy as _


class Provider(models.TextChoices):
    """Who sends the call events of an account (ECOSYSTEM.md, "Telephony")."""

    GENERIC = "generic", _("Generic JSON webhook (UIS, Beeline, Sipuni, Asterisk...)")
    MANGO = "mango", _("Mango Office")
    ZADARMA = "zadarma", _("Zadarma")


class CallDirection(models.TextChoices):
    INBOUND = "in", _("Incoming")
    OUTBOUND = "out", _("Outgoing")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
