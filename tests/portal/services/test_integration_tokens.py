"""Issuing and revoking integration tokens: hashed at rest, a login of their own, audited."""

import hashlib

import pytest

from portal.choices import IntegrationScope, Role
from portal.models import AuditEvent, IntegrationToken, StaffMembership
from portal.services.integration_tokens import (
    TokenRefused,
    integration_token_check,
    integration_token_issue,
    integration_token_revoke,
)

pytestmark = pytest.mark.django_db


def issue(actor=None, **kwargs):
    values = {"name": "Connector", "scopes": [IntegrationScope.FHIR_READ], "clinic": None}
    values.update(kwargs)
    return integration_token_issue(expires_at=None, actor=actor, **values)


def test_only_the_digest_is_stored(clinic_a):
    row, token = issue(clinic=clinic_a)
    stored = IntegrationToken.objects.filter(pk=row.pk).values().get()
    assert token not in {str(value) for value in stored.values()}
    assert stored["digest"] == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(stored["prefix"]) and len(stored["prefix"]) < len(token) // 3
    assert integration_token_check(token).pk == row.pk


def test_a_clinic_token_acts_as_a_registrar_there_only(clinic_a, clinic_b):
    row, _token = issue(clinic=clinic_a)
    memberships = StaffMembership.objects.filter(user=row.login)
    assert [(m.role, m.clinic_id) for m in memberships] == [(Role.REGISTRAR, clinic_a.pk)]
    assert not row.login.has_usable_password()


def test_a_network_token_reaches_every_active_clinic(clinic_a, clinic_b):
    row, _token = issue()
    clinics = set(StaffMembership.objects.filter(user=row.login).values_list("clinic", flat=True))
    assert clinics == {clinic_a.pk, clinic_b.pk}


def test_a_token_needs_a_known_scope(clinic_a):
    with pytest.raises(ValueError):
        issue(clinic=clinic_a, scopes=["admin"])
    assert not IntegrationToken.objects.exists()


def test_issue_and_revoke_are_audited_and_revoking_twice_changes_nothing(network_admin, clinic_a):
    row, token = issue(actor=network_admin, clinic=clinic_a)
    assert integration_token_revoke(token=row, actor=network_admin) is True
    assert integration_token_revoke(token=row, actor=network_admin) is False
    events = AuditEvent.objects.filter(object_type="integration_token", actor_id=network_admin.pk)
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]
    row.login.refresh_from_db()
    assert row.login.is_active is False
    with pytest.raises(TokenRefused) as refused:
        integration_token_check(token)
    assert refused.value.reason == "revoked"


def test_a_login_deactivated_elsewhere_stops_the_token(clinic_a):
    row, token = issue(clinic=clinic_a)
    row.login.is_active = False
    row.login.save(update_fields=["is_active"])
    with pytest.raises(TokenRefused):
        integration_token_check(token)


def test_use_is_written_at_most_once_a_minute(clinic_a, django_assert_num_queries):
    _row, token = issue(clinic=clinic_a)
    integration_token_check(token)
    with django_assert_num_queries(1):
        integration_token_check(token)
