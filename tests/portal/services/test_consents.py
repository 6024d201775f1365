import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from notifications.models import OutboxMessage
from portal import request_context
from portal.choices import ConsentChannel, ConsentPurpose, SignatureMethod, SignerKind
from portal.consent_texts import VERSION, ensure_consent_documents
from portal.models import AuditEvent, Consent, ConsentDocument
from portal.selectors.consents import (
    STATE_ACTIVE,
    STATE_MISSING,
    STATE_OUTDATED,
    STATE_WITHDRAWN,
    consent_overview,
    has_active_consent,
)
from portal.services.consents import (
    CodeAttemptsExceeded,
    CodeError,
    CodeExpired,
    CodeResendTooSoon,
    ConsentAlreadyActive,
    ConsentDocumentMissing,
    ConsentNotActive,
    NoPhone,
    RepresentativeNotAllowed,
    SignatureNotAllowed,
    consent_code_check,
    consent_code_send,
    consent_sign,
    consent_withdraw,
)
from tests.factories import FamilyLinkFactory, PatientFactory

pytestmark = pytest.mark.django_db

PD = ConsentPurpose.PERSONAL_DATA
ADS = ConsentPurpose.ADVERTISING


@pytest.fixture(autouse=True)
def documents(db):
    ensure_consent_documents()


@pytest.fixture
def in_request():
    """Pretend the service runs inside a web request from a known address and browser."""
    token = request_context.set_current(
        request_context.RequestContext(
            ip_address="203.0.113.7", user_agent="TestBrowser/1.0", request_id="req-1"
        )
    )
    yield
    request_context.reset_current(token)


def sign_in_account(who, /, purpose=PD, **kwargs):
    """Sign as `who` (their own session); kwargs override, e.g. patient= for a dependant."""
    params = {
        "actor": who.user,
        "patient": who,
        "purpose": purpose,
        "signer_kind": SignerKind.PATIENT,
        "channel": ConsentChannel.WEB,
        "signature_method": SignatureMethod.ACCOUNT_CONFIRMATION,
        "language": "ru",
    }
    params.update(kwargs)
    return consent_sign(**params)


def sent_code() -> str:
    message = OutboxMessage.objects.filter(event="consent.sign_code").latest("created_at")
    return message.context["code"]


def test_ensure_consent_documents_publishes_one_text_per_purpose_and_language_once():
    assert ConsentDocument.objects.count() == len(ConsentPurpose) * 2
    assert ensure_consent_documents() == []
    document = ConsentDocument.objects.get(purpose=PD, language="en")
    assert document.version == VERSION
    assert document.is_required
    assert len(document.sha256) == 64
    assert not ConsentDocument.objects.get(purpose=ADS, language="ru").is_required


def test_it_records_version_hash_signer_ip_and_user_agent(patient, in_request):
    consent = sign_in_account(patient, language="en")

    document = ConsentDocument.objects.get(purpose=PD, language="en")
    assert consent.document == document
    assert consent.document_version == VERSION
    assert consent.document_sha256 == document.sha256
    assert consent.signer_kind == SignerKind.PATIENT
    assert consent.representative is None
    assert consent.ip_address == "203.0.113.7"
    assert consent.user_agent == "TestBrowser/1.0"
    assert consent.signed_at is not None and consent.withdrawn_at is None
    assert has_active_consent(patient=patient, purpose=PD)
    assert not has_active_consent(patient=patient, purpose=ADS)


def test_signing_is_audited_without_values(patient, in_request):
    consent = sign_in_account(patient)
    event = AuditEvent.objects.get(object_type="portal.consent", object_id=str(consent.public_id))
    assert event.action == "create"
    assert event.actor_id == patient.user.pk
    assert event.patient_ids == [str(patient.public_id)]
    assert event.ip_address == "203.0.113.7"


def test_a_guardian_signs_for_a_dependant_as_legal_representative(patient, dependant):
    consent = sign_in_account(
        patient,
        patient=dependant,
        signer_kind=SignerKind.REPRESENTATIVE,
        representative=patient,
    )
    assert consent.patient == dependant
    assert consent.signer_kind == SignerKind.REPRESENTATIVE
    assert consent.representative == patient
    event = AuditEvent.objects.get(object_id=str(consent.public_id))
    assert set(event.patient_ids) == {str(patient.public_id), str(dependant.public_id)}


def test_it_refuses_a_representative_without_a_family_link(patient, other_patient):
    with pytest.raises(RepresentativeNotAllowed):
        sign_in_account(
            other_patient,
            patient=patient,
            signer_kind=SignerKind.REPRESENTATIVE,
            representative=other_patient,
        )
    assert not Consent.objects.exists()


