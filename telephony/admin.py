"""Admin for telephony accounts and lines (network admins set them up). A secret is typed in
and never shown back; calls and callbacks are read-only here and show no caller's number."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from telephony.models import Call, CallbackRequest, LineAnswerer, TelephonyAccount, TelephonyLine


class TelephonyAccountForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("shared secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the secret already set."),
    )

    class Meta:
        model = TelephonyAccount
        fields = ("name", "provider", "api_key", "secret", "is_active")

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        if secret:
            return secret
        if self.instance.pk and self.instance.secret:
            return self.instance.secret
        raise forms.ValidationError(_("Enter the shared secret."))


class TelephonyLineInline(admin.TabularInline):
    model = TelephonyLine
    extra = 0
    fields = ("name", "number", "clinic", "is_active")


@admin.register(TelephonyAccount)
class TelephonyAccountAdmin(admin.ModelAdmin):
    form = TelephonyAccountForm
    list_display = ("name", "provider", "public_id", "is_active")
    list_filter = ("provider", "is_active")
    readonly_fields = ("public_id",)
    inlines = [TelephonyLineInline]


class LineAnswererInline(admin.TabularInline):
    model = LineAnswerer
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(TelephonyLine)
class TelephonyLineAdmin(admin.ModelAdmin):
    list_display = ("name", "number", "clinic", "account", "is_active")
    list_filter = ("clinic", "is_active")
    search_fields = ("name", "number")
    inlines = [LineAnswererInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "line", "state", "answered_at", "ended_at", "missed")
    list_filter = ("state", "missed", "line__clinic")
    fields = (
        "public_id",
        "line",
        "direction",
        "state",
        "started_at",
        "answered_at",
        "ended_at",
        "missed",
        "extension",
        "answered_by",
    )


@admin.register(CallbackRequest)
class CallbackRequestAdmin(ReadOnlyAdmin):
    list_display = ("due_at", "clinic", "missed_calls", "done_at")
    list_filter = ("clinic",)
    fields = ("public_id", "clinic", "due_at", "missed_calls", "done_at", "done_by")
