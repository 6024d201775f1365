"""Read paths of consents. Senders call `has_active_consent` before every message."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from portal.choices import ConsentPurpose
from portal.models import Consent, ConsentDocument, Patient

# States of one purpose for one patient, as the consents page shows them.
STATE_ACTIVE = "active"
STATE_OUTDATED = "outdated"  # signed, but a newer text has been published since
STATE_WITHDRAWN = "withdrawn"
STATE_MISSING = "missing"


def has_active_consent(*, patient: Patient, purpose: str) -> bool:
    """True if `patient` holds a signed, not withdrawn consent for `purpose` (any version)."""
    return Consent.objects.filter(
        patient=patient, purpose=purpose, withdrawn_at__isnull=True
    ).exists()


def current_document(*, purpose: str, language: str) -> ConsentDocument | None:
    """The newest published text of `purpose`, in `language` or else the default language."""
    published = ConsentDocument.objects.filter(purpose=purpose, published_at__lte=timezone.now())
    for code in dict.fromkeys([language, settings.LANGUAGE_CODE]):
        document = published.filter(language=code).order_by("-published_at", "-id").first()
        if document is not None:
            return document
    return None


def _current_documents(language: str) -> dict[str, ConsentDocument]:
    """Newest text per purpose in one query, preferring `language` over the default one."""
    preference = [language, settings.LANGUAGE_CODE]
    best: dict[str, ConsentDocument] = {}
    documents = ConsentDocument.objects.filter(
        published_at__lte=timezone.now(), language__in=preference
    ).order_by("-published_at", "-id")
    for document in documents:
        chosen = best.get(document.purpose)
        if chosen is None or (
            preference.index(document.language) < preference.index(chosen.language)
        ):
            best[document.purpose] = document
    return best


@dataclass(frozen=True)
class ConsentLine:
    """One purpose on the consents page: its current text and the patient's latest consent."""

    purpose: str
    label: str
    document: ConsentDocument | None
    consent: Consent | None
    state: str

    @property
    def is_active(self) -> bool:
        return self.state in (STATE_ACTIVE, STATE_OUTDATED)

    @property
    def needs_attention(self) -> bool:
        """Required but not held, or held on an older text."""
        required = self.document is not None and self.document.is_required
        return self.state == STATE_OUTDATED or (required and not self.is_active)


def consent_overview(*, patient: Patient, language: str | None = None) -> list[ConsentLine]:
    """Every purpose, in a fixed order, with its current text and state. Two queries."""
    language = language or settings.LANGUAGE_CODE
    documents = _current_documents(language)
    latest: dict[str, Consent] = {}
    consents = (
        Consent.objects.filter(patient=patient)
        .select_related("representative")
        .order_by("-signed_at", "-id")
    )
    for signed in consents:
        # An active consent wins over any withdrawn one; otherwise the newest counts.
        chosen = latest.get(signed.purpose)
        if chosen is None or (signed.withdrawn_at is None and chosen.withdrawn_at is not None):
            latest[signed.purpose] = signed
    lines = []
    for purpose in ConsentPurpose:
        document = documents.get(purpose.value)
        consent = latest.get(purpose.value)
        lines.append(
            ConsentLine(
                purpose=purpose.value,
                label=str(purpose.label),
                document=document,
                consent=consent,
                state=_state(consent, document),
            )
        )
    return lines


def _state(consent: Consent | None, document: ConsentDocument | None) -> str:
    if consent is None:
        return STATE_MISSING
    if consent.withdrawn_at is not None:
        return STATE_WITHDRAWN
    if document is not None and consent.document_version != document.version:
        return STATE_OUTDATED
    return STATE_ACTIVE
