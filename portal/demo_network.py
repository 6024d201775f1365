"""What the demo network is made of: its legal entities, clinics, the streets and mobile
prefixes of their cities, and where each demo login works. Fixed data, no database access; the
portal seeder (`portal.services.demo_seed`) writes it, and `portal.demo_people` draws patients'
addresses and phones from it.

E-mails use the reserved `example.*` domains, so no demo message can reach a real mailbox.
"""

from __future__ import annotations

from portal.choices import Role, Sex, VatMode


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
