"""Telephony: provider accounts, the clinic lines they ring, calls and the callback queue.

Callers' numbers are personal data: stored encrypted, found through the same keyed blind
index as patients' phones (`portal.models.patients.BIDX_PHONE`), never written in clear.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField, EncryptedJSONField
from portal.models import Clinic, Patient, User
from portal.models.base import TimeStampedModel
from telephony.choices import CallDirection, CallState, Provider


class TelephonyAccount(TimeStampedModel):
    """One connection to a telephony provider; its events arrive at a webhook address that
    names the account by `public_id`, signed with the account's secret."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    provider = models.CharField(_("provider"), max_length=12, choices=Provider.choices)
    # Mango's `vpbx_api_key`, Zadarma's API key: sent in clear by the provider, not a secret.
    api_key = models.CharField(_("API key"), max_length=200, blank=True)
    # The shared secret (generic), Mango's API salt or Zadarma's API secret. Never shown back.
    secret = EncryptedCharField(_("shared secret"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("telephony account")
        verbose_name_plural = _("telephony accounts")

    def __str__(self):
        return f"{self.name} ({self.get_provider_display()})"


class TelephonyLine(TimeStampedModel):
    """A number (or a provider's line id) that rings in one clinic.

    Calls to it appear on the caller panels of its `answerers`; a line without answerers
    rings every holder of `telephony.answer` in its clinic.
    """

    account = models.ForeignKey(
        TelephonyAccount,
        verbose_name=_("telephony account"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    # As the provider sends it: E.164 digits for numbers (with or without "+"), or a line id.
    number = models.CharField(_("number or line id"), max_length=40)
    answerers: models.ManyToManyField[User, LineAnswerer] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="LineAnswerer",
        related_name="+",
        verbose_name=_("answered by"),
        blank=True,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("telephony line")
        verbose_name_plural = _("telephony lines")
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="telephony_line_unique"),
        ]

    def __str__(self):
        return self.name


class LineAnswerer(models.Model):
    """A registrar who answers a line, at an extension of the PBX when they have one."""

    line = models.ForeignKey(
        TelephonyLine,
        verbose_name=_("telephony line"),
        on_delete=models.CASCADE,
        related_name="answerer_links",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registrar"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    extension = models.CharField(_("extension"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("line answerer")
        verbose_name_plural = _("line answerers")
        constraints = [
            models.UniqueConstraint(fields=["line", "user"], name="telephony_answerer_unique"),
        ]

    def __str__(self):
        return self.extension or str(self.user_id)


class Call(models.Model):
    """One call on a line, from the first ring to its end.

    Written only by `telephony.services.calls`. `answered_at - started_at` is the call-answer
    time; a call that ended without an answer is `missed` and has a `CallbackRequest`.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        TelephonyAccount,
        verbose_name=_("telephony account"),
        on_delete=models.CASCADE,
        related_name="calls",
    )
    line = models.ForeignKey(
        TelephonyLine,
        verbose_name=_("telephony line"),
        on_delete=models.CASCADE,
        related_name="calls",
    )
    provider_call_id = models.CharField(_("provider's call id"), max_length=200)
    # Mango sends one id per leg: the caller's own leg, whose end is the call's end.
    caller_leg_id = models.CharField(_("caller's leg id"), max_length=200, blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    from_number = EncryptedCharField(_("caller's number"), max_length=40, blank=True)
    from_bidx = models.CharField(
        _("caller's number search index"), max_length=64, blank=True, db_index=True, editable=False
    )
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    missed = models.BooleanField(_("missed"), default=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    # Set when exactly one patient has the caller's number.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    recording_url = EncryptedCharField(_("recording"), max_length=1000, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "provider_call_id"], name="telephony_call_unique"
            ),
        ]
        indexes = [
            # The caller panel's poll: the active calls of a few lines.
            models.Index(
                fields=["line", "started_at"],
                condition=Q(state__in=["ringing", "answered"]),
                name="telephony_call_active",
            ),
            models.Index(fields=["started_at"], name="telephony_call_started"),
        ]

    def __str__(self):
        return str(self.public_id)

    @property
    def answer_seconds(self) -> int | None:
        if self.answered_at is None:
            return None
        return max(0, int((self.answered_at - self.started_at).total_seconds()))


class CallbackRequest(models.Model):
    """A missed caller to ring back: one open request per number and clinic, however many
    times they called; closed by a registrar or by their next answered call."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="+"
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="callbacks"
    )
    from_bidx = models.CharField(
        _("caller's number search index"), max_length=64, blank=True, editable=False
    )
    missed_calls = models.PositiveSmallIntegerField(_("missed calls"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    closed_by_call = models.ForeignKey(
        Call,
        verbose_name=_("call that closed it"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        indexes = [
            models.Index(
                fields=["clinic", "due_at"],
                condition=Q(done_at__isnull=True),
                name="telephony_callback_open",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "from_bidx"],
                condition=Q(done_at__isnull=True) & ~Q(from_bidx=""),
                name="telephony_callback_one_open",
            ),
        ]

    def __str__(self):
        return str(self.public_id)


class CallEventRecord(models.Model):
    """Every accepted provider event, once: the key refuses a replay, and the raw payload
    (encrypted: it holds the caller's number) stays for support."""

    account = models.ForeignKey(
        TelephonyAccount,
        verbose_name=_("telephony account"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    event_key = models.CharField(_("event identifier"), max_length=300)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.SET_NULL, null=True, related_name="events"
    )
    payload = EncryptedJSONField(_("event data"), default=dict)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        constraints = [
            models.UniqueConstraint(fields=["account", "event_key"], name="telephony_event_once"),
        ]

    def __str__(self):
        return self.event_key
