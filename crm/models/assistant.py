"""Conversations with the assistant and their turns (issue #18).

A conversation belongs to a signed-in patient, a matched Telegram or SMS sender, or an anonymous
browser session (only a hash of its random token is stored). The texts of its turns are
personal data and are stored encrypted; the intent and entities of a turn carry no personal
data and are what the operator inbox and the analytics read in clear.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import ConversationChannel, ConversationStatus, HandoffReason, TurnAuthor
from portal.fields import EncryptedTextField
from portal.models import Clinic, Patient
from scheduling.models import Appointment


class Conversation(models.Model):
    """One dialogue with the assistant, and later perhaps with an operator.

    `state` is the dialogue's memory between turns: the intent being worked on, the filled
    slots (specialty, service, dates, for whom) and a pending action awaiting the patient's
    "yes". The analytics fields say whether the assistant resolved it without an operator,
    whether and when it booked a visit and when it was handed over.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=ConversationChannel.choices)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("The clinic the conversation is about, once known; empty: the network."),
    )
    # HMAC of the anonymous session's random token: the browser proves it owns the dialogue.
    session_hash = models.CharField(_("session hash"), max_length=64, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    state = models.JSONField(_("dialogue state"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ConversationStatus.choices,
        default=ConversationStatus.OPEN,
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    handoff_reason = models.CharField(
        _("handoff reason"), max_length=20, choices=HandoffReason.choices, blank=True
    )
    handed_over_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    operator_answered_at = models.DateTimeField(_("operator answered"), null=True, blank=True)
    resolved_without_operator = models.BooleanField(
        _("resolved without an operator"), default=False
    )
    bookings_made = models.PositiveSmallIntegerField(_("bookings by the assistant"), default=0)
    booked_appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked visit"),
    )
    booked_at = models.DateTimeField(_("first visit booked"), null=True, blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("assistant conversation")
        verbose_name_plural = _("assistant conversations")
        indexes = [models.Index(fields=["status", "sla_due_at"], name="conversation_inbox")]

    def __str__(self):
        return str(self.public_id)


class Turn(models.Model):
    """One message of a conversation. `offered_slot_ids` are the slots a tool returned and the
    assistant offered in this turn: the only slots the conversation may book."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="turns", verbose_name=_("conversation")
    )
    author = models.CharField(_("author"), max_length=10, choices=TurnAuthor.choices)
    text = EncryptedTextField(_("text"), blank=True)
    intent = models.CharField(_("intent"), max_length=20, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    entities = models.JSONField(_("entities"), default=dict, blank=True)
    offered_slot_ids = models.JSONField(_("offered slots"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("conversation turn")
        verbose_name_plural = _("conversation turns")

    def __str__(self):
        return f"{self.conversation_id}:{self.author}"
