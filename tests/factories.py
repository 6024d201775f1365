"""factory_boy factories shared by every test suite. Names come from Faker (ru/en)."""

import datetime
import random

import factory
from faker import Faker

from portal.choices import Role
from portal.models import Clinic, FamilyLink, LegalEntity, Patient, StaffMembership, User

fake_ru = Faker("ru_RU")
DEMO_PASSWORD = "Medfront-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)
    is_active = True

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


class LegalEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalEntity

    name = factory.Sequence(lambda n: f'ООО "Медфронт-{n}"')
    short_name = factory.Sequence(lambda n: f"Медфронт-{n}")
    inn = factory.Sequence(lambda n: f"38{n:08d}")
    legal_address = "г. Иркутск, ул. Ленина, 1"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    slug = factory.Sequence(lambda n: f"clinic-{n}")
    name = factory.Sequence(lambda n: f"Клиника №{n}")
    legal_entity = factory.SubFactory(LegalEntityFactory)
    city = "Иркутск"
    address = factory.Sequence(lambda n: f"ул. Карла Маркса, {n + 1}")
    timezone = "Asia/Irkutsk"
    phone = "+73952000000"


def random_mobile() -> str:
    return f"+7914{random.randint(0, 9_999_999):07d}"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    last_name = factory.LazyFunction(fake_ru.last_name_male)
    first_name = factory.LazyFunction(fake_ru.first_name_male)
    middle_name = factory.LazyFunction(fake_ru.middle_name_male)
    birth_date = factory.LazyFunction(
        lambda: datetime.date(1960, 1, 1) + datetime.timedelta(days=random.randint(0, 20000))
    )
    sex = "male"
    phone = factory.LazyFunction(random_mobile)
    email = factory.Sequence(lambda n: f"patient{n}@example.test")


class PatientWithLoginFactory(PatientFactory):
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))


class FamilyLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FamilyLink

    guardian = factory.SubFactory(PatientWithLoginFactory)
    dependant = factory.SubFactory(PatientFactory)
    relation = "child"
    legal_basis = "parent_of_minor"


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    role = Role.REGISTRAR
    clinic = factory.SubFactory(ClinicFactory)


def make_staff(role: str, clinic: Clinic | None, **user_kwargs) -> User:
    user = UserFactory(**user_kwargs)
    StaffMembershipFactory(user=user, role=role, clinic=clinic)
    return user


# --- scheduling --------------------------------------------------------------------------------
# Factories of the booking engine (scheduling app). Kept in one delimited block.

from decimal import Decimal  # noqa: E402

from scheduling.models import (  # noqa: E402
    Doctor,
    Equipment,
    EquipmentType,
    Room,
    ScheduleRule,
    Service,
    Specialty,
)


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty

    slug = factory.Sequence(lambda n: f"specialty-{n}")
    name = factory.Sequence(lambda n: f"Специальность {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Приём №{n}")
    specialty = factory.SubFactory(SpecialtyFactory)
    duration_minutes = 30
    price = Decimal("2500.00")


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor
        skip_postgeneration_save = True

    last_name = factory.LazyFunction(fake_ru.last_name_female)
    first_name = factory.LazyFunction(fake_ru.first_name_female)
    middle_name = factory.LazyFunction(fake_ru.middle_name_female)
    languages = factory.LazyFunction(lambda: ["ru"])

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.services.add(*extracted)
            obj.specialties.add(*{s.specialty for s in extracted})

    @factory.post_generation
    def clinics(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.clinics.add(*extracted)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Кабинет {n}")
    kind = "consultation"


class EquipmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EquipmentType

    slug = factory.Sequence(lambda n: f"equipment-type-{n}")
    name = factory.Sequence(lambda n: f"Аппарат {n}")


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    clinic = factory.SubFactory(ClinicFactory)
    type = factory.SubFactory(EquipmentTypeFactory)
    name = factory.Sequence(lambda n: f"Аппарат №{n}")


class ScheduleRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleRule

    doctor = factory.SubFactory(DoctorFactory)
    clinic = factory.SubFactory(ClinicFactory)
    weekday = 0
    start_time = datetime.time(9, 0)
    end_time = datetime.time(13, 0)
    slot_step_minutes = 30
    buffer_minutes = 0
    valid_from = datetime.date(2020, 1, 1)


def make_weekly_schedule(doctor, clinic, *, start=datetime.time(9), end=datetime.time(13), **kw):
    """Rules for every day of the week, Monday to Sunday, with the same hours."""
    return [
        ScheduleRuleFactory(
            doctor=doctor, clinic=clinic, weekday=day, start_time=start, end_time=end, **kw
        )
        for day in range(7)
    ]
