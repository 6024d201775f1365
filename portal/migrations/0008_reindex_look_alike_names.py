"""Recompute the patients' blind indexes with the name normalisation that folds look-alike
letters across scripts and drops invisible characters (`portal.normalize.normalize_name`).

Names typed with a Latin "о" in a Cyrillic word, a zero-width space or a soft hyphen get the
index of the name they look like, so search and duplicate detection find them; most names
keep their indexes. Reversing computes the name indexes with the previous rule again (kept
here, as it was).
"""

import re
import unicodedata

from django.db import migrations, transaction


def reindex(apps, schema_editor):
    from portal.services.blind_indexes import blind_indexes_refresh

    blind_indexes_refresh(model=apps.get_model("portal", "Patient"))


def _previous_normalize_name(raw):
    text = unicodedata.normalize("NFKC", raw or "").casefold()
    text = text.replace("ё", "е").replace("‐", "-").replace("–", "-")
    return re.sub(r"\s+", " ", text).strip()


def reindex_with_previous_rule(apps, schema_editor):
    from portal.crypto import blind_index
    from portal.normalize import phone_last_digits

    patient_model = apps.get_model("portal", "Patient")
    with transaction.atomic():
        for patient in patient_model._base_manager.select_for_update().order_by("pk"):
            last, first = (
                _previous_normalize_name(patient.last_name),
                _previous_normalize_name(patient.first_name),
            )
            if patient.last_name and patient.first_name and patient.birth_date:
                key = f"{last}|{first}|{patient.birth_date.isoformat()}"
                patient.name_birth_bidx = blind_index("name+birth", key)
            if patient.phone and patient.last_name:
                key = f"{phone_last_digits(patient.phone)}|{last}"
                patient.last4_surname_bidx = blind_index("last4+surname", key)
            patient.save(update_fields=["name_birth_bidx", "last4_surname_bidx"])


class Migration(migrations.Migration):
    dependencies = [("portal", "0007_idempotency_without_pii")]

    operations = [migrations.RunPython(reindex, reindex_with_previous_rule)]
