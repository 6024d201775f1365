"""The activity facts behind segment counts and the funnel: they give the live definition's
figures on a fixed dataset, follow a visit made a minute ago and a consent signed or withdrawn
a moment ago without waiting for a refresh, and catch up on the next refresh."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from crm.models import ActivityState, PatientActivity, PatientSpecialty
from crm.selectors.funnel import funnel_report
from crm.selectors.segments import segment_count, segment_count_live
from crm.services.activity import activity_rebuild, activity_refresh
from crm.services.merge import patient_merge
from portal.choices import ConsentChannel, ConsentPurpose, SignatureMethod, SignerKind
from portal.consent_texts import ensure_consent_documents
from portal.models import Consent
from portal.services.consents import consent_sign, consent_withdraw
from scheduling.models import Appointment
from tests.crm.test_funnel import PERIOD, dataset, rows_of  # noqa: F401 - a fixture
from tests.crm.test_segments import people, visit  # noqa: F401 - a fixture
from tests.factories import PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(minutes=10)


def rule_sets(people):  # noqa: F811
    cardio = people["cardio"].pk
    return [
        {},
        {"inactive_days": 90},
        {"inactive_days": 5},
        {"specialty_id": cardio},
        {"min_no_shows": 1},
        {"min_no_shows": 2},
        {"min_no_shows": 3},
        {"min_spend": "4000"},
        {"min_spend": "900"},
        {"marketing_consent": True},
        {"inactive_days": 90, "marketing_consent": True},
        {"age_from": 30},
        {"age_to": 40},
        {"age_from": 18, "age_to": 65, "min_spend": "500"},
    ]


def assert_facts_match_live(people, clinics):  # noqa: F811
    for clinic in (None, *clinics):
        for rules in rule_sets(people):
            live = segment_count_live(rules=rules, clinic=clinic)
            assert segment_count(rules=rules, clinic=clinic) == live, (rules, clinic)


def test_facts_give_the_live_counts(people, clinic_a, clinic_b):  # noqa: F811
    activity_rebuild(now=timezone.now() + LATER)
    # The facts are read: every patient not anonymised has a network row.
    assert PatientActivity.objects.filter(clinic__isnull=True).count() == 3
    assert PatientSpecialty.objects.filter(clinic__isnull=True).count() == 2
    assert segment_count(rules={"inactive_days": 90}) == 1
    assert segment_count(rules={"min_no_shows": 2}) == 1
    assert segment_count(rules={}, clinic=clinic_a) == 1
    assert_facts_match_live(people, [clinic_a, clinic_b])


def test_a_visit_made_a_minute_ago_counts_at_once(people, clinic_a, clinic_b):  # noqa: F811
    activity_rebuild(now=timezone.now())
    before = segment_count(rules={"inactive_days": 90})
    # The lapsed patient came back a minute ago: no longer inactive, before any refresh.
    came = visit(people["lapsed"], clinic_a, ServiceFactory(), days_ago=0)
    came.updated_at = timezone.now() - datetime.timedelta(minutes=1)
    came.save(update_fields=["updated_at"])
    assert segment_count(rules={"inactive_days": 90}) == before - 1
    assert_facts_match_live(people, [clinic_a, clinic_b])
    # The refresh folds it into the facts; later reads no longer need the live part.
    activity_refresh(now=timezone.now() + LATER)
    row = PatientActivity.objects.get(patient=people["lapsed"], clinic__isnull=True)
    assert row.attended == 2
    assert segment_count(rules={"inactive_days": 90}) == before - 1
    assert_facts_match_live(people, [clinic_a, clinic_b])


def test_counts_read_the_facts_until_a_change_shows(people, clinic_a):  # noqa: F811
    activity_rebuild(now=timezone.now() + LATER)
    # A write that bypasses `updated_at` is invisible to the facts (they are what is read)...
    Appointment.objects.filter(patient=people["recent"], status="no_show").update(
        status="completed"
    )
    assert segment_count(rules={"min_no_shows": 1}) == 1
    assert segment_count_live(rules={"min_no_shows": 1}) == 0
    # ...and a rebuild puts it right.
    activity_rebuild(now=timezone.now() + LATER)
    assert segment_count(rules={"min_no_shows": 1}) == 0


def sign_advertising(patient, registrar):
    return consent_sign(
        actor=registrar,
        patient=patient,
        purpose=ConsentPurpose.ADVERTISING,
        signer_kind=SignerKind.PATIENT,
        channel=ConsentChannel.DESK,
        signature_method=SignatureMethod.HANDWRITTEN,
        language="ru",
    )


def agrees(patient):
    """The consent to advertising on each of the patient's fact rows."""
    return set(
        PatientActivity.objects.filter(patient=patient).values_list("marketing_consent", flat=True)
    )


