"""The patient's own account: profile, family (dependants) and consents.

Every page is scoped through `patients_managed_by`: a patient reaches their own profile and
their dependants', and anyone else's id answers 404. Staff without a patient profile get 403 on
the account pages (they are not patients) and 404 on a patient's id (no card browsing here).
Forms post and redirect; htmx (hx-boost) only makes them quicker.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import permissions
from portal.choices import ConsentChannel, ConsentPurpose, SignatureMethod, SignerKind
from portal.forms.account import (
    LINK_FIELDS,
    ConsentSignForm,
    DependantForm,
    ProfileForm,
    apply_service_errors,
)
from portal.models import Patient
from portal.normalize import format_phone
from portal.selectors.consents import consent_overview
from portal.selectors.family import dependant_links, family_link, guardian_links
from portal.services.consents import (
    CodeAttemptsExceeded,
    CodeChallenge,
    CodeError,
    ConsentError,
    consent_code_send,
    consent_sign,
    consent_withdraw,
)
from portal.services.family import FamilyError, family_add_dependant, family_unlink
from portal.services.patients import patient_update

CHALLENGE_KEY = "consent_code_challenge"
PROFILE_FIELDS = tuple(ProfileForm.base_fields)


def patient_required(view):
    """Signed-in patients only: staff without a profile get 403, others go to onboarding."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not permissions.is_patient(request.user):
            if permissions.is_staff_member(request.user):
                raise PermissionDenied
            try:
                return redirect(reverse("portal:onboarding"))
            except NoReverseMatch:
                raise Http404 from None
        return view(request, request.user.patient, *args, **kwargs)

    return wrapped


def managed_dependant(me: Patient, user, public_id) -> Patient:
    """A dependant `user` may act for (404 for anyone else, including unknown ids)."""
    return get_object_or_404(
        permissions.patients_managed_by(user).exclude(pk=me.pk),
        public_id=public_id,
        anonymised_at__isnull=True,
    )


def _person(me: Patient, user, public_id) -> Patient:
    """Self or a dependant, by public id (a malformed id is a 404, like a foreign one)."""
    if public_id is None:
        return me
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    if public_id == me.public_id:
        return me
    return managed_dependant(me, user, public_id)


def _language() -> str:
    return translation.get_language() or "ru"


# --- Profile -------------------------------------------------------------------------------


@patient_required
def profile(request, me: Patient):
    lines = consent_overview(patient=me, language=_language())
    return render(
        request,
        "portal/account/profile.html",
        {
            "person": me,
            "is_self": True,
            "links": dependant_links(patient=me),
            "attention": [line for line in lines if line.needs_attention],
        },
    )


