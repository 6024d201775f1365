"""Write paths of calls: a provider event applied to its call, and the callback queue.

Every call is written here and nowhere else. The caller's number is kept encrypted with its
blind index; it never reaches a log (refusals log a reason and the account's public id).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import User
from portal.normalize import normalize_phone
from portal.selectors.patients import patients_with_phone_index, phone_blind_index
from portal.signals import enquiry_received
from telephony.choices import CallDirection, CallState
from telephony.models import (
    Call,
    CallbackRequest,
    CallEventRecord,
    LineAnswerer,
    TelephonyAccount,
    TelephonyLine,
)
from telephony.providers.base import CallEvent, WebhookRefused

logger = logging.getLogger(__name__)
_NOT_DIGITS = re.compile(r"\D")


def caller_e164(raw: str) -> str:
    """The caller's number in E.164, or "" for a hidden or unreadable one. Providers send
    Russian numbers without the "+" ("79145551234"), which the region rules read as national.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    digits = _NOT_DIGITS.sub("", text)
    candidates = [text] if text.startswith("+") else [f"+{digits}", text]
    for candidate in candidates:
        try:
            return normalize_phone(candidate)
        except ValidationError:
            continue
    return ""


def call_event_record(
    *, account: TelephonyAccount, event: CallEvent, now: datetime.datetime | None = None
) -> Call | None:
    """Apply one verified provider event to its call; None when it concerns no line of ours.

    Invariants: an event older or newer than `TELEPHONY_WEBHOOK_TOLERANCE_SECONDS` by its
    signed time, or of a call older than `TELEPHONY_MAX_CALL_HOURS`, or seen before (its key)
    raises `WebhookRefused` and changes nothing. A call only moves forward: ringing →
    answered → ended; the first answer fixes `answered_at`, the first end fixes `ended_at`.
    An inbound call that ends unanswered is `missed` and opens (or adds to) the callback
    request of its number in its clinic; an answered one closes that request.
    """
    now = now or timezone.now()
    _refuse_stale(event, now)
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .select_related("line__clinic")
            .filter(account=account, provider_call_id=event.call_id)
            .first()
        )
        if call is None:
            call = _new_call(account, event)
            if call is None:
                _remember(account, event, None)
                return None
        _refuse_old_call(event, call.line, now)
        _remember(account, event, call)
        _apply(call, event)
    return call


def _refuse_stale(event: CallEvent, now: datetime.datetime) -> None:
    if event.signed_at is None:
        return
    tolerance = datetime.timedelta(seconds=settings.TELEPHONY_WEBHOOK_TOLERANCE_SECONDS)
    if abs(now - event.signed_at) > tolerance:
        raise WebhookRefused("stale")


def _refuse_old_call(event: CallEvent, line: TelephonyLine, now: datetime.datetime) -> None:
    if event.call_start_local is None:
        return
    zone = zoneinfo.ZoneInfo(line.clinic.timezone)
    started = event.call_start_local.replace(tzinfo=zone)
    tolerance = datetime.timedelta(seconds=settings.TELEPHONY_WEBHOOK_TOLERANCE_SECONDS)
    longest = datetime.timedelta(hours=settings.TELEPHONY_MAX_CALL_HOURS)
    if started > now + tolerance or now - started > longest:
        raise WebhookRefused("stale")


def _remember(account: TelephonyAccount, event: CallEvent, call: Call | None) -> None:
    """Store the event once; its key seen before is a replay."""
    payload = {
        key: value.isoformat() if isinstance(value, datetime.datetime) else value
        for key, value in dataclasses.asdict(event).items()
    }
    payload["extra"] = {
        key: value.isoformat() if isinstance(value, datetime.datetime) else value
        for key, value in dict(event.extra).items()
    }
    try:
        with transaction.atomic():
            CallEventRecord.objects.create(
                account=account, event_key=event.key[:300], call=call, payload=payload
            )
    except IntegrityError as exc:
        raise WebhookRefused("replayed") from exc


def line_for(account: TelephonyAccount, number: str) -> TelephonyLine | None:
    """The account's active line called at `number` (compared by digits); an account with one
    line takes every call, whatever number the provider names."""
    lines = list(account.lines.filter(is_active=True).select_related("clinic"))
    digits = _NOT_DIGITS.sub("", number or "")
    for line in lines:
        if line.number == number or (digits and _NOT_DIGITS.sub("", line.number) == digits):
            return line
    return lines[0] if len(lines) == 1 else None


def _new_call(account: TelephonyAccount, event: CallEvent) -> Call | None:
    if event.state == CallState.ANSWERED or event.direction == CallDirection.OUTBOUND:
        # An answer of a call whose ring we never saw has nothing to time it against; outgoing
        # calls are not kept (the caller panel and the answer-time KPI are about incoming ones).
        return None
    line = line_for(account, event.to_number)
    if line is None:
        return None
    number = caller_e164(event.from_number)
    bidx = phone_blind_index(number) if number else ""
    matches = patients_with_phone_index(phone_bidx=bidx, limit=2)
    started = event.extra.get("started_at") or event.at
    try:
        with transaction.atomic():
            return Call.objects.create(
                account=account,
                line=line,
                provider_call_id=event.call_id,
                caller_leg_id=event.leg_id,
                direction=event.direction,
                state=CallState.RINGING,
                from_number=number,
                from_bidx=bidx,
                started_at=started,
                patient=matches[0] if len(matches) == 1 else None,
                recording_url=event.recording_url,
            )
    except IntegrityError:
        # The same call's other event created it meanwhile.
        return (
            Call.objects.select_for_update()
            .select_related("line__clinic")
            .get(account=account, provider_call_id=event.call_id)
        )


