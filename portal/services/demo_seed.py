"""The portal side of the demo network: legal entities, clinics, the demo logins, patients.

Invariants:
- Idempotent: every object is found by a stable key (INN, clinic slug, login email, the demo
  patient's user, generated patients' home clinics) and created only when missing; nothing
  existing is updated, so a second run writes no rows.
- Generated people come from Faker's name lists (never real people); e-mails use the reserved
  `example.*` domains so no demo message can reach a real mailbox.
- Patients are written by one `bulk_create` (blind indexes computed first, since `save()` is not
  called) with one audit event per created patient and family link (field names only).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

import phonenumbers
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker
from faker.providers.person.ru_RU import Provider as RuNames

from portal.choices import (
    AuditAction,
    ConsentChannel,
    ConsentPurpose,
    FamilyRelation,
    IdDocumentType,
    LegalBasis,
    Role,
    Sex,
    SignatureMethod,
    SignerKind,
    VatMode,
)
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD, DemoContext
from portal.models import (
    AuditEvent,
    Clinic,
    FamilyLink,
    LegalEntity,
    Patient,
    StaffMembership,
    User,
)
from portal.services.audit import audit_record_many
from portal.services.patients import EDITABLE_FIELDS
from portal.services.patients import OBJECT_TYPE as PATIENT_OBJECT_TYPE

FAMILY_LINK_OBJECT_TYPE = "portal.familylink"

# --- The network -------------------------------------------------------------------------------


def _inn10(prefix9: str) -> str:
    """A legal entity's INN: nine digits and the check digit of the tax service's algorithm."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(prefix9, weights, strict=True)) % 11 % 10
    return f"{prefix9}{check}"


def _ogrn(prefix12: str) -> str:
    return f"{prefix12}{int(prefix12) % 11 % 10}"


LEGAL_ENTITIES = {
    "siberia": {
        "name": "Общество с ограниченной ответственностью «Медфронт Сибирь»",
        "short_name": "ООО «Медфронт Сибирь»",
        "inn": _inn10("380812345"),
        "kpp": "380801001",
        "ogrn": _ogrn("118385001234"),
        "legal_address": "664003, Иркутская обл., г. Иркутск, ул. Карла Маркса, д. 25, оф. 3",
        "medical_license": "Л041-01137-38/00581234",
        "vat_mode": VatMode.NONE,
    },
    "capital": {
        "name": "Общество с ограниченной ответственностью «Медфронт Столица»",
        "short_name": "ООО «Медфронт Столица»",
        "inn": _inn10("770412345"),
        "kpp": "770401001",
        "ogrn": _ogrn("119774604321"),
        "legal_address": "119002, г. Москва, ул. Арбат, д. 35, эт. 2, пом. I",
        "medical_license": "Л041-01137-77/00671234",
        "vat_mode": VatMode.NONE,
    },
}

CLINICS = {
    "irkutsk-centre": {
        "legal_entity": "siberia",
        "name": "Медфронт на Карла Маркса",
        "city": "Иркутск",
        "address": "664003, г. Иркутск, ул. Карла Маркса, д. 25",
        "timezone": "Asia/Irkutsk",
        "phone": "+73952480100",
        "email": "karla-marksa@medfront.example",
        "opening_hours": "Пн–Пт 8:00–20:00, Сб 9:00–16:00, Вс 9:00–14:00",
        "registry_id": "1.2.643.5.1.13.13.12.2.38.10447.0.158310",
    },
    "irkutsk-levoberezhny": {
        "legal_entity": "siberia",
        "name": "Медфронт Левобережный",
        "city": "Иркутск",
        "address": "664043, г. Иркутск, ул. Розы Люксембург, д. 184 (левый берег)",
        "timezone": "Asia/Irkutsk",
        "phone": "+73952480200",
        "email": "levoberezhny@medfront.example",
        "opening_hours": "Пн–Пт 8:00–20:00, Сб 9:00–15:00",
        "registry_id": "1.2.643.5.1.13.13.12.2.38.10447.0.158311",
    },
    "moscow-arbat": {
        "legal_entity": "capital",
        "name": "Медфронт на Арбате",
        "city": "Москва",
        "address": "119002, г. Москва, ул. Арбат, д. 35",
        "timezone": "Europe/Moscow",
        "phone": "+74952410350",
        "email": "arbat@medfront.example",
        "opening_hours": "Ежедневно 8:00–21:00",
        "registry_id": "1.2.643.5.1.13.13.12.2.77.7810.0.204562",
    },
}

