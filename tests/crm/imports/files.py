"""Legacy exports for the import tests: a 10,000-row file with planted duplicates."""

from __future__ import annotations

import csv
import datetime
import io
import random
from dataclasses import dataclass

HEADER = ["ФИО", "Дата рождения", "Телефон", "E-mail", "Дата приёма", "Врач", "Услуга"]
LAST = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Васильев", "Соколов"]
FIRST = ["Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Иван", "Павел", "Никита"]


@dataclass
class Planted:
    exact: int
    fuzzy: int


def _typo(word: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped; never a swap of equal letters, which is no typo."""
    i = rng.randrange(1, len(word) - 1)
    while word[i] == word[i + 1]:
        i = (i + 1) % (len(word) - 1) or 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def legacy_rows(count: int, *, duplicate_share: float = 0.05, seed: int = 7):
    """`count` visit rows of distinct people, of which `duplicate_share` repeat an earlier
    person: half exactly (another phone format, swapped case), half fuzzily (a typo in the
    surname, the same birth date, no phone)."""
    rng = random.Random(seed)
    dupes = int(count * duplicate_share)
    originals = count - dupes
    rows = []
    for n in range(originals):
        last = f"{rng.choice(LAST)}{'а' * 0}"
        first = rng.choice(FIRST)
        middle = f"Тестович{n}"
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=n * 3 % 25000)
        phone = f"+7 916 {n // 10000:03d}-{n % 10000 // 100:02d}-{n % 100:02d}"
        rows.append(
            [
                f"{last}{_suffix(n)} {first} {middle}",
                birth.strftime("%d.%m.%Y"),
                phone,
                f"person{n}@example.test",
                f"{(datetime.date(2024, 1, 1) + datetime.timedelta(days=n % 300)):%d.%m.%Y} 10:30",
                "Петрова А. А.",
                "Приём терапевта",
            ]
        )
    planted = Planted(exact=0, fuzzy=0)
    for k in range(dupes):
        source = rows[rng.randrange(originals)]
        full, birth, phone = source[0], source[1], source[2]
        visit = f"{(datetime.date(2025, 1, 1) + datetime.timedelta(days=k % 200)):%d.%m.%Y} 09:00"
        if k % 2 == 0:
            digits = "".join(ch for ch in phone if ch.isdigit())
            rows.append([full.upper(), birth, "8" + digits[1:], "", visit, "Петрова А. А.", "УЗИ"])
            planted.exact += 1
        else:
            last, first, middle = full.split(" ")
            rows.append([f"{_typo(last, rng)} {first} {middle}", birth, "", "", visit, "", "УЗИ"])
            planted.fuzzy += 1
    return rows, planted


def _suffix(n: int) -> str:
    # Distinct surnames, so fuzzy flags come only from the planted typos.
    letters = "абвгдежзиклмнопрстуфхцчшщэюя"
    return letters[n % 28] + letters[n // 28 % 28] + letters[n // 784 % 28]


def to_csv(rows, *, header=HEADER, encoding="utf-8", delimiter=";") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)
