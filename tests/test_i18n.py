"""The Russian and English catalogues: complete, compiled, and used by the pages.

Refresh them with `make messages` (makemessages + compilemessages); these tests fail when a
Russian entry is missing or fuzzy, or when the committed .mo no longer matches the .po.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
RU_PO = LOCALE / "ru" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
# Django's own Russian rule (django/conf/locale/ru): catalogues with another rule are kept apart.
DJANGO_RU_PLURAL = (
    "nplurals=4; plural=(n % 1 == 0 && n % 10 == 1 && n % 100 != 11 ? 0 : n % 1 == 0 && "
    "n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? 1 : n % 1 == 0 && "
    "(n % 10 ==0 || (n % 10 >=5 && n % 10 <=9) || (n % 100 >=11 && n % 100 <=14 )) ? 2: 3);"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|</?[a-z][^>]*>")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (str or {n: str}),
    flags. Obsolete (#~) entries are skipped; good enough for files written by gettext."""
    entries, entry, key = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:  # gettext separates entries by blank lines
            if entry and entry.get("msgid") is not None:
                entries.append(entry)
            entry = None
            continue
        entry = entry or {"flags": set(), "msgstr": {}, "msgctxt": None, "msgid_plural": None}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
        else:
            word, _, value = line.partition(" ")
            plural = re.fullmatch(r"msgstr\[(\d+)\]", word)
            key = int(plural.group(1)) if plural else word
            if plural:
                entry["msgstr"][key] = ast.literal_eval(value)
            elif word == "msgstr":
                entry["msgstr"] = ast.literal_eval(value)
            else:
                entry[word] = ast.literal_eval(value)
    return entries


def msgstr_forms(entry) -> list[str]:
    msgstr = entry["msgstr"]
    return [msgstr[n] for n in sorted(msgstr)] if isinstance(msgstr, dict) else [msgstr]


@pytest.fixture(scope="module")
def ru_entries():
    return parse_po(RU_PO)


def test_the_parser_reads_the_header_and_plural_entries(ru_entries):
    header = ru_entries[0]
    assert header["msgid"] == ""
    assert "Language: ru\n" in header["msgstr"]
    plurals = [e for e in ru_entries if e["msgid_plural"]]
    assert plurals, "the catalogue has plural entries"
    assert all(isinstance(e["msgstr"], dict) for e in plurals)


def test_the_russian_header_uses_djangos_plural_rule_and_is_not_fuzzy(ru_entries):
    header = ru_entries[0]
    assert "fuzzy" not in header["flags"]
    assert f"Plural-Forms: {DJANGO_RU_PLURAL}\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]


def test_every_russian_entry_is_translated_and_not_fuzzy(ru_entries):
    entries = ru_entries[1:]
    assert len(entries) > 500
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(s.strip() for s in msgstr_forms(e))]
    assert fuzzy == []
    assert empty == []


def test_russian_plurals_have_four_forms(ru_entries):
    wrong = [e["msgid"] for e in ru_entries if e["msgid_plural"] and len(e["msgstr"]) != 4]
    assert wrong == []


def test_translations_keep_every_placeholder_and_tag(ru_entries):
    broken = []
    for entry in ru_entries[1:]:
        source = entry["msgid_plural"] or entry["msgid"]
        wanted = sorted(PLACEHOLDER.findall(source))
        forms = msgstr_forms(entry)
        # The singular form may name no number ("Your clinic"); every other form keeps them all.
        checked = forms[1:] if entry["msgid_plural"] else forms
        broken += [
            entry["msgid"] for form in checked if sorted(PLACEHOLDER.findall(form)) != wanted
        ]
    assert broken == []


def test_the_compiled_russian_catalogue_matches_the_po_file(ru_entries):
    with (RU_PO.with_suffix(".mo")).open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog  # the .mo contents, keyed as msgfmt wrote them
    stale = []
    for entry in ru_entries[1:]:
        msgid = entry["msgid"]
        if entry["msgctxt"] is not None:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if entry["msgid_plural"]:
            got = [catalog.get((msgid, n)) for n in sorted(entry["msgstr"])]
        else:
            got = [catalog.get(msgid)]
        if got != msgstr_forms(entry):
            stale.append(entry["msgid"])
    assert stale == [], "run `make messages` (or compilemessages) and commit the .mo"


def test_the_english_catalogue_exists_with_the_same_messages(ru_entries):
    en_entries = parse_po(EN_PO)
    assert "Language: en\n" in en_entries[0]["msgstr"]
    assert EN_PO.with_suffix(".mo").exists()
    key = lambda e: (e["msgctxt"], e["msgid"])  # noqa: E731
    assert {key(e) for e in en_entries} == {key(e) for e in ru_entries}


def test_django_translates_known_messages_and_plurals():
    with translation.override("ru"):
        assert translation.gettext("Sign in") == "Войти"
        assert translation.gettext("Informed voluntary consent to intervention") == (
            "Информированное добровольное согласие на медицинское вмешательство"
        )
        years = [
            translation.ngettext("%(counter)s year", "%(counter)s years", n) % {"counter": n}
            for n in (1, 3, 5, 11, 21, 22)
        ]
        assert years == ["1 год", "3 года", "5 лет", "11 лет", "21 год", "22 года"]
    with translation.override("en"):
        assert translation.gettext("Sign in") == "Sign in"


# --- Pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_landing_page_is_russian_by_default_without_a_language_prefix(client):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru"' in body
    assert "Войти" in body and "Наши клиники" in body
    assert "Sign in" not in body


@pytest.mark.django_db
def test_the_switcher_turns_the_site_english_and_back_without_prefixes(client):
    switched = client.post(reverse("portal:set_language"), {"language": "en", "next": "/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/"
    body = client.get("/").content.decode()
    assert '<html lang="en"' in body
    assert "Sign in" in body and "Our clinics" in body
    assert client.get("/en/").status_code == 404

    client.post(reverse("portal:set_language"), {"language": "ru", "next": "/"})
    assert "Наши клиники" in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_sign_in_page_is_russian(client):
    body = client.get(reverse("account_login")).content.decode()
    assert "Получить код по SMS или эл. почте" in body
    assert "Впервые у нас?" in body


@pytest.mark.django_db
def test_a_patients_home_is_russian_and_english_after_switching(as_user, patient):
    client = as_user(patient.user)
    client.cookies["django_language"] = "ru"
    body = client.get(reverse("portal:home")).content.decode()
    assert "Здравствуйте, Анна!" in body
    assert "Мой профиль" in body and "Выйти" in body

    client.post(reverse("portal:set_language"), {"language": "en", "next": "/home/"})
    body = client.get(reverse("portal:home")).content.decode()
    assert "Hello, Анна!" in body
    assert "My profile" in body and "Sign out" in body


@pytest.mark.django_db
def test_a_registrars_home_is_russian(as_user, registrar_a):
    client = as_user(registrar_a)
    client.cookies["django_language"] = "ru"
    body = client.get(reverse("portal:home")).content.decode()
    assert "Регистратура" in body and "Найти пациента" in body
    assert "Ваша клиника" in body


def test_the_audit_log_names_roles_in_the_readers_language():
    from portal.models import AuditEvent
    from portal.selectors.audit import AuditRow

    def label(role):
        return AuditRow(AuditEvent(role=role), "", "").role_label

    with translation.override("ru"):
        assert [label("registrar"), label("patient"), label("")] == ["Регистратор", "Пациент", ""]
    with translation.override("en"):
        assert label("network_admin") == "Network administrator"