def test_it_refuses_a_representative_whose_link_has_expired(db):
    link = FamilyLinkFactory(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(RepresentativeNotAllowed):
        sign_in_account(
            link.guardian,
            patient=link.dependant,
            signer_kind=SignerKind.REPRESENTATIVE,
            representative=link.guardian,
        )
    assert not Consent.objects.exists()


def test_it_refuses_a_representative_kind_without_a_representative(patient):
    with pytest.raises(RepresentativeNotAllowed):
        sign_in_account(patient, signer_kind=SignerKind.REPRESENTATIVE)


def test_account_confirmation_is_only_the_signers_own_session(patient, other_patient):
    with pytest.raises(SignatureNotAllowed):
        sign_in_account(patient, actor=other_patient.user)
    assert not Consent.objects.exists()


def test_a_handwritten_form_needs_staff_at_the_desk(patient, registrar_a):
    with pytest.raises(SignatureNotAllowed):
        sign_in_account(patient, signature_method=SignatureMethod.HANDWRITTEN)
    consent = sign_in_account(
        patient,
        actor=registrar_a,
        channel=ConsentChannel.DESK,
        signature_method=SignatureMethod.HANDWRITTEN,
    )
    assert consent.channel == ConsentChannel.DESK


def test_a_second_active_consent_for_the_same_purpose_is_a_clean_error(patient):
    sign_in_account(patient)
    with pytest.raises(ConsentAlreadyActive):
        sign_in_account(patient)
    assert Consent.objects.filter(patient=patient).count() == 1


def test_an_unpublished_purpose_is_a_clean_error(patient):
    ConsentDocument.objects.filter(purpose=ADS).delete()
    with pytest.raises(ConsentDocumentMissing):
        sign_in_account(patient, purpose=ADS)


def test_it_falls_back_to_the_default_language_text(patient):
    consent = sign_in_account(patient, language="de")
    assert consent.document.language == "ru"


def test_withdrawal_keeps_the_row_and_a_second_withdrawal_is_a_clean_error(patient):
    sign_in_account(patient, purpose=ADS)

    consent = consent_withdraw(
        actor=patient.user, patient=patient, purpose=ADS, channel=ConsentChannel.WEB
    )

    assert consent.withdrawn_at is not None
    assert consent.withdrawal_channel == ConsentChannel.WEB
    assert not has_active_consent(patient=patient, purpose=ADS)
    with pytest.raises(ConsentNotActive):
        consent_withdraw(
            actor=patient.user, patient=patient, purpose=ADS, channel=ConsentChannel.WEB
        )
    assert AuditEvent.objects.filter(object_type="portal.consent", action="update").count() == 1
    # Signing again after a withdrawal is a new row; the old one stays as history.
    sign_in_account(patient, purpose=ADS)
    assert Consent.objects.filter(patient=patient, purpose=ADS).count() == 2


def test_sms_code_signing_checks_the_code_sent(patient, in_request):
    challenge = consent_code_send(actor=patient.user, patient=patient, purpose=ADS, signer=patient)
    code = sent_code()
    message = OutboxMessage.objects.get(event="consent.sign_code")
    assert message.channel == "sms"
    assert message.patient == patient
    assert code not in str(challenge)  # the session keeps only a digest

    with pytest.raises(CodeError):
        consent_sign(
            actor=patient.user,
            patient=patient,
            purpose=ADS,
            signer_kind=SignerKind.PATIENT,
            channel=ConsentChannel.WEB,
            signature_method=SignatureMethod.SMS_CODE,
            language="ru",
            code_challenge=challenge,
            code="000000" if code != "000000" else "111111",
        )
    assert not Consent.objects.exists()

    consent = consent_sign(
        actor=patient.user,
        patient=patient,
        purpose=ADS,
        signer_kind=SignerKind.PATIENT,
        channel=ConsentChannel.WEB,
        signature_method=SignatureMethod.SMS_CODE,
        language="ru",
        code_challenge=challenge,
        code=code,
    )
    assert consent.signature_method == SignatureMethod.SMS_CODE


def test_sms_code_signing_without_a_challenge_is_refused(patient):
    with pytest.raises(CodeExpired):
        sign_in_account(patient, signature_method=SignatureMethod.SMS_CODE, code="123456")


def test_a_code_for_one_purpose_does_not_sign_another(patient):
    challenge = consent_code_send(actor=patient.user, patient=patient, purpose=ADS, signer=patient)
    with pytest.raises(CodeExpired):
        consent_code_check(challenge=challenge, patient=patient, purpose=PD, code=sent_code())


def test_an_expired_code_is_refused(patient):
    challenge = consent_code_send(actor=patient.user, patient=patient, purpose=ADS, signer=patient)
    challenge["expires_at"] = (timezone.now() - datetime.timedelta(seconds=1)).isoformat()
    with pytest.raises(CodeExpired):
        consent_code_check(challenge=challenge, patient=patient, purpose=ADS, code=sent_code())


def test_five_wrong_codes_burn_the_challenge(patient):
    challenge = consent_code_send(actor=patient.user, patient=patient, purpose=ADS, signer=patient)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(4):
        with pytest.raises(CodeError):
            consent_code_check(challenge=challenge, patient=patient, purpose=ADS, code=wrong)
    with pytest.raises(CodeAttemptsExceeded):
        consent_code_check(challenge=challenge, patient=patient, purpose=ADS, code=wrong)
    with pytest.raises(CodeAttemptsExceeded):
        consent_code_check(challenge=challenge, patient=patient, purpose=ADS, code=code)


def test_a_new_code_within_a_minute_is_refused(patient):
    first = consent_code_send(actor=patient.user, patient=patient, purpose=ADS, signer=patient)
    with pytest.raises(CodeResendTooSoon):
        consent_code_send(
            actor=patient.user, patient=patient, purpose=ADS, signer=patient, previous=first
        )
    first["sent_at"] = (timezone.now() - datetime.timedelta(minutes=2)).isoformat()
    # A minute later the shared pause between two codes has lapsed too.
    cache.clear()
    consent_code_send(
        actor=patient.user, patient=patient, purpose=ADS, signer=patient, previous=first
    )
    assert OutboxMessage.objects.filter(event="consent.sign_code").count() == 2


def test_the_code_for_a_dependant_goes_to_the_guardians_phone(patient, dependant):
    consent_code_send(actor=patient.user, patient=dependant, purpose=PD, signer=patient)
    message = OutboxMessage.objects.get(event="consent.sign_code")
    assert message.patient == patient
    assert message.to_address == patient.phone


def test_no_code_can_be_sent_without_a_phone(db):
    nobody = PatientFactory(phone="")
    with pytest.raises(NoPhone):
        consent_code_send(actor=None, patient=nobody, purpose=PD, signer=nobody)
    assert not OutboxMessage.objects.exists()


def test_the_overview_lists_every_purpose_with_its_state(patient, django_assert_max_num_queries):
    sign_in_account(patient, purpose=PD)
    sign_in_account(patient, purpose=ADS)
    consent_withdraw(actor=patient.user, patient=patient, purpose=ADS, channel="web")

    with django_assert_max_num_queries(2):
        lines = consent_overview(patient=patient, language="en")

    states = {line.purpose: line.state for line in lines}
    assert [line.purpose for line in lines] == list(ConsentPurpose.values)
    assert states[PD] == STATE_ACTIVE
    assert states[ADS] == STATE_WITHDRAWN
    assert states[ConsentPurpose.COOKIES_ANALYTICS] == STATE_MISSING
    assert all(line.document.language == "en" for line in lines)
    assert not any(line.needs_attention for line in lines)


def test_a_newer_text_makes_a_signed_consent_outdated(patient):
    sign_in_account(patient, purpose=PD)
    ConsentDocument.objects.create(
        purpose=PD,
        version="2.0",
        language="ru",
        title="v2",
        body="Новый текст",
        published_at=timezone.now(),
        is_required=True,
    )
    line = next(line for line in consent_overview(patient=patient) if line.purpose == PD)
    assert line.state == STATE_OUTDATED
    assert line.needs_attention
    assert has_active_consent(patient=patient, purpose=PD)


def test_signing_a_newer_text_replaces_the_older_signature(patient):
    old = sign_in_account(patient, purpose=PD)
    ConsentDocument.objects.create(
        purpose=PD,
        version="2.0",
        language="ru",
        title="v2",
        body="Новый текст",
        published_at=timezone.now(),
        is_required=True,
    )

    new = sign_in_account(patient, purpose=PD)

    old.refresh_from_db()
    assert old.withdrawn_at is not None
    assert new.document_version == "2.0" and new.withdrawn_at is None
    assert Consent.objects.filter(patient=patient, purpose=PD, withdrawn_at=None).count() == 1
    line = next(line for line in consent_overview(patient=patient) if line.purpose == PD)
    assert line.state == STATE_ACTIVE


def test_a_missing_required_consent_needs_attention(patient):
    line = next(line for line in consent_overview(patient=patient) if line.purpose == PD)
    assert line.state == STATE_MISSING
    assert line.needs_attention