def _apply(call: Call, event: CallEvent) -> None:
    changed: set[str] = set()
    if event.recording_url and not call.recording_url:
        call.recording_url = event.recording_url
        changed.add("recording_url")
    if event.state == CallState.RINGING and not call.caller_leg_id and event.leg_id:
        call.caller_leg_id = event.leg_id
        changed.add("caller_leg_id")
    elif event.state == CallState.ANSWERED and call.state == CallState.RINGING:
        _answer(call, at=event.at, extension=event.extension)
        changed |= {"state", "answered_at", "extension", "answered_by"}
    elif (
        event.state == CallState.ENDED
        and call.state != CallState.ENDED
        and _ends_the_call(call, event)
    ):
        if call.answered_at is None and event.extra.get("answered"):
            answered_at = event.extra.get("answered_at") or event.at
            _answer(call, at=answered_at, extension=event.extension)
            changed |= {"answered_at", "extension", "answered_by"}
        _end(call, at=event.at)
        changed |= {"state", "ended_at", "missed"}
    if changed:
        call.save(update_fields=[*sorted(changed), "updated_at"])


def _ends_the_call(call: Call, event: CallEvent) -> bool:
    """Mango ends a leg per ringing extension: only the caller's own leg (or the summary)
    ends the call."""
    if event.extra.get("summary") or not event.leg_id or not call.caller_leg_id:
        return True
    return event.leg_id == call.caller_leg_id


def _answer(call: Call, *, at: datetime.datetime, extension: str) -> None:
    call.state = CallState.ANSWERED
    call.answered_at = max(at, call.started_at)
    call.extension = extension[:20]
    call.answered_by = _answerer(call.line, extension)
    if call.from_bidx:
        # The caller got through: their open callback request is done.
        CallbackRequest.objects.filter(
            clinic_id=call.line.clinic_id, from_bidx=call.from_bidx, done_at__isnull=True
        ).update(done_at=at, closed_by_call=call)


def _answerer(line: TelephonyLine, extension: str) -> User | None:
    if not extension:
        return None
    link = (
        LineAnswerer.objects.filter(line=line, extension=extension).select_related("user").first()
    )
    return link.user if link else None


def _end(call: Call, *, at: datetime.datetime) -> None:
    call.ended_at = max(at, call.answered_at or call.started_at)
    call.missed = call.answered_at is None and call.direction == CallDirection.INBOUND
    call.state = CallState.ENDED
    if call.missed and call.from_bidx:
        _callback_for(call)
    if call.from_number and (call.missed or call.patient_id is None):
        # A missed call, or a first call from a number no profile has: an enquiry for the CRM.
        transaction.on_commit(lambda: _announce_enquiry(call))


def _announce_enquiry(call: Call) -> None:
    results = enquiry_received.send_robust(
        sender=Call,
        source="call",
        clinic=call.line.clinic,
        phone=call.from_number,
        tracking_number=call.line.number,
        occurred_at=call.started_at,
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            # The call is recorded whatever a listener does; the failure is logged, without
            # the number.
            logger.error(
                "enquiry listener %s failed for call %s: %s",
                getattr(receiver, "__qualname__", receiver),
                call.public_id,
                type(result).__name__,
            )


def _callback_for(call: Call) -> CallbackRequest:
    assert call.ended_at is not None  # noqa: S101 - set by _end just before
    clinic_id = call.line.clinic_id
    due = call.ended_at + datetime.timedelta(minutes=settings.TELEPHONY_CALLBACK_DUE_MINUTES)
    open_request = (
        CallbackRequest.objects.select_for_update()
        .filter(clinic_id=clinic_id, from_bidx=call.from_bidx, done_at__isnull=True)
        .first()
    )
    if open_request is None:
        try:
            with transaction.atomic():
                return CallbackRequest.objects.create(
                    clinic_id=clinic_id, call=call, from_bidx=call.from_bidx, due_at=due
                )
        except IntegrityError:
            # The same number's other missed call opened it meanwhile (one open per number).
            open_request = CallbackRequest.objects.select_for_update().get(
                clinic_id=clinic_id, from_bidx=call.from_bidx, done_at__isnull=True
            )
    open_request.call = call
    open_request.missed_calls += 1
    open_request.save(update_fields=["call", "missed_calls"])
    return open_request


def callback_mark_done(*, callback: CallbackRequest, actor: Any) -> CallbackRequest:
    """Close a callback request (the registrar rang back). Closing one already done is a
    no-op: two registrars may press the button at once."""
    with transaction.atomic():
        fresh = CallbackRequest.objects.select_for_update().get(pk=callback.pk)
        if fresh.done_at is None:
            fresh.done_at = timezone.now()
            fresh.done_by = actor
            fresh.save(update_fields=["done_at", "done_by"])
    return fresh
