"""Input and output serializers of the portal API (auth token, me, patients)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.choices import IdDocumentType, Sex
from portal.models import ApiToken, Patient


class TokenInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(max_length=64, required=False, allow_blank=True)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send as `Authorization: Token <token>`. Shown once: only a digest is kept.")
    )
    id = serializers.UUIDField(
        source="public_id", help_text=_("Names this token in the list of your API tokens.")
    )
    expiry = serializers.DateTimeField(allow_null=True)


class ApiTokenOutput(serializers.Serializer):
    """One API sign-in (a device) of the caller; the token itself is never shown again."""

    id = serializers.UUIDField(source="public_id")
    # DRF's serializer metaclass moves declared fields out of the class, so this field does not
    # shadow Field.label at run time; the stubs cannot see that.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text=_("The client that signed in, from its user agent.")
    )
    created = serializers.DateTimeField()
    last_used = serializers.DateTimeField(source="last_used_at", allow_null=True)
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(
        help_text=_("True for the token this request was made with.")
    )

    def get_current(self, token: ApiToken) -> bool:
        return token.pk == self.context.get("current")


class MembershipOutput(serializers.Serializer):
    role = serializers.CharField()
    clinic = serializers.UUIDField(source="clinic.public_id", allow_null=True, default=None)


class PatientBriefOutput(serializers.Serializer):
    """A patient as their own account shows them (no staff-only fields)."""

    id = serializers.UUIDField(source="public_id")
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class DependantOutput(serializers.Serializer):
    """A dependant as their guardian's account shows them, read from the family link."""

    id = serializers.UUIDField(source="dependant.public_id")
    last_name = serializers.CharField(source="dependant.last_name")
    first_name = serializers.CharField(source="dependant.first_name")
    middle_name = serializers.CharField(source="dependant.middle_name")
    birth_date = serializers.DateField(source="dependant.birth_date", allow_null=True)
    relation = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField(allow_null=True)
    display_name = serializers.CharField()
    language = serializers.CharField(source="preferred_language")
    roles = serializers.ListField(child=serializers.CharField())
    memberships = MembershipOutput(many=True)
    patient = PatientBriefOutput(allow_null=True)
    dependants = DependantOutput(many=True)


class PatientSearchInput(serializers.Serializer):
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    birth_date = serializers.DateField(required=False, allow_null=True)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text=_("Last 4 digits of the phone and the surname, e.g. `1234 Ivanov`."),
    )
    document = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=_("An ID document number in any spacing, e.g. `4510 123456`."),
    )


class PatientOutput(serializers.Serializer):
    """A patient as staff see them in search results and after creating them."""

    id = serializers.UUIDField(source="public_id")
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    home_clinic = serializers.UUIDField(
        source="home_clinic.public_id", allow_null=True, default=None
    )


class RelativeOutput(serializers.Serializer):
    """A guardian or dependant as a staff card lists them."""

    id = serializers.UUIDField(source="public_id")
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class GuardianLinkOutput(serializers.Serializer):
    guardian = RelativeOutput()
    relation = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)


class DependantLinkOutput(serializers.Serializer):
    dependant = RelativeOutput()
    relation = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)


class ConsentLineOutput(serializers.Serializer):
    purpose = serializers.CharField()
    given = serializers.SerializerMethodField()
    signed_at = serializers.SerializerMethodField()
    document_version = serializers.SerializerMethodField()

    def get_given(self, line: Any) -> bool:
        return line.consent is not None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_signed_at(self, line: Any) -> str | None:
        return line.consent.signed_at.isoformat() if line.consent else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_document_version(self, line: Any) -> str | None:
        return line.consent.document_version if line.consent else None


class PatientProfileOutput(PatientOutput):
    """Every field of the profile, as the staff card shows it."""

    address = serializers.CharField()
    id_document_type = serializers.CharField()
    id_document_number = serializers.CharField()
    snils = serializers.CharField()
    oms_policy = serializers.CharField()
    dms_policy = serializers.CharField()
    dms_insurer = serializers.CharField()
    notes = serializers.CharField()


class PatientCardOutput(serializers.Serializer):
    """The staff card: the profile, the family it lists and the state of the consents."""

    patient = PatientProfileOutput()
    guardians = GuardianLinkOutput(source="guardian_links", many=True)
    dependants = DependantLinkOutput(source="dependant_links", many=True)
    consents = ConsentLineOutput(many=True)


class DuplicateOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="short_name")
    birth_date = serializers.DateField(allow_null=True)


class PatientCreateInput(serializers.Serializer):
    """Values are normalised and validated by `portal.services.patients.clean_patient_fields`."""

    last_name = serializers.CharField(max_length=100)
    first_name = serializers.CharField(max_length=100)
    middle_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    id_document_type = serializers.ChoiceField(
        choices=IdDocumentType.choices, required=False, allow_blank=True
    )
    id_document_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    oms_policy = serializers.CharField(max_length=20, required=False, allow_blank=True)
    snils = serializers.CharField(max_length=14, required=False, allow_blank=True)
    home_clinic = serializers.UUIDField(required=False, allow_null=True)
    confirm_duplicates = serializers.BooleanField(
        default=False,
        help_text=_("Create even though profiles with the same phone, e-mail or name exist."),
    )


class PatientCreateOutput(PatientOutput):
    # The possible duplicates come in the context: they are found about the patient, not on it.
    duplicates = serializers.SerializerMethodField(help_text=_("Profiles that look like this one."))

    @extend_schema_field(DuplicateOutput(many=True))
    def get_duplicates(self, patient: Patient) -> list[dict[str, Any]]:
        return [DuplicateOutput(found).data for found in self.context["duplicates"]]
