"""The capability table and object access helpers of `portal.permissions`, role by role."""

import datetime
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import assign_perm

from portal import permissions
from portal.choices import PATIENT_ROLE, Role
from portal.models import Patient
from tests.factories import (
    ClinicFactory,
    FamilyLinkFactory,
    PatientFactory,
    StaffMembershipFactory,
    UserFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db


# --- Roles ---------------------------------------------------------------------------------------


def test_anonymous_has_no_role_no_capability_and_no_patients():
    anonymous = AnonymousUser()
    assert permissions.memberships_of(anonymous) == []
    assert not permissions.is_staff_member(anonymous)
    assert not permissions.is_patient(anonymous)
    assert permissions.user_roles(anonymous) == set()
    assert permissions.primary_role(anonymous) is None
    assert not permissions.has_capability(anonymous, "patient.search")
    assert permissions.clinic_ids_with(anonymous, "patient.search") == set()
    assert not permissions.patients_managed_by(anonymous).exists()
    with pytest.raises(PermissionDenied):
        permissions.require_capability(anonymous, "patient.search")


def test_a_user_without_profile_or_membership_is_nobody():
    user = UserFactory()
    assert not permissions.is_patient(user)
    assert permissions.user_roles(user) == set()
    assert permissions.primary_role(user) is None


def test_a_patient_has_the_patient_role_and_no_staff_capability(patient):
    assert permissions.is_patient(patient.user)
    assert permissions.user_roles(patient.user) == {PATIENT_ROLE}
    assert permissions.primary_role(patient.user) == PATIENT_ROLE
    assert not permissions.has_capability(patient.user, "patient.view_card")


def test_staff_who_are_also_patients_hold_both_roles_and_land_as_staff(clinic_a, patient):
    StaffMembershipFactory(user=patient.user, role=Role.DOCTOR, clinic=clinic_a)
    assert permissions.user_roles(patient.user) == {Role.DOCTOR, PATIENT_ROLE}
    assert permissions.primary_role(patient.user) == Role.DOCTOR


def test_the_home_page_follows_the_strongest_role(clinic_a, registrar_a):
    StaffMembershipFactory(user=registrar_a, role=Role.CLINIC_ADMIN, clinic=clinic_a)
    permissions.forget_memberships(registrar_a)
    assert permissions.primary_role(registrar_a) == Role.CLINIC_ADMIN


def test_memberships_are_read_once_until_forgotten(clinic_a, clinic_b, registrar_a):
    assert permissions.clinic_ids_with(registrar_a, "appointment.book") == {clinic_a.pk}
    StaffMembershipFactory(user=registrar_a, role=Role.REGISTRAR, clinic=clinic_b)
    # The cached list of this request still answers; a new request (or forgetting) sees more.
    assert permissions.clinic_ids_with(registrar_a, "appointment.book") == {clinic_a.pk}
    permissions.forget_memberships(registrar_a)
    assert permissions.clinic_ids_with(registrar_a, "appointment.book") == {
        clinic_a.pk,
        clinic_b.pk,
    }


def test_the_memberships_of_a_request_cost_one_query(registrar_a, django_assert_num_queries):
    permissions.forget_memberships(registrar_a)
    with django_assert_num_queries(1):
        for _ in range(3):
            assert permissions.has_capability(registrar_a, "patient.search")
            assert permissions.staff_roles(registrar_a) == {Role.REGISTRAR}


def test_forgetting_memberships_that_were_never_read_is_harmless(registrar_a):
    permissions.forget_memberships(registrar_a)
    permissions.forget_memberships(registrar_a)
    assert permissions.is_staff_member(registrar_a)


# --- Capabilities --------------------------------------------------------------------------------


def test_a_clinic_role_grants_its_capabilities_in_that_clinic_only(clinic_a, clinic_b, registrar_a):
    assert permissions.has_capability(registrar_a, "appointment.book", clinic_a)
    assert permissions.has_capability(registrar_a, "appointment.book", clinic_a.pk)
    assert permissions.has_capability(registrar_a, "appointment.book")
    assert not permissions.has_capability(registrar_a, "appointment.book", clinic_b)
    assert not permissions.has_capability(registrar_a, "catalogue.manage", clinic_a)
    permissions.require_capability(registrar_a, "appointment.book", clinic_a)
    with pytest.raises(PermissionDenied):
        permissions.require_capability(registrar_a, "appointment.book", clinic_b)


def test_a_network_wide_role_grants_its_capabilities_in_every_clinic(clinic_a, clinic_b, director):
    assert permissions.has_capability(director, "analytics.view", clinic_a)
    assert permissions.has_capability(director, "analytics.view", clinic_b.pk)
    assert permissions.clinic_ids_with(director, "analytics.view") is None
    assert not permissions.has_capability(director, "appointment.book")
    assert permissions.clinic_ids_with(director, "appointment.book") == set()


def test_clinic_ids_with_counts_only_roles_that_hold_the_capability(clinic_a, clinic_b):
    user = make_staff(Role.DOCTOR, clinic_a)
    StaffMembershipFactory(user=user, role=Role.REGISTRAR, clinic=clinic_b)
    # Doctors see schedules but do not book: only the registrar clinic books.
    assert permissions.clinic_ids_with(user, "appointment.book") == {clinic_b.pk}
    assert permissions.clinic_ids_with(user, "schedule.view") == {clinic_a.pk, clinic_b.pk}


def test_clinics_with_lists_active_clinics_in_scope(clinic_a, clinic_b, registrar_a, network_admin):
    closed = ClinicFactory(is_active=False)
    assert list(permissions.clinics_with(registrar_a, "appointment.book")) == [clinic_a]
    assert set(permissions.clinics_with(network_admin, "appointment.book")) == {clinic_a, clinic_b}
    assert closed not in permissions.clinics_with(network_admin, "appointment.book")


def test_every_capability_is_described_and_in_the_roles_table():
    table = permissions.render_roles_table()
    assert set(permissions.CAPABILITY_DESCRIPTIONS) == set(permissions.CAPABILITIES)
    for capability in permissions.CAPABILITIES:
        assert f"`{capability}`" in table
    # Header, rule and one line per capability; each line has a cell per role.
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(permissions.CAPABILITIES)
    assert all(line.count("|") == len(Role) + 2 for line in lines)
    outbox_line = next(line for line in lines if "`outbox.view`" in line)
    assert outbox_line.count("✓") == 1


# --- Patients ------------------------------------------------------------------------------------


def test_a_patient_manages_themselves_and_current_dependants_only(patient, dependant):
    former = PatientFactory()
    FamilyLinkFactory(guardian=patient, dependant=former, valid_until=datetime.date(2000, 1, 1))
    managed = set(permissions.patients_managed_by(patient.user))
    assert managed == {patient, dependant}
    assert permissions.can_act_for_patient(patient.user, dependant)
    assert not permissions.can_act_for_patient(patient.user, former)


def test_a_patient_opens_their_own_and_their_dependants_card(patient, dependant):
    assert permissions.get_patient_for_user(patient.user, patient.public_id) == patient
    got = permissions.get_patient_for_user(patient.user, dependant.public_id, action="change")
    assert got == dependant


def test_someone_elses_card_is_404_for_a_patient(patient, other_patient):
    with pytest.raises(Http404):
        permissions.get_patient_for_user(patient.user, other_patient.public_id)
    with pytest.raises(Http404):
        permissions.get_patient_for_user(patient.user, other_patient.public_id, action="change")


@pytest.mark.parametrize("public_id", [uuid.uuid4(), "not-a-uuid", None])
def test_unknown_or_malformed_ids_are_404(registrar_a, public_id):
    with pytest.raises(Http404):
        permissions.get_patient_for_user(registrar_a, public_id)


def test_an_anonymised_card_is_404_even_for_staff(network_admin):
    gone = PatientFactory()
    Patient.objects.filter(pk=gone.pk).update(anonymised_at=datetime.datetime.now(datetime.UTC))
    with pytest.raises(Http404):
        permissions.get_patient_for_user(network_admin, gone.public_id)


def test_a_registrar_views_and_changes_any_card_of_the_network(registrar_b, other_patient):
    assert permissions.get_patient_for_user(registrar_b, other_patient.public_id) == other_patient
    changed = permissions.get_patient_for_user(
        registrar_b, other_patient.public_id, action="change"
    )
    assert changed == other_patient


def test_staff_who_may_see_a_card_but_not_edit_it_get_403_for_a_change(head_nurse_a, patient):
    assert permissions.get_patient_for_user(head_nurse_a, patient.public_id) == patient
    with pytest.raises(PermissionDenied):
        permissions.get_patient_for_user(head_nurse_a, patient.public_id, action="change")


def test_staff_without_card_access_get_404(marketer, director, patient):
    for user in (marketer, director):
        with pytest.raises(Http404):
            permissions.get_patient_for_user(user, patient.public_id)
        with pytest.raises(Http404):
            permissions.get_patient_for_user(user, patient.public_id, action="change")


def test_a_guardian_object_permission_opens_one_card_for_viewing(other_patient, patient):
    auditor = UserFactory()
    assign_perm("portal.view_patient", auditor, other_patient)
    assert permissions.get_patient_for_user(auditor, other_patient.public_id) == other_patient
    # The grant is for that card only, and for viewing only.
    with pytest.raises(Http404):
        permissions.get_patient_for_user(auditor, other_patient.public_id, action="change")
    with pytest.raises(Http404):
        permissions.get_patient_for_user(auditor, patient.public_id)


def test_anonymous_gets_404_for_any_card(patient):
    with pytest.raises(Http404):
        permissions.get_patient_for_user(AnonymousUser(), patient.public_id)


def test_staff_pages_open_a_card_for_staff_with_the_capability(registrar_a, head_nurse_a, patient):
    assert permissions.get_patient_for_staff(registrar_a, patient.public_id) == patient
    edited = permissions.get_patient_for_staff(
        registrar_a, patient.public_id, capability="patient.update"
    )
    assert edited == patient
    with pytest.raises(PermissionDenied):
        permissions.get_patient_for_staff(
            head_nurse_a, patient.public_id, capability="patient.update"
        )
    with pytest.raises(Http404):
        permissions.get_patient_for_staff(registrar_a, uuid.uuid4())


def test_staff_pages_refuse_staff_without_the_capability_with_403(marketer, patient):
    with pytest.raises(PermissionDenied):
        permissions.get_patient_for_staff(marketer, patient.public_id)


def test_staff_pages_give_a_patient_404_for_others_and_403_for_their_own(patient, other_patient):
    with pytest.raises(Http404):
        permissions.get_patient_for_staff(patient.user, other_patient.public_id)
    with pytest.raises(PermissionDenied):
        permissions.get_patient_for_staff(patient.user, patient.public_id)
