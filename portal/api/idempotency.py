"""`Idempotency-Key` for API POSTs that create or move something.

A key is scoped to (user, route); the first answer is kept for `IDEMPOTENCY_TTL` in
`IdempotencyRecord`:

1. The "running" record is inserted in its own transaction *before* the work starts, so a
   concurrent replay finds it and gets 409 instead of booking twice.
2. The same key with another body (keyed hash of the canonical JSON) is 422.
3. The work and the "done" update run in one transaction: if the work fails the record goes
   with it, and if it succeeds the stored answer is committed together with the booking, so a
   crash can never leave a booking without its replayable answer.
4. Only successful (2xx) answers are stored. An error changed nothing, so the same key may be
   retried, for instance after fixing the body.

The record holds no personal data: the key and the body as HMAC digests (`BLIND_INDEX_KEY`),
the stored answer encrypted (`IdempotencyRecord.response_body`).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from portal.api.exceptions import Problem
from portal.crypto import blind_index
from portal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = datetime.timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The header as the OpenAPI schema of each idempotent operation lists it.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Repeat the POST safely: the first answer is replayed for 24 hours.",
)


def request_fingerprint(data) -> str:
    """A stable, keyed hash of the parsed body: key order and whitespace do not matter.

    Keyed, because a plain hash of a body of a few known fields (a name, a birth date, a
    phone) can be found by guessing them.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return blind_index("idempotency-request", hashlib.sha256(canonical.encode()).hexdigest())


def key_digest(key: str) -> str:
    """What is stored of the client's key: clients may put anything there, names included."""
    return blind_index("idempotency-key", key)


def _claim(*, user_id: int, route: str, key: str, request_hash: str):
    """Insert the running record, or return the live one already there."""
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user_id=user_id,
                    route=route,
                    key_digest=key_digest(key),
                    request_hash=request_hash,
                    expires_at=now + IDEMPOTENCY_TTL,
                )
            return record, True
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(
                user_id=user_id, route=route, key_digest=key_digest(key)
            ).first()
            if existing is None:
                continue
            if existing.expires_at <= now:
                # An expired key counts as unused; the purge task may not have run yet.
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            return existing, False
    raise Problem(
        status_code=409,
        slug="idempotency-in-progress",
        title=_("Request in progress"),
        detail=_("A request with this Idempotency-Key is still being processed. Retry later."),
    )


def idempotent(handler):
    """Decorate an APIView `post` so an `Idempotency-Key` header makes it safe to repeat."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or not request.user.is_authenticated:
            return handler(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise Problem(
                status_code=400,
                slug="invalid-idempotency-key",
                detail=_("The Idempotency-Key header is longer than 255 characters."),
                extra={"errors": {HEADER: [str(_("Use at most 255 characters."))]}},
            )
        route = request.path[:200]
        record, created = _claim(
            user_id=request.user.pk,
            route=route,
            key=key,
            request_hash=request_fingerprint(request.data),
        )
        if not created:
            return _replay(record, request_fingerprint(request.data))
        try:
            with transaction.atomic():
                response = handler(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    body = json.loads(JSONRenderer().render(response.data) or b"null")
                    IdempotencyRecord.objects.filter(pk=record.pk).update(
                        state=IdempotencyRecord.State.DONE,
                        response_status=response.status_code,
                        response_body=body,
                    )
                    return response
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return response

    return wrapper


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise Problem(
            status_code=422,
            slug="idempotency-key-reused",
            title=_("Idempotency-Key reused"),
            detail=_("This Idempotency-Key was already used with a different request body."),
        )
    if record.state != IdempotencyRecord.State.DONE:
        raise Problem(
            status_code=409,
            slug="idempotency-in-progress",
            title=_("Request in progress"),
            detail=_("A request with this Idempotency-Key is still being processed. Retry later."),
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete records past their 24 h; returns how many. Called by a periodic task."""
    deleted, _details = IdempotencyRecord.objects.filter(
        expires_at__lte=now or timezone.now()
    ).delete()
    return deleted
