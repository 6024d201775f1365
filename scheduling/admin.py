"""Admin for the catalogue and schedules. Appointments are read-only here: every change of an
appointment goes through `scheduling.services.booking` so it leaves its trail.

`count_phrase` words a list's count with the plural its number takes in Russian
(`portal/templatetags/admin_counts.py`)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from scheduling import models


@admin.register(models.Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d specialty", "%(count)d specialties", "count")
    list_display = ("name", "slug")
    search_fields = ("name",)


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d service", "%(count)d services", "count")
    list_display = ("name", "specialty", "duration_minutes", "price", "room_kind", "is_active")
    list_filter = ("specialty", "is_active")
    search_fields = ("name", "code")
    filter_horizontal = ("equipment_types",)


@admin.register(models.Doctor)
class DoctorAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d doctor", "%(count)d doctors", "count")
    list_display = ("name_column", "registry_id", "is_active")
    search_fields = ("last_name", "first_name")
    filter_horizontal = ("specialties", "clinics", "services")
    raw_id_fields = ("user",)

    @admin.display(description=_("Doctor's name"), ordering="last_name")
    def name_column(self, doctor: models.Doctor) -> str:
        return doctor.full_name


@admin.register(models.EquipmentType)
class EquipmentTypeAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d equipment type", "%(count)d equipment types", "count")


class ClinicResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "clinic", "is_active")
    list_filter = ("clinic",)


@admin.register(models.Room)
class RoomAdmin(ClinicResourceAdmin):
    count_phrase = ngettext_lazy("%(count)d room", "%(count)d rooms", "count")


@admin.register(models.Equipment)
class EquipmentAdmin(ClinicResourceAdmin):
    count_phrase = ngettext_lazy(
        "%(count)d piece of equipment", "%(count)d pieces of equipment", "count"
    )


@admin.register(models.ScheduleRule)
class ScheduleRuleAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d schedule rule", "%(count)d schedule rules", "count")
    list_display = ("doctor", "clinic", "weekday", "start_time", "end_time", "slot_step_minutes")
    list_filter = ("clinic", "weekday")
    raw_id_fields = ("doctor", "room")


@admin.register(models.ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy(
        "%(count)d schedule exception", "%(count)d schedule exceptions", "count"
    )
    list_display = ("doctor", "kind", "date_from", "date_to", "clinic")
    list_filter = ("clinic", "kind")


@admin.register(models.Substitution)
class SubstitutionAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d substitution", "%(count)d substitutions", "count")
    list_display = ("date", "clinic", "absent_doctor", "substitute")
    list_filter = ("clinic",)


@admin.register(models.LeaveRequest)
class LeaveRequestAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d leave request", "%(count)d leave requests", "count")
    list_display = ("doctor", "kind", "date_from", "date_to", "clinic", "substitute", "status")
    list_filter = ("status", "kind", "clinic")
    readonly_fields = ("doctor", "requested_by", "decided_by", "decided_at")

    def has_add_permission(self, request):
        # Doctors ask from their day page; the admin only reads and decides.
        return False


@admin.register(models.BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d booking policy", "%(count)d booking policies", "count")
    list_display = ("clinic", "mode", "min_notice_minutes", "horizon_days")
    list_filter = ("clinic", "mode")


@admin.register(models.Quota)
class QuotaAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d quota", "%(count)d quotas", "count")
    list_display = ("clinic", "channel", "doctor", "service", "limit")
    list_filter = ("clinic", "channel")


@admin.register(models.Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    count_phrase = ngettext_lazy("%(count)d appointment", "%(count)d appointments", "count")
    list_display = ("public_id", "clinic", "doctor", "starts_at", "status", "channel")
    list_filter = ("clinic", "status", "channel")
    date_hierarchy = "starts_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
