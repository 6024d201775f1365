"""The beat schedule names only tasks the worker knows (a typo would fail silently in beat)."""

from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks)


# The apps whose tasks are ours (Celery's own start with "celery.").
APPS = ("portal.", "notifications.", "scheduling.", "crm.", "analytics.")
# Parameters that are not ids but hold no person: a schedule change's search window (clinic,
# doctor and service ids, local dates, the UTC starts free before the change).
NOT_PERSONAL = {("scheduling.tasks.offer_opened_slots", "watch")}


def test_tasks_take_ids_never_personal_data():
    """Broker messages sit in Redis in clear: a task names what it works on by id and reads
    the rest from the database (STYLE.md: tasks receive ids)."""
    import inspect

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith(APPS)}
    assert ours, "no Medfront task registered"
    for name, task in ours.items():
        for parameter in inspect.signature(task.run).parameters.values():
            if (name, parameter.name) in NOT_PERSONAL:
                continue
            assert parameter.name.endswith(("_id", "_ids")), f"{name}({parameter.name})"
