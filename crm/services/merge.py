"""Merging two profiles of one person into one.

Every record that points at a patient — found through Django's Meta API
(`Patient._meta.get_fields()`), so a model added later is moved too — moves from the merged
profile to the survivor, in one transaction with the audit events. The merged profile stays as
a tombstone (`merged_into`), with blank blind indexes so no search finds it again.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import DuplicateStatus
from crm.errors import MergeRefused
from crm.models import DuplicateCandidate
from crm.services.activity import activity_recompute
from portal.choices import AuditAction, ConsentChannel
from portal.models import Consent, ContactPreference, FamilyLink, MessengerLink, Patient, User
from portal.services.audit import audit_record
from portal.services.patients import EDITABLE_FIELDS, OBJECT_TYPE, patient_update

# The profile fields a merge may take from either side.
MERGE_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != "home_clinic") + ("home_clinic",)


def patient_merge(
    *, actor: User, survivor: Patient, merged: Patient, take_from_merged: list[str]
) -> Patient:
    """Fold `merged` into `survivor`; `take_from_merged` names the fields whose value the
    survivor takes from the merged profile.

    Invariants: nothing that pointed at `merged` is lost or left behind (records that would
    break a uniqueness rule are reconciled: the stricter message preference wins, the newer
    consent of a purpose stays active and the older one is marked superseded, a repeated
    family link is kept once); both profiles are locked for the duration; all or nothing.
    """
    with transaction.atomic():
        pks = sorted([survivor.pk, merged.pk])
        locked = {
            p.pk: p for p in Patient.objects.select_for_update(of=("self",)).filter(pk__in=pks)
        }
        survivor, merged = locked.get(survivor.pk), locked.get(merged.pk)  # type: ignore[assignment]
        _check(survivor, merged)
        unknown = set(take_from_merged) - set(MERGE_FIELDS)
        if unknown:
            raise MergeRefused(_("Choose values only among the profile's fields."))
        changes = {name: getattr(merged, name) for name in take_from_merged}
        if merged.user_id is not None and survivor.user_id is not None:
            raise MergeRefused(
                _(
                    "Both profiles have their own portal account: the patient must keep one of "
                    "them before the profiles can be merged."
                )
            )
        moved = _move_relations(survivor, merged)
        user = merged.user
        merged.user, merged.merged_into, merged.merged_at = None, survivor, timezone.now()
        merged.save(update_fields=["user", "merged_into", "merged_at", "updated_at"])
        if user is not None:
            survivor.user = user
            survivor.save(update_fields=["user", "updated_at"])
            moved.append("user")
        if changes:
            patient_update(actor=actor, patient=survivor, **changes)
        DuplicateCandidate.objects.filter(patient_a_id=pks[0], patient_b_id=pks[1]).update(
            status=DuplicateStatus.MERGED, resolved_at=timezone.now()
        )
        # The visits moved without touching `updated_at`: rewrite both profiles' activity now.
        activity_recompute([survivor.pk, merged.pk])
        ids = [survivor.public_id, merged.public_id]
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=survivor.public_id,
            patient_ids=ids,
            changed_fields=[f"merged:{label}" for label in moved] or ["merged"],
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=merged.public_id,
            patient_ids=ids,
            changed_fields=["merged_into", "merged_at"],
        )
        return survivor


def _check(survivor: Patient | None, merged: Patient | None) -> None:
    if survivor is None or merged is None or survivor.pk == merged.pk:
        raise MergeRefused(_("Choose two different profiles."))
    for profile in (survivor, merged):
        if profile.merged_into_id is not None or profile.anonymised_at is not None:
            raise MergeRefused(_("A profile already merged or anonymised cannot be merged."))


def _move_relations(survivor: Patient, merged: Patient) -> list[str]:
    """Repoint every reverse relation of `merged` at `survivor`; the labels of what moved."""
    moved: list[str] = []
    # Hidden relations (related_name="+") are records of the patient too.
    for relation in Patient._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        if not (relation.one_to_many or relation.one_to_one):
            continue
        model = relation.related_model
        if not isinstance(model, type) or not issubclass(model, models.Model):
            continue
        fk = relation.field  # type: ignore[union-attr]
        rows = model._default_manager.filter(**{fk.name: merged})
        if not rows.exists():
            continue
        resolver = _RESOLVERS.get(model._meta.label, _move_generic)
        resolver(model, fk.name, survivor, merged)
        moved.append(f"{model._meta.label}.{fk.name}")
    return moved


def _move_generic(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    """Move the rows; a row that would break a uniqueness rule stops the merge (a model
    this module does not know how to reconcile yet)."""
    if _would_conflict(model, fk, survivor, merged):
        raise MergeRefused(
            _("Both profiles have a record “%(model)s” that cannot be combined automatically.")
            % {"model": model._meta.verbose_name}
        )
    model._default_manager.filter(**{fk: merged}).update(**{fk: survivor})


def _would_conflict(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> bool:
    field = model._meta.get_field(fk)
    if getattr(field, "unique", False):
        return model._default_manager.filter(**{fk: survivor}).exists()
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if not isinstance(constraint, models.UniqueConstraint) or fk not in fields:
            continue
        others = [name for name in fields if name != fk]
        condition = constraint.condition or Q()
        theirs = model._default_manager.filter(condition, **{fk: survivor}).values_list(*others)
        ours = model._default_manager.filter(condition, **{fk: merged}).values_list(*others)
        if set(theirs) & set(ours):
            return True
    return False


def _family(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    other = "dependant" if fk == "guardian" else "guardian"
    links = FamilyLink.objects.filter(**{fk: merged})
    # A link between the two profiles would become a link of a person to themselves.
    links.filter(**{other: survivor}).delete()
    existing = FamilyLink.objects.filter(**{fk: survivor}).values_list(f"{other}_id", flat=True)
    links.filter(**{f"{other}_id__in": list(existing)}).delete()
    links.update(**{fk: survivor})


def _consents(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    now = timezone.now()
    for consent in Consent.objects.filter(patient=merged, withdrawn_at__isnull=True):
        theirs = Consent.objects.filter(
            patient=survivor, purpose=consent.purpose, withdrawn_at__isnull=True
        ).first()
        if theirs is None:
            continue
        # Two signatures for one purpose: the newer stands, the older is superseded by it,
        # as when a patient signs the same consent again.
        older = consent if consent.signed_at <= theirs.signed_at else theirs
        older.withdrawn_at, older.withdrawal_channel = now, ConsentChannel.DESK
        older.save(update_fields=["withdrawn_at", "withdrawal_channel", "updated_at"])
    Consent.objects.filter(patient=merged).update(patient=survivor)


def _preferences(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    for preference in ContactPreference.objects.filter(patient=merged):
        theirs = ContactPreference.objects.filter(
            patient=survivor, channel=preference.channel
        ).first()
        if theirs is None:
            continue
        # A refusal given on either profile holds for the person.
        theirs.care = theirs.care and preference.care
        theirs.marketing = theirs.marketing and preference.marketing
        stops = [s for s in (theirs.stopped_at, preference.stopped_at) if s is not None]
        theirs.stopped_at = max(stops) if stops else None
        theirs.save(update_fields=["care", "marketing", "stopped_at", "updated_at"])
        preference.delete()
    ContactPreference.objects.filter(patient=merged).update(patient=survivor)


def _messenger(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    if MessengerLink.objects.filter(patient=survivor).exists():
        # One chat per patient: the survivor's stays; the other chat can be linked again.
        MessengerLink.objects.filter(patient=merged).delete()
    else:
        MessengerLink.objects.filter(patient=merged).update(patient=survivor)


def _candidates(model: type[models.Model], fk: str, survivor: Patient, merged: Patient) -> None:
    """Other pairs of the merged profile become pairs of the survivor (the pair being merged
    is closed by the caller and stays as the record of the decision)."""
    pair = Q(patient_a=survivor, patient_b=merged) | Q(patient_a=merged, patient_b=survivor)
    rows = DuplicateCandidate.objects.filter(**{fk: merged}).exclude(pair)
    for row in rows:
        other = row.patient_b_id if row.patient_a_id == merged.pk else row.patient_a_id
        low, high = sorted([survivor.pk, other])
        DuplicateCandidate.objects.get_or_create(
            patient_a_id=low,
            patient_b_id=high,
            defaults={"score": row.score, "reason": row.reason, "job": row.job},
        )
        row.delete()


_RESOLVERS: dict[str, Callable[[type[models.Model], str, Patient, Patient], None]] = {
    "portal.FamilyLink": _family,
    "portal.Consent": _consents,
    "portal.ContactPreference": _preferences,
    "portal.MessengerLink": _messenger,
    "crm.DuplicateCandidate": _candidates,
}
