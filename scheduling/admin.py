"""Admin for the catalogue and schedules. Appointments are read-only here: every change of an
appointment goes through `scheduling.services.booking` so it leaves its trail."""

from django.contrib import admin

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
    list_display = ("full_name", "registry_id", "is_active")
    search_fields = ("last_name", "first_name")
    filter_horizontal = ("specialties", "clinics", "services")
    raw_id_fields = ("user",)


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


@admin.register(models.ScheduleException, models.Substitution)
class ScheduleChangeAdmin(admin.ModelAdmin):
    list_filter = ("clinic",)


@admin.register(models.BookingPolicy, models.Quota)
class PolicyAdmin(admin.ModelAdmin):
    list_filter = ("clinic",)


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
