"""`understand()` on the scripted dialogues (intent accuracy, every listed entity) and on the
exact cases: surnames in Russian cases, dates around a DST change and in two time zones."""

from __future__ import annotations

import datetime
import time
import zoneinfo

import pytest

from crm.assistant.understanding import INTENTS, understand
from tests.crm.assistant.accuracy import demo_vocabulary, evaluate, read
from tests.crm.assistant.dialogues import DIALOGUES

VOCABULARY, IDS = demo_vocabulary()
TURNS = [turn for dialogue in DIALOGUES for turn in dialogue]


def _actual(understanding, key):
    ids = {
        "specialty": understanding.specialty_ids,
        "service": understanding.service_ids,
        "doctor": understanding.doctor_ids,
        "clinic": understanding.clinic_ids,
    }
    if key in ids:
        return ids[key]
    when = understanding.when
    if key in ("date", "date_to", "time_from", "time_to"):
        if when is None:
            return None
        value = {
            "date": when.date_from,
            "date_to": when.date_to,
            "time_from": when.time_from,
            "time_to": when.time_to,
        }[key]
        return value.isoformat()[: 10 if key.startswith("date") else 5] if value else None
    if key == "choice_time":
        return understanding.choice_time.strftime("%H:%M") if understanding.choice_time else None
    return getattr(understanding, key)


def _expected(key, value):
    if key in IDS:
        return (IDS[key][value],)
    return value


def test_the_dataset_is_large_enough_and_bilingual():
    russian = [t for t in TURNS if any("а" <= c <= "я" for c in t["text"].lower())]
    assert len(TURNS) >= 120
    assert 0.5 <= len(russian) / len(TURNS) <= 0.7
    assert {t["intent"] for t in TURNS} == set(INTENTS)


def test_intent_accuracy_is_at_least_90_percent():
    accuracy, misses, turns = evaluate()
    print(f"\nintent accuracy {accuracy:.1%} over {turns} turns")
    for text, expected, got in misses:
        print(f"  miss: {text!r}: expected {expected}, got {got}")
    assert accuracy >= 0.9


@pytest.mark.parametrize("turn", [t for t in TURNS if t["entities"]], ids=lambda t: t["text"])
def test_it_extracts_the_listed_entities(turn):
    understanding = read(turn["text"], VOCABULARY)
    for key, value in turn["entities"].items():
        assert _actual(understanding, key) == _expected(key, value), key


def test_a_reply_takes_well_under_a_millisecond_or_two():
    read("прогрев", VOCABULARY)
    started = time.perf_counter()
    for turn in TURNS:
        read(turn["text"], VOCABULARY)
    assert (time.perf_counter() - started) / len(TURNS) < 0.005


def test_surnames_are_found_in_every_case_and_with_typos():
    ivanova, ivanov = IDS["doctor"]["Иванова"], IDS["doctor"]["Иванов"]
    assert read("к Ивановой", VOCABULARY).doctor_ids == (ivanova,)
    assert read("к ивановой", VOCABULARY).doctor_ids == (ivanova,)
    assert read("Иванову Петру Ильичу", VOCABULARY).doctor_ids == (ivanov,)
    assert read("запишите к Иваной", VOCABULARY).doctor_ids == (ivanova,)
    assert read("с Белозерской", VOCABULARY).doctor_ids == (IDS["doctor"]["Белозерская"],)
    assert read("Dr Sokolov", VOCABULARY).doctor_ids == (IDS["doctor"]["Соколов"],)
    assert read("к кардиологу", VOCABULARY).doctor_ids == ()


def test_synonyms_name_the_specialty():
    for text, slug in (
        ("нужен лор", "ent"),
        ("к ухо-горло-носу", "ent"),
        ("зубной", "dentist"),
        ("глазнику", "ophthalmologist"),
        ("eye doctor", "ophthalmologist"),
        ("кардиалог", "cardiologist"),
    ):
        assert read(text, VOCABULARY).specialty_ids == (IDS["specialty"][slug],), text


def test_the_language_comes_from_the_script_and_the_hint_breaks_ties():
    assert read("запишите меня", VOCABULARY).language == "ru"
    assert read("book me", VOCABULARY, language="ru").language == "en"
    assert read("10:30", VOCABULARY, language="en").language == "en"


def test_entities_are_json_safe_and_never_carry_the_phone():
    understanding = read("перезвоните на +7 914 123-45-67 завтра в 10", VOCABULARY)
    assert understanding.phone == "+79141234567"
    entities = understanding.entities()
    assert entities["phone_given"] is True
    assert "79141234567" not in str(entities)
    assert entities["when"]["date_from"] == "2026-12-03"
    assert entities["choice_time"] == "10:00"


