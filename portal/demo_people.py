"""The demo network's patients: a deterministic generator of people (Faker's name lists, never
real people) with unique phones and e-mails, the demo patient's family and the network's
families. Nothing here touches the database; the portal seeder (`portal.services.demo_seed`)
writes them.

E-mails use the reserved `example.*` domains, so no demo message can reach a real mailbox.
"""

from __future__ import annotations

import datetime
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import phonenumbers
from faker import Faker
from faker.providers.person.ru_RU import Provider as RuNames

from portal.choices import FamilyRelation, LegalBasis, Sex
from portal.demo import DEMO_LOGINS
from portal.demo_network import CLINIC_WEIGHTS, MOBILE_PREFIXES, STREETS

if TYPE_CHECKING:
    from portal.models import User

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
class Person:
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

    def patient_fields(self) -> dict[str, object]:
        """The `Patient` fields this person fills (shared by the demo's and the benchmark's
        seeders; each adds its own clinic, account and documents)."""
        return {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "phone": self.phone,
            "email": self.email,
            "address": self.address,
            "preferred_language": "ru" if self.russian else "en",
        }


class PeopleGenerator:
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
    ) -> Person:
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
        person = Person(
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

    def email(self, person: Person) -> str:
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
            # A digit repeated three times in a row is never issued.
            if not re.search(r"(\d)\1\1", number):
                break
        total = sum(int(d) * (9 - i) for i, d in enumerate(number))
        check = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
        return f"{number[:3]}-{number[3:6]}-{number[6:9]} {check:02d}"


def demo_family(gen: PeopleGenerator, user: User) -> list[Person]:
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


def network_people(gen: PeopleGenerator, count: int) -> list[Person]:
    """`count` patients: about one in eight linked to a relative (children, spouses, parents)."""
    rng = gen.rng
    clinics = list(CLINIC_WEIGHTS)
    weights = list(CLINIC_WEIGHTS.values())
    people: list[Person] = []
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


def _family(gen: PeopleGenerator, *, clinic: str, russian: bool, room: int, budget: int):
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


def _share_address(gen: PeopleGenerator, family: list[Person]) -> None:
    """One household, one address."""
    address = family[0].address or gen.address(family[0].clinic)
    for person in family:
        person.address = address
