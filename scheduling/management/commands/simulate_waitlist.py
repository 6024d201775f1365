"""`manage.py simulate_waitlist`: how many cancellations the waitlist fills within 2 hours.

Never runs on the project's database. The command makes a throw-away SQLite copy of the demo
network (a new file, migrated and seeded with `seed_demo`), runs itself again as a child
process on that file (DATABASE_URL), prints the child's report and deletes the file (unless
`--db` named one to keep). The child refuses any database but the file it was given.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling.simulation import (
    MAX_DAYS,
    Assumptions,
    CellResult,
    SimulationError,
    depth_reaching_target,
    simulate,
)

DEFAULT_DEPTHS = "2,4,8,12"
DEFAULT_PROBABILITIES = "0.4,0.7"


def _numbers(text: str, kind: type, name: str) -> list:
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise CommandError(f"{name}: give a comma-separated list of numbers.")
    return values


class Command(BaseCommand):
    help = (
        "Simulate the cancellation waitlist on a throw-away copy of the demo network and "
        "print the share of cancellations filled within 2 hours per waitlist depth and reply "
        "probability."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Days simulated (1–53).")
        parser.add_argument(
            "--depths", default=DEFAULT_DEPTHS, help=f"Waitlist depths (default {DEFAULT_DEPTHS})."
        )
        parser.add_argument(
            "--reply-probabilities",
            default=DEFAULT_PROBABILITIES,
            help=f"Chances that an offered patient answers (default {DEFAULT_PROBABILITIES}).",
        )
        parser.add_argument(
            "--cancellations-per-day", type=float, default=Assumptions.cancellations_per_day
        )
        parser.add_argument("--yes-share", type=float, default=Assumptions.yes_share)
        parser.add_argument(
            "--reply-delay-minutes", type=float, default=Assumptions.reply_delay_mean_minutes
        )
        parser.add_argument("--seed", type=int, default=Assumptions.seed)
        parser.add_argument(
            "--patients", type=int, default=300, help="Patients in the copy (seed_demo)."
        )
        parser.add_argument(
            "--db",
            default="",
            help="SQLite file for the copy, kept afterwards; it must not exist yet.",
        )
        # Internal: the child process, running on the copy named here.
        parser.add_argument("--in-copy", default="", help="(internal)")

    def handle(self, *args, **options) -> None:
        if not 1 <= options["days"] <= MAX_DAYS:
            raise CommandError(f"--days must lie between 1 and {MAX_DAYS}.")
        depths = _numbers(options["depths"], int, "--depths")
        probabilities = _numbers(options["reply_probabilities"], float, "--reply-probabilities")
        if not all(d >= 1 for d in depths) or not all(0 <= p <= 1 for p in probabilities):
            raise CommandError("Depths must be at least 1 and probabilities within 0–1.")
        if options["in_copy"]:
            self._simulate(options, depths, probabilities)
        else:
            self._spawn(options)

    def _spawn(self, options: dict) -> None:
        keep = bool(options["db"])
        if keep:
            path = Path(options["db"]).resolve()
            if path.exists():
                raise CommandError(f"{path} exists: name a new file for the copy.")
        else:
            handle, name = tempfile.mkstemp(prefix="medfront-waitsim-", suffix=".sqlite3")
            os.close(handle)
            path = Path(name)
            path.unlink()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{path}",
            # The project's settings with DEBUG on, whatever the caller runs under (tests too).
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "1",
            # In-process Celery and cache, the development sender: nothing leaves the copy.
            "REDIS_URL": "",
            "NOTIFICATION_SENDERS": "",
            "DEV_OUTBOX_LOG": "",
        }
        argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "simulate_waitlist"]
        for name in (
            "days",
            "depths",
            "reply_probabilities",
            "cancellations_per_day",
            "yes_share",
            "reply_delay_minutes",
            "seed",
            "patients",
        ):
            argv += [f"--{name.replace('_', '-')}", str(options[name])]
        argv += ["--in-copy", str(path)]
        self.stderr.write(f"Copy of the demo network: {path}")
        try:
            # The child's progress (stderr) shows as it goes; its report (stdout) is printed here.
            done = subprocess.run(  # noqa: S603 - this interpreter, this manage.py
                argv,
                env=env,
                cwd=settings.BASE_DIR,
                stdout=subprocess.PIPE,
                text=True,
                check=False,
            )
        finally:
            if not keep:
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.stdout.write(done.stdout, ending="")
        if done.returncode:
            raise CommandError("The simulation failed (its output is above).")

    def _simulate(self, options: dict, depths: list[int], probabilities: list[float]) -> None:
        database = settings.DATABASES["default"]
        if (
            database["ENGINE"] != "django.db.backends.sqlite3"
            or Path(database["NAME"]).resolve() != Path(options["in_copy"]).resolve()
        ):
            raise CommandError("--in-copy runs only on the copy it names (DATABASE_URL).")
        started = time.monotonic()
        quiet = open(os.devnull, "w")  # noqa: SIM115 - closed below
        try:
            call_command("migrate", verbosity=0, stdout=quiet)
            call_command(
                "seed_demo", patients=options["patients"], quiet=True, stdout=quiet, stderr=quiet
            )
        finally:
            quiet.close()
        assumptions = Assumptions(
            days=options["days"],
            cancellations_per_day=options["cancellations_per_day"],
            yes_share=options["yes_share"],
            reply_delay_mean_minutes=options["reply_delay_minutes"],
            seed=options["seed"],
        )
        seeded = time.monotonic()
        try:
            results = simulate(
                assumptions=assumptions,
                depths=depths,
                reply_probabilities=probabilities,
                progress=lambda r: self.stderr.write(
                    f"  depth {r.depth}, p {r.reply_probability:g}: {r.fill_rate:.0%}"
                ),
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        self._report(assumptions, results, depths, probabilities)
        self.stdout.write(
            f"\n(copy seeded in {seeded - started:.0f} s, simulated in "
            f"{time.monotonic() - seeded:.0f} s)"
        )

    def _report(
        self,
        assumptions: Assumptions,
        results: list[CellResult],
        depths: list[int],
        probabilities: list[float],
    ) -> None:
        out = self.stdout.write
        out("Cancellation waitlist simulation (seed 003: ≥ 80 % filled within 2 hours)")
        for line in assumptions.lines():
            out(f"  {line}")
        out("")
        out("Share of cancellations filled within 2 hours")
        header = "depth \\ reply p " + "".join(f"{p:>9g}" for p in probabilities)
        out(header)
        by_cell = {(r.depth, r.reply_probability): r for r in results}
        for depth in depths:
            cells = "".join(f"{by_cell[depth, p].fill_rate:>9.0%}" for p in probabilities)
            out(f"{depth:>15} {cells}")
        out("")
        out("Cancellations, filled (any time), median minutes to fill, offers sent")
        for r in results:
            median = r.median_fill_minutes
            out(
                f"  depth {r.depth:>3}, p {r.reply_probability:<4g}: {r.cancellations:>4} "
                f"cancelled, {r.filled:>4} filled, "
                f"{'-' if median is None else f'{median:.0f}':>4} min, {r.offers:>5} offers "
                f"{r.outcomes}"
            )
        out("")
        for p in probabilities:
            reaching = depth_reaching_target(results, p)
            reached = f"depth {reaching}" if reaching is not None else "not reached in this grid"
            out(f"≥ 80 % within 2 hours at reply probability {p:g}: {reached}")
