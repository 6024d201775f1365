"""`config.postgresql`: Django's backend loading timestamptz with psycopg's C loader.

Every datetime it answers must be the one Django's own backend answers: the same instant,
aware, with `datetime.UTC` as its tzinfo.
"""

import datetime
import zoneinfo

import pytest
from django.db import connection, connections, transaction
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoDatabaseWrapper

from config.postgresql.base import DatabaseWrapper, native_utc_loader
from portal.models import User

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

IRKUTSK = zoneinfo.ZoneInfo("Asia/Irkutsk")
# Microseconds, a DST change in Moscow's history, far past and far future, an Irkutsk time.
MOMENTS = [
    datetime.datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=datetime.UTC),
    datetime.datetime(2010, 3, 28, 1, 59, 59, tzinfo=datetime.UTC),
    datetime.datetime(1901, 1, 1, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(2027, 1, 15, 8, 0, tzinfo=IRKUTSK),
]
SELECT_MOMENTS = "SELECT unnest(%s::timestamptz[])"


def answers(wrapper) -> list[datetime.datetime]:
    with wrapper.cursor() as cursor:
        cursor.execute(SELECT_MOMENTS, [MOMENTS])
        return [value for (value,) in cursor.fetchall()]


def a_second_wrapper(cls, **settings_changes):
    return cls({**connection.settings_dict, **settings_changes}, alias="second")


def test_the_served_backend_loads_timestamptz_with_psycopgs_c_loader():
    connection.ensure_connection()
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.loads_utc_natively
    assert connection.connection.adapters.get_loader(1184, 0) is native_utc_loader()
    assert native_utc_loader().__module__.startswith("psycopg_")


def test_its_datetimes_are_djangos_instant_for_instant_and_in_utc():
    django_wrapper = a_second_wrapper(DjangoDatabaseWrapper)
    try:
        expected = answers(django_wrapper)
    finally:
        django_wrapper.close()
    loaded = answers(connection)
    assert loaded == expected == MOMENTS
    assert all(value.tzinfo is datetime.UTC for value in loaded)
    assert [value.isoformat() for value in loaded] == [value.isoformat() for value in expected]


def test_orm_reads_including_named_cursors_answer_utc():
    user = User.objects.create_user(email="loader@example.test", password="x")
    User.objects.filter(pk=user.pk).update(last_login=MOMENTS[4])
    assert User.objects.get(pk=user.pk).last_login.tzinfo is datetime.UTC
    with transaction.atomic():  # iterator() reads through a named (server-side) cursor
        (last_login,) = (
            User.objects.filter(pk=user.pk)
            .values_list("last_login", flat=True)
            .iterator(chunk_size=1)
        )
    assert last_login == MOMENTS[4]
    assert last_login.tzinfo is datetime.UTC


def test_named_cursors_with_client_side_binding_answer_utc():
    wrapper = a_second_wrapper(
        DatabaseWrapper,
        OPTIONS={**connection.settings_dict["OPTIONS"], "server_side_binding": False},
    )
    try:
        with wrapper.cursor():  # connects
            pass
        assert wrapper.loads_utc_natively
        with _in_transaction(wrapper):
            cursor = wrapper.create_cursor(name="named_client_side")
            cursor.execute(SELECT_MOMENTS, [MOMENTS])
            assert [value for (value,) in cursor.fetchall()] == MOMENTS
            cursor.close()
    finally:
        wrapper.close()


def _in_transaction(wrapper):
    class _Block:
        def __enter__(self):
            wrapper.set_autocommit(False)

        def __exit__(self, *exc):
            wrapper.rollback()
            wrapper.set_autocommit(True)

    return _Block()


def test_a_database_in_another_time_zone_keeps_djangos_loader(settings):
    wrapper = a_second_wrapper(DatabaseWrapper, TIME_ZONE="Asia/Irkutsk")
    try:
        loaded = answers(wrapper)
        assert not wrapper.loads_utc_natively
        assert loaded == MOMENTS
        assert all(value.tzinfo == IRKUTSK for value in loaded)
    finally:
        wrapper.close()