def test_a_consent_signed_or_withdrawn_counts_at_once(people, clinic_a, clinic_b, registrar_a):  # noqa: F811
    ensure_consent_documents()
    activity_rebuild(now=timezone.now())
    consenting = {"marketing_consent": True}
    lapsed = {"inactive_days": 90, "marketing_consent": True}
    assert segment_count(rules=consenting) == 1
    assert agrees(people["recent"]) == {False}
    # Signed at the desk a moment ago: on the facts in the same transaction, no refresh.
    sign_advertising(people["recent"], registrar_a)
    assert agrees(people["recent"]) == {True}
    assert segment_count(rules=consenting) == 2
    assert segment_count(rules=consenting, clinic=clinic_b) == 1
    assert_facts_match_live(people, [clinic_a, clinic_b])
    # Withdrawn in one click: out of the segment at once.
    assert segment_count(rules=lapsed) == 1
    consent_withdraw(
        actor=None,
        patient=people["lapsed"],
        purpose=ConsentPurpose.ADVERTISING,
        channel=ConsentChannel.WEB,
    )
    assert agrees(people["lapsed"]) == {False}
    assert segment_count(rules=lapsed) == 0
    assert segment_count(rules=consenting) == 1
    assert_facts_match_live(people, [clinic_a, clinic_b])
    # Another purpose leaves the advertising consent alone.
    consent_withdraw(
        actor=None,
        patient=people["recent"],
        purpose=ConsentPurpose.ADVERTISING,
        channel=ConsentChannel.WEB,
    )
    sign_advertising(people["recent"], registrar_a)
    consent_sign(
        actor=registrar_a,
        patient=people["recent"],
        purpose=ConsentPurpose.PERSONAL_DATA,
        signer_kind=SignerKind.PATIENT,
        channel=ConsentChannel.DESK,
        signature_method=SignatureMethod.HANDWRITTEN,
        language="ru",
    )
    assert agrees(people["recent"]) == {True}
    # A refresh reads the same from the consents.
    activity_refresh(now=timezone.now() + LATER)
    assert agrees(people["recent"]) == {True} and agrees(people["lapsed"]) == {False}
    assert_facts_match_live(people, [clinic_a, clinic_b])


def test_a_signature_rolled_back_leaves_the_facts(people, registrar_a):  # noqa: F811
    ensure_consent_documents()
    activity_rebuild(now=timezone.now())
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_advertising(people["recent"], registrar_a)
        assert agrees(people["recent"]) == {True}
        raise RuntimeError
    assert agrees(people["recent"]) == {False}
    assert segment_count(rules={"marketing_consent": True}) == 1


def test_a_refresh_catches_consents_changed_around_the_service(people, clinic_a, clinic_b):  # noqa: F811
    activity_rebuild(now=timezone.now())
    # A data fix that bypasses the consents service: the facts still say yes...
    Consent.objects.filter(patient=people["lapsed"]).update(
        withdrawn_at=timezone.now(), updated_at=timezone.now()
    )
    assert segment_count(rules={"marketing_consent": True}) == 1
    assert segment_count_live(rules={"marketing_consent": True}) == 0
    # ...until the next refresh, which reads consents changed since its watermark.
    activity_refresh(now=timezone.now() + LATER)
    assert agrees(people["lapsed"]) == {False}
    assert_facts_match_live(people, [clinic_a, clinic_b])


def test_age_band_by_year_of_birth(clinic_a):
    today = timezone.localdate()
    for age in (17, 18, 40, 65, 66):
        PatientFactory(birth_date=datetime.date(today.year - age, 6, 15), home_clinic=clinic_a)
    PatientFactory(birth_date=None)
    rules = {"age_from": 18, "age_to": 65}
    assert segment_count(rules=rules) == 3  # live, before any refresh
    activity_rebuild(now=timezone.now() + LATER)
    row = PatientActivity.objects.filter(clinic__isnull=True, birth_year__isnull=False).first()
    assert row is not None and 1900 < row.birth_year <= today.year
    assert segment_count(rules=rules) == 3
    assert segment_count(rules=rules, clinic=clinic_a) == 3
    assert segment_count(rules={"age_from": 66}) == 1
    assert segment_count(rules={"age_to": 17}) == 1
    assert segment_count(rules={}) == 6  # no band: those without a birth date count too


def test_refresh_follows_profiles_and_merges(people, clinic_a, clinic_b, marketer):  # noqa: F811
    activity_rebuild(now=timezone.now())
    profile = people["recent"]
    profile.home_clinic = clinic_a
    profile.save()
    activity_refresh(now=timezone.now() + LATER)
    assert PatientActivity.objects.filter(patient=profile, clinic=clinic_a).exists()
    merged = PatientFactory()
    visit(merged, clinic_b, ServiceFactory(), days_ago=400, status="no_show")
    activity_refresh(now=timezone.now() + LATER)
    patient_merge(survivor=profile, merged=merged, actor=marketer, take_from_merged=[])
    row = PatientActivity.objects.get(patient=profile, clinic__isnull=True)
    assert row.no_shows == 3
    assert not PatientActivity.objects.filter(patient=merged).exists()
    assert_facts_match_live(people, [clinic_a, clinic_b])


def test_funnel_from_kept_outcomes_equals_the_live_one(dataset, marketer):  # noqa: F811
    live = {
        touch: rows_of(funnel_report(user=marketer, touch=touch, **PERIOD))
        for touch in ("first", "last")
    }
    activity_rebuild(now=timezone.now() + LATER)
    assert dataset["a"].__class__.objects.filter(outcome_attended=True).count() == 2
    for touch in ("first", "last"):
        assert rows_of(funnel_report(user=marketer, touch=touch, **PERIOD)) == live[touch]
    # The booked visit of lead b is completed a minute ago: counted before any refresh.
    visit_b = dataset["b"].booked_appointment
    visit_b.status = "completed"
    visit_b.updated_at = timezone.now() - datetime.timedelta(minutes=1)
    visit_b.save(update_fields=["status", "updated_at"])
    ActivityState.objects.update(watermark=timezone.now())  # as if a refresh just ran
    funnel = rows_of(funnel_report(user=marketer, **PERIOD))
    assert funnel[("yandex", "checkup")][:4] == (3, 2, 2, Decimal("5000"))
    activity_refresh(now=timezone.now() + LATER)
    assert rows_of(funnel_report(user=marketer, **PERIOD)) == funnel
