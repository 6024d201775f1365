"""Admin for the network's reference data. Patients, consents and the audit trail are not
here on purpose: their writes go through services that validate and audit.

`count_phrase` words a list's count with the plural its number takes in Russian
(`portal/templatetags/admin_counts.py`)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from portal.models import Clinic, ConsentDocument, LegalEntity, StaffMembership, User


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d legal entity", "%(count)d legal entities", "count")
    list_display = ("short_name", "inn", "kpp", "vat_mode")
    search_fields = ("name", "short_name", "inn")


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d clinic", "%(count)d clinics", "count")
    list_display = ("name", "city", "timezone", "legal_entity", "is_active")
    list_filter = ("city", "is_active", "legal_entity")
    search_fields = ("name", "slug", "city")
    inlines = [StaffMembershipInline]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy(
        "%(count)d staff membership", "%(count)d staff memberships", "count"
    )
    list_display = ("user", "role", "clinic")
    list_filter = ("role", "clinic")
    autocomplete_fields = ("user",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Logins. Names of patients are not here: they live in the encrypted patient profile."""

    count_phrase = ngettext_lazy("%(count)d user", "%(count)d users", "count")
    ordering = ("email",)
    list_display = ("email", "display_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_demo")
    search_fields = ("email",)
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        (_("Profile"), {"fields": ("display_name", "preferred_language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [StaffMembershipInline]
    fk_name = "user"

    # The admin's history names the object by str(); a login's is its display name, which
    # is encrypted in portal_user and would sit in clear in django_admin_log. An unsaved copy
    # with only the primary key and public id is named by its public id instead.
    @staticmethod
    def _unnamed(user: User) -> User:
        return User(pk=user.pk, public_id=user.public_id)

    def log_addition(self, request, obj, message):
        return super().log_addition(request, self._unnamed(obj), message)

    def log_change(self, request, obj, message):
        return super().log_change(request, self._unnamed(obj), message)

    def log_deletions(self, request, queryset):
        return super().log_deletions(request, [self._unnamed(user) for user in queryset])


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    """A published text is never edited: a change is a new version (signatures point to it)."""

    count_phrase = ngettext_lazy(
        "%(count)d consent document", "%(count)d consent documents", "count"
    )
    list_display = ("title", "purpose", "version", "language", "published_at", "is_required")
    list_filter = ("purpose", "language")
    readonly_fields = ("sha256",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [field.name for field in self.model._meta.fields]