# Streets near each clinic, for patients' home addresses, with the district's postcodes.
STREETS = {
    "irkutsk-centre": (
        "г. Иркутск",
        ("664003", "664011", "664025", "664047", "664007"),
        (
            "ул. Карла Маркса",
            "ул. Ленина",
            "ул. Байкальская",
            "ул. Декабрьских Событий",
            "ул. Советская",
            "ул. Седова",
            "ул. Ширямова",
            "ул. Пискунова",
            "ул. Депутатская",
            "ул. Партизанская",
            "ул. Сухэ-Батора",
            "ул. Тимирязева",
        ),
    ),
    "irkutsk-levoberezhny": (
        "г. Иркутск",
        ("664043", "664039", "664033", "664081", "664050"),
        (
            "ул. Розы Люксембург",
            "ул. Лермонтова",
            "ул. Улан-Баторская",
            "ул. Маршала Конева",
            "ул. Академическая",
            "ул. Сергеева",
            "ул. Мира",
            "ул. Жукова",
            "мкр. Первомайский",
            "мкр. Университетский",
        ),
    ),
    "moscow-arbat": (
        "г. Москва",
        ("119002", "119019", "121099", "119034", "119048", "117292"),
        (
            "ул. Арбат",
            "Смоленский бульвар",
            "ул. Новый Арбат",
            "Кутузовский проспект",
            "Комсомольский проспект",
            "ул. Пречистенка",
            "ул. Остоженка",
            "ул. Плющиха",
            "ул. Вавилова",
            "Ленинский проспект",
            "ул. Профсоюзная",
            "ул. Большая Дорогомиловская",
        ),
    ),
}

# Mobile prefixes of operators selling SIM cards in each city.
MOBILE_PREFIXES = {
    "irkutsk-centre": ("902", "904", "908", "914", "924", "950", "952", "964", "983", "999"),
    "irkutsk-levoberezhny": ("902", "904", "908", "914", "924", "950", "952", "964", "983"),
    "moscow-arbat": ("903", "905", "909", "915", "916", "925", "926", "929", "965", "977", "985"),
}
# Share of generated patients per home clinic.
CLINIC_WEIGHTS = {"irkutsk-centre": 0.45, "irkutsk-levoberezhny": 0.3, "moscow-arbat": 0.25}

# Where each demo login works: (role, clinic slug or None for network-wide).
DEMO_MEMBERSHIPS = {
    "registrar": ((Role.REGISTRAR, "irkutsk-centre"), (Role.REGISTRAR, "moscow-arbat")),
    "nurse": ((Role.HEAD_NURSE, "irkutsk-centre"),),
    "doctor": ((Role.DOCTOR, "irkutsk-centre"),),
    "clinicadmin": ((Role.CLINIC_ADMIN, "irkutsk-centre"),),
    "marketer": ((Role.MARKETER, None),),
    "director": ((Role.DIRECTOR, None),),
    "netadmin": ((Role.NETWORK_ADMIN, None),),
}
DEMO_STAFF_SEX = {
    "registrar": Sex.FEMALE,
    "nurse": Sex.FEMALE,
    "doctor": Sex.MALE,
    "clinicadmin": Sex.FEMALE,
    "marketer": Sex.FEMALE,
    "director": Sex.MALE,
    "netadmin": Sex.MALE,
}

