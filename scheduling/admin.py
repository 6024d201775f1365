"""Admin for the catalogue and schedules. Appointments are read-only here: every change of an
appointment goes through `scheduling.services.booking` so it leaves its trail."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduling import models


@admin.register(models.Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "specialty", "duration_minutes", "price", "room_kind", "is_active")
    list_filter = ("specialty", "is_active")
    search_fields = ("name", "code")
    filter_horizontal = ("equipment_types",)


@admin.register(models.Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ("name_column", "registry_id", "is_active")
    search_fields = ("last_name", "first_name")
    filter_horizontal = ("specialties", "clinics", "services")
    raw_id_fields = ("user",)

    @admin.display(description=_("Doctor's name"), ordering="last_name")
    def name_column(self, doctor: models.Doctor) -> str:
        return doctor.full_name


admin.site.register(models.EquipmentType)


@admin.register(models.Room, models.Equipment)
class ClinicResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "clinic", "is_active")
    list_filter = ("clinic",)


@admin.register(models.ScheduleRule)
class ScheduleRuleAdmin(admin.ModelAdmin):
    list_display = ("doctor", "clinic", "weekday", "start_time", "end_time", "slot_step_minutes")
    list_filter = ("clinic", "weekday")
    raw_id_fields = ("doctor", "room")


@admin.register(models.ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):
    list_display = ("doctor", "kind", "date_from", "date_to", "clinic")
    list_filter = ("clinic", "kind")


@admin.register(models.Substitution)
class SubstitutionAdmin(admin.ModelAdmin):
    list_display = ("date", "clinic", "absent_doctor", "substitute")
    list_filter = ("clinic",)


@admin.register(models.BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    list_display = ("clinic", "mode", "min_notice_minutes", "horizon_days")
    list_filter = ("clinic", "mode")


@admin.register(models.Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ("clinic", "channel", "doctor", "service", "limit")
    list_filter = ("clinic", "channel")


@admin.register(models.Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("public_id", "clinic", "doctor", "starts_at", "status", "channel")
    list_filter = ("clinic", "status", "channel")
    date_hierarchy = "starts_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
