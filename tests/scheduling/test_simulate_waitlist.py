"""`manage.py simulate_waitlist`: a tiny run on its own throw-away copy of the demo network."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from scheduling.models import Appointment, FreedSlot, WaitlistEntry
from scheduling.simulation import CellResult, depth_reaching_target


@pytest.mark.django_db
def test_a_tiny_run_fills_slots_and_prints_the_grid(tmp_path):
    copy = tmp_path / "copy.sqlite3"
    before = (Appointment.objects.count(), FreedSlot.objects.count())
    out = io.StringIO()
    call_command(
        "simulate_waitlist",
        days=2,
        depths="2,4",
        reply_probabilities="0.5,0.9",
        cancellations_per_day=4,
        db=str(copy),
        stdout=out,
        stderr=io.StringIO(),
    )
    report = out.getvalue()
    # The assumptions are printed with the result.
    assert "YES in 75% of answers" in report
    assert "held 7 min" in report
    lines = report.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("depth \\ reply p"))
    assert lines[header].split()[-2:] == ["0.5", "0.9"]
    rows = [lines[header + 1].split(), lines[header + 2].split()]
    assert [row[0] for row in rows] == ["2", "4"]
    assert all(len(row) == 3 and all(cell.endswith("%") for cell in row[1:]) for row in rows)
    filled = [int(n) for n in re.findall(r"(\d+) filled", report)]
    assert len(filled) == 4 and sum(filled) > 0
    assert report.count("≥ 80 % within 2 hours at reply probability") == 2
    # The copy was a file of its own, kept because it was named; this database is untouched.
    assert copy.exists()
    assert (Appointment.objects.count(), FreedSlot.objects.count()) == before
    assert not WaitlistEntry.objects.exists()


def test_the_copy_must_be_a_new_file(tmp_path):
    existing = tmp_path / "db.sqlite3"
    existing.write_bytes(b"")
    with pytest.raises(CommandError, match="exists"):
        call_command("simulate_waitlist", db=str(existing))


@pytest.mark.django_db
def test_the_simulation_refuses_any_database_but_its_copy(tmp_path):
    with pytest.raises(CommandError, match="only on the copy"):
        call_command("simulate_waitlist", days=1, in_copy=str(tmp_path / "other.sqlite3"))
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"days": 0}, "--days"),
        ({"days": 60}, "--days"),
        ({"depths": "a,b"}, "--depths"),
        ({"depths": "0"}, "at least 1"),
        ({"reply_probabilities": "1.5"}, "within 0"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_waitlist", **options)


def test_the_depth_reaching_80_percent():
    def cell(depth, p, filled):
        return CellResult(
            depth=depth, reply_probability=p, cancellations=10, filled_in_window=filled
        )

    results = [cell(2, 0.5, 5), cell(5, 0.5, 8), cell(8, 0.5, 9), cell(2, 0.9, 7)]
    assert depth_reaching_target(results, 0.5) == 5
    assert depth_reaching_target(results, 0.9) is None
    assert CellResult(depth=1, reply_probability=0.5).fill_rate == 0.0