# --- Names -------------------------------------------------------------------------------------

# Common modern first names with their patronymic forms (son, daughter), so children's middle
# names follow their father's first name; rarer names come from Faker's ru_RU lists.
RU_MALE_NAMES = {
    "Александр": ("Александрович", "Александровна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Антон": ("Антонович", "Антоновна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Денис": ("Денисович", "Денисовна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Иван": ("Иванович", "Ивановна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Максим": ("Максимович", "Максимовна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Роман": ("Романович", "Романовна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
}
RU_FEMALE_NAMES = (
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Екатерина",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Анастасия",
    "Дарья",
    "Ксения",
    "Полина",
    "Виктория",
    "Алина",
    "Софья",
    "Вероника",
    "Марина",
    "Евгения",
)
# Passport-style transliteration for demo e-mail addresses ("-" drops the letter).
_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(), strict=True))
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _translit(text: str) -> str:
    out = []
    for char in text.lower():
        latin = _TRANSLIT.get(char, char)
        out.append("" if latin == "-" else latin)
    return "".join(c for c in "".join(out) if c.isascii() and c.isalnum())


@dataclass
class _Person:
    """A patient to be created, before encryption."""

    clinic: str
    sex: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: datetime.date
    russian: bool
    phone: str = ""
    email: str = ""
    address: str = ""
    key: int = 0
    links: list[tuple[int, str, str]] = field(default_factory=list)  # (dependant key, rel, basis)
    user: User | None = None
    created_by: User | None = None


class _Generator:
    """Deterministic people for one seed: names, dates, unique phones and e-mails."""

    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        self.en = [Faker("en_GB"), Faker("en_US")]
        for faker in self.en:
            faker.seed_instance(rng.randrange(2**32))
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.next_key = 0

    # Names
    def ru_surname_index(self) -> int:
        return self.rng.randrange(len(RuNames.last_names_male))

    def ru_first(self, sex: str) -> str:
        common = self.rng.random() < 0.7
        if sex == Sex.MALE:
            return self.rng.choice(list(RU_MALE_NAMES) if common else RuNames.first_names_male)
        return self.rng.choice(RU_FEMALE_NAMES if common else RuNames.first_names_female)

    def ru_middle(self, sex: str, father: str | None = None) -> str:
        if father in RU_MALE_NAMES:
            return RU_MALE_NAMES[father][0 if sex == Sex.MALE else 1]
        pool = RuNames.middle_names_male if sex == Sex.MALE else RuNames.middle_names_female
        return self.rng.choice(pool)

    def birth_date(self, min_age: int, max_age: int) -> datetime.date:
        age_days = self.rng.randint(min_age * 365, max_age * 365 + 364)
        return self.today - datetime.timedelta(days=age_days)

    def adult_age_range(self) -> tuple[int, int]:
        # More people of working and retirement age than the very old visit a clinic.
        age = int(self.rng.triangular(18, 90, 38))
        return age, age

    def person(
        self,
        *,
        clinic: str,
        sex: str,
        russian: bool,
        ages: tuple[int, int],
        surname: int | str | None = None,
        father: str | None = None,
        first_name: str | None = None,
    ) -> _Person:
        if russian:
            index = surname if isinstance(surname, int) else self.ru_surname_index()
            names = RuNames.last_names_male if sex == Sex.MALE else RuNames.last_names_female
            last = names[index]
            first = first_name or self.ru_first(sex)
            middle = self.ru_middle(sex, father)
        else:
            faker = self.rng.choice(self.en)
            last = surname if isinstance(surname, str) else faker.last_name()
            first = first_name or (
                faker.first_name_male() if sex == Sex.MALE else faker.first_name_female()
            )
            middle = ""
        self.next_key += 1
        person = _Person(
            clinic=clinic,
            sex=sex,
            last_name=last,
            first_name=first,
            middle_name=middle,
            birth_date=self.birth_date(*ages),
            russian=russian,
            key=self.next_key,
        )
        age = (self.today - person.birth_date).days // 365
        if age >= 12:
            person.phone = self.phone(clinic)
        if age >= 16 and self.rng.random() < 0.5:
            person.email = self.email(person)
        if self.rng.random() < 0.85:
            person.address = self.address(clinic)
        return person

    # Contacts
    def phone(self, clinic: str) -> str:
        while True:
            prefix = self.rng.choice(MOBILE_PREFIXES[clinic])
            candidate = f"+7{prefix}{self.rng.randrange(10**7):07d}"
            if candidate in self.phones:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
                self.phones.add(candidate)
                return candidate

    def email(self, person: _Person) -> str:
        first = _translit(person.first_name) if person.russian else person.first_name.lower()
        last = _translit(person.last_name) if person.russian else person.last_name.lower()
        first = "".join(c for c in first if c.isalnum())
        last = "".join(c for c in last if c.isalnum())
        style = self.rng.randrange(3)
        local = (
            f"{first}.{last}"
            if style == 0
            else f"{first[0]}{last}{person.birth_date.year % 100:02d}"
            if style == 1
            else f"{last}.{first}{self.rng.randint(1, 99)}"
        )
        candidate = f"{local}@{self.rng.choice(EMAIL_DOMAINS)}"
        while candidate in self.emails:
            candidate = f"{local}{self.rng.randint(100, 999)}@{self.rng.choice(EMAIL_DOMAINS)}"
        self.emails.add(candidate)
        return candidate

    def address(self, clinic: str) -> str:
        city, postcodes, streets = STREETS[clinic]
        house = self.rng.randint(1, 180)
        flat = self.rng.randint(1, 240)
        return (
            f"{self.rng.choice(postcodes)}, {city}, {self.rng.choice(streets)}, "
            f"д. {house}, кв. {flat}"
        )

    def snils(self) -> str:
        # Numbers up to 001-001-998 carry no check number; draw above them.
        while True:
            number = f"{self.rng.randint(2_000_000, 999_999_999):09d}"
            if len(set(number)) > 2:  # three equal digits in a row are not issued; keep it simple
                break
        total = sum(int(d) * (9 - i) for i, d in enumerate(number))
        check = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
        return f"{number[:3]}-{number[3:6]}-{number[6:9]} {check:02d}"


# --- Seeding -----------------------------------------------------------------------------------


def seed_portal(ctx: DemoContext) -> None:
    """Create (or find) the demo network's portal side and fill `ctx` for the app seeders.

    Fills `ctx.legal_entities`, `ctx.clinics` (by slug), `ctx.users` (by DEMO_LOGINS key),
    `ctx.demo_patient`, `ctx.dependants` and `ctx.patients` (every patient of the demo clinics,
    oldest first, the demo patient's family included).
    """
    with transaction.atomic():
        ctx.legal_entities = _ensure_legal_entities()
        ctx.clinics = _ensure_clinics(ctx.legal_entities)
        ctx.users = _ensure_logins(ctx)
        _ensure_patients(ctx)
    _ensure_consents(ctx)


def _ensure_legal_entities() -> dict[str, LegalEntity]:
    entities = {}
    for key, values in LEGAL_ENTITIES.items():
        data = dict(values)
        entities[key], _created = LegalEntity.objects.get_or_create(
            inn=data.pop("inn"), defaults=data
        )
    return entities


def _ensure_clinics(entities: dict[str, LegalEntity]) -> dict[str, Clinic]:
    clinics = {}
    for slug, values in CLINICS.items():
        data = dict(values, legal_entity=entities[values["legal_entity"]])
        clinics[slug], _created = Clinic.objects.get_or_create(slug=slug, defaults=data)
    return clinics


def _ensure_logins(ctx: DemoContext) -> dict[str, User]:
    existing = {u.email: u for u in User.objects.filter(email__in=DEMO_LOGINS.values())}
    # One hash for every new demo login: the password is public, and hashing costs ~0.1 s each.
    password_hash = None
    gen = None
    users: dict[str, User] = {}
    for key, email in DEMO_LOGINS.items():
        user = existing.get(email)
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            display_name = ""
            if key in DEMO_STAFF_SEX:
                sex = DEMO_STAFF_SEX[key]
                gen = gen or _Generator(ctx.rng, ctx.today)
                person = gen.person(clinic="irkutsk-centre", sex=sex, russian=True, ages=(30, 55))
                display_name = f"{person.first_name} {person.middle_name} {person.last_name}"
            user = User.objects.create(
                email=email,
                password=password_hash,
                is_demo=True,
                is_staff=key == "netadmin",
                display_name=display_name,
                preferred_language="ru",
            )
        users[key] = user
    _ensure_verified_emails(users.values())
    _ensure_memberships(users, ctx.clinics)
    return users


def _ensure_verified_emails(users) -> None:
    have = set(
        EmailAddress.objects.filter(user__in=users, verified=True).values_list("user_id", flat=True)
    )
    missing = [u for u in users if u.pk not in have]
    for user in missing:
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )


def _ensure_memberships(users: dict[str, User], clinics: dict[str, Clinic]) -> None:
    have = set(
        StaffMembership.objects.filter(user__in=users.values()).values_list(
            "user_id", "role", "clinic_id"
        )
    )
    new = []
    for key, memberships in DEMO_MEMBERSHIPS.items():
        for role, slug in memberships:
            clinic = clinics[slug] if slug else None
            row = (users[key].pk, role.value, clinic.pk if clinic else None)
            if row not in have:
                new.append(StaffMembership(user=users[key], role=role, clinic=clinic))
    StaffMembership.objects.bulk_create(new)


def _ensure_patients(ctx: DemoContext) -> None:
    clinic_ids = [c.pk for c in ctx.clinics.values()]
    patient_user = ctx.users["patient"]
    demo_patient = Patient.objects.filter(user=patient_user).first()
    if demo_patient is None:
        _create_patients(ctx)
        demo_patient = Patient.objects.get(user=patient_user)
    ctx.demo_patient = demo_patient
    ctx.dependants = list(
        Patient.objects.filter(guardian_links__guardian=demo_patient).order_by("pk")
    )
    ctx.patients = list(
        Patient.objects.filter(home_clinic_id__in=clinic_ids, anonymised_at__isnull=True)
        .select_related("home_clinic")
        .order_by("pk")
    )


def _create_patients(ctx: DemoContext) -> None:
    gen = _Generator(ctx.rng, ctx.today)
    people = _demo_family(gen, ctx.users["patient"]) + _network_people(gen, ctx.patient_count)
    _write_people(ctx, gen, people)


def _demo_family(gen: _Generator, user: User) -> list[_Person]:
    """The demo patient (a mother in Irkutsk) and her son and daughter."""
    father = gen.rng.choice(list(RU_MALE_NAMES))
    surname = gen.ru_surname_index()
    mother = gen.person(
        clinic="irkutsk-centre", sex=Sex.FEMALE, russian=True, ages=(34, 36), surname=surname
    )
    mother.email = DEMO_LOGINS["patient"]
    mother.user = user
    mother.created_by = user
    son = gen.person(
        clinic="irkutsk-centre",
        sex=Sex.MALE,
        russian=True,
        ages=(9, 9),
        surname=surname,
        father=father,
    )
    daughter = gen.person(
        clinic="irkutsk-centre",
        sex=Sex.FEMALE,
        russian=True,
        ages=(4, 4),
        surname=surname,
        father=father,
    )
    _share_address(gen, [mother, son, daughter])
    for child in (son, daughter):
        child.created_by = user
        mother.links.append((child.key, FamilyRelation.CHILD, LegalBasis.PARENT_OF_MINOR))
    return [mother, son, daughter]


def _network_people(gen: _Generator, count: int) -> list[_Person]:
    """`count` patients: about one in eight linked to a relative (children, spouses, parents)."""
    rng = gen.rng
    clinics = list(CLINIC_WEIGHTS)
    weights = list(CLINIC_WEIGHTS.values())
    people: list[_Person] = []
    link_budget = max(1, round(count * 40 / 320)) if count >= 4 else 0
    while len(people) < count:
        clinic = rng.choices(clinics, weights)[0]
        russian = rng.random() < (0.7 if clinic == "moscow-arbat" else 0.85)
        room = count - len(people)
        if link_budget > 0 and room >= 2:
            family = _family(gen, clinic=clinic, russian=russian, room=room, budget=link_budget)
            link_budget -= sum(len(p.links) for p in family)
            people.extend(family)
            continue
        sex = Sex.FEMALE if rng.random() < 0.55 else Sex.MALE
        ages = (0, 17) if rng.random() < 0.1 else gen.adult_age_range()
        people.append(gen.person(clinic=clinic, sex=sex, russian=russian, ages=ages))
    return people


def _family(gen: _Generator, *, clinic: str, russian: bool, room: int, budget: int):
    """A family of 2–4 patients sharing a surname, with links from the adult who acts for them."""
    rng = gen.rng
    surname: int | str = gen.ru_surname_index() if russian else rng.choice(gen.en).last_name()
    kind = rng.choices(["parent", "couple", "elder"], [0.6, 0.25, 0.15])[0]
    if kind == "elder":
        child = gen.person(
            clinic=clinic,
            sex=rng.choice(Sex.values[:2]),
            russian=russian,
            ages=(38, 50),
            surname=surname,
        )
        elder = gen.person(
            clinic=clinic,
            sex=rng.choice(Sex.values[:2]),
            russian=russian,
            ages=(72, 90),
            surname=surname,
        )
        child.links.append((elder.key, FamilyRelation.PARENT, LegalBasis.POWER_OF_ATTORNEY))
        _share_address(gen, [child, elder])
        return [child, elder]
    father_name = rng.choice(list(RU_MALE_NAMES)) if russian else None
    mother = gen.person(
        clinic=clinic, sex=Sex.FEMALE, russian=russian, ages=(27, 45), surname=surname
    )
    family = [mother]
    if kind == "couple" or rng.random() < 0.4:
        father = gen.person(
            clinic=clinic,
            sex=Sex.MALE,
            russian=russian,
            ages=(29, 50),
            surname=surname,
            first_name=father_name,
        )
        mother.links.append((father.key, FamilyRelation.SPOUSE, LegalBasis.CONSENT_OF_ADULT))
        family.append(father)
    children = (
        0 if kind == "couple" else min(rng.choice([1, 1, 2, 2, 3]), budget, room - len(family))
    )
    # A child is at least 20 years younger than the mother.
    oldest_child = min(17, (gen.today - mother.birth_date).days // 365 - 20)
    for _ in range(max(children, 0)):
        child = gen.person(
            clinic=clinic,
            sex=rng.choice(Sex.values[:2]),
            russian=russian,
            ages=(0, oldest_child),
            surname=surname,
            father=father_name,
        )
        mother.links.append((child.key, FamilyRelation.CHILD, LegalBasis.PARENT_OF_MINOR))
        family.append(child)
    family = family[:room]
    _share_address(gen, family)
    return family


def _share_address(gen: _Generator, family: list[_Person]) -> None:
    """One household, one address."""
    address = family[0].address or gen.address(family[0].clinic)
    for person in family:
        person.address = address


def _write_people(ctx: DemoContext, gen: _Generator, people: list[_Person]) -> None:
    rng = gen.rng
    now = timezone.now()
    insurers = ("СОГАЗ", "Ингосстрах", "РЕСО-Гарантия", "АльфаСтрахование", "Ренессанс")
    patients = []
    for person in people:
        age = (ctx.today - person.birth_date).days // 365
        patient = Patient(
            user=person.user,
            created_by=person.created_by,
            last_name=person.last_name,
            first_name=person.first_name,
            middle_name=person.middle_name,
            birth_date=person.birth_date,
            sex=person.sex,
            phone=person.phone,
            email=person.email,
            address=person.address,
            home_clinic=ctx.clinics[person.clinic],
            preferred_language="ru" if person.russian else "en",
            phone_verified_at=now if person.user else None,
        )
        if person.russian:
            if rng.random() < 0.6:
                patient.snils = gen.snils()
            if rng.random() < 0.5:
                patient.oms_policy = f"{rng.randrange(10**15, 10**16)}"
            if age >= 14 and rng.random() < 0.5:
                patient.id_document_type = IdDocumentType.PASSPORT_RU
                series = "25" if person.clinic.startswith("irkutsk") else "45"
                patient.id_document_number = (
                    f"{series} {rng.randint(0, 24):02d} {rng.randrange(10**6):06d}"
                )
            elif age < 14 and rng.random() < 0.5:
                patient.id_document_type = IdDocumentType.BIRTH_CERTIFICATE
                patient.id_document_number = f"IV-СТ № {rng.randrange(10**6):06d}"
        elif age >= 18 and rng.random() < 0.5:
            patient.id_document_type = IdDocumentType.FOREIGN_PASSPORT
            patient.id_document_number = f"{rng.randrange(10**9):09d}"
        if age >= 18 and rng.random() < 0.15:
            patient.dms_insurer = rng.choice(insurers)
            patient.dms_policy = f"{rng.randint(100, 999)}-{rng.randrange(10**7):07d}"
        # bulk_create skips save(), which keeps the blind indexes; compute them here.
        patient.refresh_blind_indexes()
        patients.append(patient)
    Patient.objects.bulk_create(patients, batch_size=500)

    by_key = {person.key: patient for person, patient in zip(people, patients, strict=True)}
    links = [
        FamilyLink(
            guardian=by_key[person.key],
            dependant=by_key[dependant_key],
            relation=relation,
            legal_basis=basis,
            basis_document=_basis_document(rng, basis, by_key[dependant_key]),
            valid_until=(
                ctx.today.replace(year=ctx.today.year + 3)
                if basis == LegalBasis.POWER_OF_ATTORNEY
                else None
            ),
        )
        for person in people
        for dependant_key, relation, basis in person.links
    ]
    FamilyLink.objects.bulk_create(links, batch_size=500)
    audit_record_many(
        [_patient_event(p, now) for p in patients] + [_link_event(link, now) for link in links]
    )


def _basis_document(rng: random.Random, basis: str, dependant: Patient) -> str:
    if basis == LegalBasis.PARENT_OF_MINOR:
        if dependant.id_document_type == IdDocumentType.BIRTH_CERTIFICATE:
            return f"Свидетельство о рождении {dependant.id_document_number}"
        if dependant.preferred_language == "en":
            return f"Birth certificate {rng.randrange(10**8, 10**9)}"
        return f"Свидетельство о рождении IV-СТ № {rng.randrange(10**6):06d}"
    if basis == LegalBasis.POWER_OF_ATTORNEY:
        return f"Доверенность 38 АА {rng.randrange(10**7):07d}"
    return ""


def _patient_event(patient: Patient, now: datetime.datetime) -> AuditEvent:
    filled = [
        name
        for name in EDITABLE_FIELDS
        if getattr(patient, "home_clinic_id" if name == "home_clinic" else name) not in ("", None)
    ]
    return AuditEvent(
        occurred_at=now,
        actor_id=patient.created_by_id,
        actor_public_id=str(patient.created_by.public_id) if patient.created_by else "",
        role="patient" if patient.created_by_id else "",
        clinic_id=patient.home_clinic_id,
        action=AuditAction.CREATE,
        object_type=PATIENT_OBJECT_TYPE,
        object_id=str(patient.public_id),
        patient_ids=[str(patient.public_id)],
        changed_fields=sorted(filled),
    )


def _link_event(link: FamilyLink, now: datetime.datetime) -> AuditEvent:
    return AuditEvent(
        occurred_at=now,
        clinic_id=link.guardian.home_clinic_id,
        action=AuditAction.CREATE,
        object_type=FAMILY_LINK_OBJECT_TYPE,
        object_id=str(link.pk or ""),
        patient_ids=sorted([str(link.guardian.public_id), str(link.dependant.public_id)]),
        changed_fields=sorted(
            ["relation", "legal_basis"]
            + (["basis_document"] if link.basis_document else [])
            + (["valid_until"] if link.valid_until else [])
        ),
    )


# Purposes every demo patient has signed besides the required ones: reminders need this one.
DEMO_CONSENT_PURPOSES = (ConsentPurpose.SERVICE_NOTIFICATIONS,)


def _ensure_consents(ctx: DemoContext) -> None:
    """Publish the consent texts and sign the required ones (and service notifications) for
    every demo patient who has not signed them yet, through the consents service.

    The demo patient signs in her account for herself and, as their parent, for her children;
    everyone else signed a paper form at the registrar's desk.
    """
    try:
        from portal.consent_texts import ensure_consent_documents
        from portal.services.consents import consent_sign
    except ImportError:
        ctx.log("portal: consents service not installed; demo patients sign no consents.")
        return
    from portal.models import Consent, ConsentDocument

    ensure_consent_documents()
    required = set(
        ConsentDocument.objects.filter(is_required=True).values_list("purpose", flat=True)
    )
    purposes = sorted(required | set(DEMO_CONSENT_PURPOSES))
    signed = set(
        Consent.objects.filter(
            patient__in=ctx.patients, withdrawn_at__isnull=True, purpose__in=purposes
        ).values_list("patient_id", "purpose")
    )
    family = {p.pk for p in ctx.dependants}
    # Parents sign for their minor children (under 15 a child cannot consent alone).
    parents = {
        link.dependant_id: link.guardian
        for link in FamilyLink.objects.filter(
            dependant__in=ctx.patients, legal_basis=LegalBasis.PARENT_OF_MINOR
        ).select_related("guardian")
    }
    patient_user, registrar = ctx.users["patient"], ctx.users["registrar"]
    with transaction.atomic():
        for patient in ctx.patients:
            for purpose in purposes:
                if (patient.pk, purpose) in signed:
                    continue
                common = {"patient": patient, "purpose": purpose, "language": "ru"}
                if patient.pk == ctx.demo_patient.pk:
                    consent_sign(
                        actor=patient_user,
                        signer_kind=SignerKind.PATIENT,
                        channel=ConsentChannel.WEB,
                        signature_method=SignatureMethod.ACCOUNT_CONFIRMATION,
                        **common,
                    )
                elif patient.pk in family:
                    consent_sign(
                        actor=patient_user,
                        signer_kind=SignerKind.REPRESENTATIVE,
                        representative=ctx.demo_patient,
                        channel=ConsentChannel.WEB,
                        signature_method=SignatureMethod.ACCOUNT_CONFIRMATION,
                        **common,
                    )
                elif patient.pk in parents:
                    consent_sign(
                        actor=registrar,
                        signer_kind=SignerKind.REPRESENTATIVE,
                        representative=parents[patient.pk],
                        channel=ConsentChannel.DESK,
                        signature_method=SignatureMethod.HANDWRITTEN,
                        **common,
                    )
                else:
                    consent_sign(
                        actor=registrar,
                        signer_kind=SignerKind.PATIENT,
                        channel=ConsentChannel.DESK,
                        signature_method=SignatureMethod.HANDWRITTEN,
                        **common,
                    )