def _edit(request, me: Patient, person: Patient, *, done_url: str):
    initial = {name: getattr(person, name) for name in PROFILE_FIELDS}
    initial["phone"] = format_phone(person.phone)  # readable; normalised again on save
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient_update(actor=request.user, patient=person, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(done_url)
    return render(
        request,
        "portal/account/profile_form.html",
        {"form": form, "person": person, "is_self": person.pk == me.pk, "cancel_url": done_url},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def profile_edit(request, me: Patient):
    return _edit(request, me, me, done_url=reverse("portal:profile"))


# --- Family --------------------------------------------------------------------------------


@patient_required
def family(request, me: Patient):
    guardians = guardian_links(patient=me)
    return render(
        request,
        "portal/account/family.html",
        {"person": me, "links": dependant_links(patient=me), "guardian_links": guardians},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def family_add(request, me: Patient):
    form = DependantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        link_fields = {name: data.pop(name) for name in LINK_FIELDS}
        try:
            link = family_add_dependant(actor=request.user, guardian=me, **link_fields, **data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except FamilyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("%(name)s is now in your family.") % {"name": link.dependant.short_name}
            )
            return redirect("portal:dependant", public_id=link.dependant.public_id)
    return render(request, "portal/account/family_add.html", {"form": form, "person": me})


@patient_required
def dependant(request, me: Patient, public_id):
    person = managed_dependant(me, request.user, public_id)
    link = family_link(guardian=me, dependant=person)
    lines = consent_overview(patient=person, language=_language())
    return render(
        request,
        "portal/account/dependant.html",
        {"person": person, "link": link, "lines": lines, "is_self": False},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def dependant_edit(request, me: Patient, public_id):
    person = managed_dependant(me, request.user, public_id)
    return _edit(request, me, person, done_url=reverse("portal:dependant", args=[person.public_id]))


@require_POST
@patient_required
def dependant_unlink(request, me: Patient, public_id):
    person = managed_dependant(me, request.user, public_id)
    try:
        family_unlink(actor=request.user, guardian=me, dependant=person)
    except FamilyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(name)s was removed from your family.") % {"name": person.short_name}
        )
    return redirect("portal:family")


# --- Consents ------------------------------------------------------------------------------


def _purpose_or_404(purpose: str) -> str:
    if purpose not in ConsentPurpose.values:
        raise Http404
    return purpose


def _consents_url(person: Patient, me: Patient) -> str:
    url = reverse("portal:consents")
    return url if person.pk == me.pk else f"{url}?patient={person.public_id}"


@patient_required
def consents(request, me: Patient):
    person = _person(me, request.user, request.GET.get("patient") or None)
    people = [me, *(link.dependant for link in dependant_links(patient=me))]
    return render(
        request,
        "portal/account/consents.html",
        {
            "person": person,
            "people": people if len(people) > 1 else [],
            "lines": consent_overview(patient=person, language=_language()),
            "is_self": person.pk == me.pk,
        },
    )


def _pending_challenge(request, person: Patient, purpose: str) -> CodeChallenge | None:
    challenge = request.session.get(CHALLENGE_KEY)
    if not challenge:
        return None
    same = challenge.get("patient") == str(person.public_id) and challenge.get("purpose") == purpose
    return challenge if same else None


@require_http_methods(["GET", "POST"])
@patient_required
def consent_sign_page(request, me: Patient, public_id, purpose):
    person = _person(me, request.user, public_id)
    purpose = _purpose_or_404(purpose)
    line = next(
        line
        for line in consent_overview(patient=person, language=_language())
        if line.purpose == purpose
    )
    # The signer is always the signed-in patient: for themselves, or as a representative.
    signer = me
    signer_kind = SignerKind.PATIENT if person.pk == me.pk else SignerKind.REPRESENTATIVE
    by_sms = bool(signer.phone)
    challenge = _pending_challenge(request, person, purpose) if by_sms else None
    action = request.POST.get("action", "")
    form = ConsentSignForm(
        request.POST if action in ("confirm", "account") else None, needs_code=challenge is not None
    )
    done_url = _consents_url(person, me)

    if request.method == "POST" and action == "send" and by_sms:
        try:
            request.session[CHALLENGE_KEY] = consent_code_send(
                actor=request.user,
                patient=person,
                purpose=purpose,
                signer=signer,
                previous=request.session.get(CHALLENGE_KEY),
            )
        except ConsentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("We sent a code by SMS."))
        return redirect(request.path)

    if request.method == "POST" and form.is_valid():
        method = SignatureMethod.SMS_CODE if by_sms else SignatureMethod.ACCOUNT_CONFIRMATION
        try:
            consent_sign(
                actor=request.user,
                patient=person,
                purpose=purpose,
                signer_kind=signer_kind,
                representative=signer if signer_kind == SignerKind.REPRESENTATIVE else None,
                channel=ConsentChannel.WEB,
                signature_method=method,
                language=_language(),
                code_challenge=challenge,
                code=form.cleaned_data.get("code", ""),
            )
        except CodeError as exc:
            # The attempt counter lives in the challenge: keep it, or drop a burnt one.
            if isinstance(exc, CodeAttemptsExceeded):
                request.session.pop(CHALLENGE_KEY, None)
            request.session.modified = True
            form.add_error("code" if "code" in form.fields else None, exc.message)
        except ConsentError as exc:
            messages.error(request, exc.message)
            return redirect(done_url)
        else:
            request.session.pop(CHALLENGE_KEY, None)
            messages.success(request, _("Consent signed: %(title)s.") % {"title": line.label})
            return redirect(done_url)

    return render(
        request,
        "portal/account/consent_sign.html",
        {
            "person": person,
            "is_self": person.pk == me.pk,
            "line": line,
            "form": form,
            "by_sms": by_sms,
            "challenge": challenge,
            "signer": signer,
            "done_url": done_url,
        },
    )


@require_POST
@patient_required
def consent_withdraw_view(request, me: Patient, public_id, purpose):
    person = _person(me, request.user, public_id)
    purpose = _purpose_or_404(purpose)
    error = None
    try:
        consent_withdraw(
            actor=request.user, patient=person, purpose=purpose, channel=ConsentChannel.WEB
        )
    except ConsentError as exc:
        error = exc.message
    if request.htmx:
        line = next(
            line
            for line in consent_overview(patient=person, language=_language())
            if line.purpose == purpose
        )
        note = error or _("Consent withdrawn.")
        return render(
            request,
            "portal/htmx/consent_card.html",
            {"line": line, "person": person, "note": note, "note_is_error": bool(error)},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Consent withdrawn."))
    return redirect(_consents_url(person, me))