def _when(text, now, tz):
    return understand(
        text, language=None, vocabulary=VOCABULARY, now=now, tz=zoneinfo.ZoneInfo(tz)
    ).when


def test_tomorrow_across_a_dst_change_is_the_next_calendar_day():
    # 29 March 2026: Berlin moves its clocks to summer time at 02:00.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    late_saturday = datetime.datetime(2026, 3, 28, 23, 30, tzinfo=berlin)
    when = _when("завтра утром", late_saturday, "Europe/Berlin")
    assert when.date_from == datetime.date(2026, 3, 29)
    assert (when.time_from, when.time_to) == (datetime.time(8), datetime.time(12))
    # Sunday 00:30 summer time is still Saturday 22:30 UTC: "tomorrow" is Monday in Berlin.
    just_after = datetime.datetime(2026, 3, 28, 23, 30, tzinfo=datetime.UTC)
    assert _when("tomorrow", just_after, "Europe/Berlin").date_from == datetime.date(2026, 3, 30)
    # The autumn change in New York: "next Monday" from a Sunday 01:30 that happens twice.
    sunday = datetime.datetime(2026, 11, 1, 6, 30, tzinfo=datetime.UTC)  # 01:30 EST
    assert _when("next monday", sunday, "America/New_York").date_from == datetime.date(2026, 11, 2)


def test_today_depends_on_the_clinics_time_zone():
    # 20:00 UTC on 2 December is 04:00 on 3 December in Irkutsk and 23:00 on 2 December in Moscow.
    now = datetime.datetime(2026, 12, 2, 20, 0, tzinfo=datetime.UTC)
    assert _when("завтра", now, "Asia/Irkutsk").date_from == datetime.date(2026, 12, 4)
    assert _when("завтра", now, "Europe/Moscow").date_from == datetime.date(2026, 12, 3)
    assert _when("в пятницу", now, "Asia/Irkutsk").date_from == datetime.date(2026, 12, 4)
    assert _when("сегодня вечером", now, "Asia/Irkutsk").date_from == datetime.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "date_from", "date_to", "time_from", "time_to"),
    [
        ("в пятницу к 10", "2026-12-04", "2026-12-04", "10:00", "10:00"),
        ("завтра после обеда", "2026-12-03", "2026-12-03", "13:00", "18:00"),
        ("next Tuesday morning", "2026-12-08", "2026-12-08", "08:00", "12:00"),
        ("на следующей неделе", "2026-12-07", "2026-12-13", None, None),
        ("вечером", None, None, "17:00", "21:00"),
        ("in the afternoon", None, None, "13:00", "18:00"),
        ("в среду", "2026-12-02", "2026-12-02", None, None),
        ("в следующую среду", "2026-12-09", "2026-12-09", None, None),
        ("5 января", "2027-01-05", "2027-01-05", None, None),
        ("1 декабря", "2027-12-01", "2027-12-01", None, None),
        ("December 24th at 9:15", "2026-12-24", "2026-12-24", "09:15", "09:15"),
        ("25.12.2026 в 16:00", "2026-12-25", "2026-12-25", "16:00", "16:00"),
        ("до 12", None, None, None, "12:00"),
        ("after 6 pm", None, None, "18:00", None),
        ("в 3 ночи", None, None, "03:00", "03:00"),
        ("через 3 дня", "2026-12-05", "2026-12-05", None, None),
        ("на выходных", "2026-12-05", "2026-12-06", None, None),
        ("5-го дек.", "2026-12-05", "2026-12-05", None, None),
    ],
)
def test_dates_and_times_relative_to_now(text, date_from, date_to, time_from, time_to):
    when = read(text, VOCABULARY).when
    assert when is not None
    assert (when.date_from.isoformat() if when.date_from else None) == date_from
    assert (when.date_to.isoformat() if when.date_to else None) == date_to
    assert (when.time_from.strftime("%H:%M") if when.time_from else None) == time_from
    assert (when.time_to.strftime("%H:%M") if when.time_to else None) == time_to


def test_words_without_a_date_give_none():
    assert read("запишите к кардиологу", VOCABULARY).when is None
    # A duration is no date, and its number no time.
    assert read("на 2 недели больничный", VOCABULARY).when is None


def test_low_signal_text_is_unknown_with_low_confidence():
    understanding = read("ммм", VOCABULARY)
    assert (understanding.intent, understanding.followup) == ("unknown", False)
    assert understanding.confidence < 0.3
    assert read("да", VOCABULARY).followup is True


def test_emergency_beats_every_other_intent():
    understanding = read("отмените запись, у меня кровотечение", VOCABULARY)
    assert understanding.intent == "emergency"
    assert understanding.confidence > 0.9
