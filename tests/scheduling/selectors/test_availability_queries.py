"""The engine's plain-SQL reads: rows by column name, lists of ids that may be empty."""

from typing import NamedTuple

import pytest

from scheduling.selectors.availability.queries import as_json, as_uuid, fetch, in_list

pytestmark = pytest.mark.django_db


class Pair(NamedTuple):
    b: int
    a: int


def test_rows_are_built_by_column_name_not_by_position():
    (row,) = fetch(Pair, "SELECT 1 AS a, 2 AS b", [])
    assert row == Pair(b=2, a=1)


def test_a_column_the_row_type_does_not_know_is_refused():
    with pytest.raises(TypeError):
        fetch(Pair, "SELECT 1 AS a, 2 AS c", [])


def test_an_empty_id_list_matches_nothing_rather_than_breaking_the_sql():
    condition, params = in_list("x", [])
    assert (condition, params) == ("1 = 0", [])
    assert fetch(Pair, f"SELECT 1 AS a, 2 AS b WHERE {condition}", params) == []  # noqa: S608
    assert in_list("x", [3, 5]) == ("x IN (%s, %s)", [3, 5])


def test_uuid_and_json_columns_read_the_same_on_both_databases():
    value = as_uuid("0123456789abcdef0123456789abcdef")
    assert as_uuid(value) is value
    assert str(value) == "01234567-89ab-cdef-0123-456789abcdef"
    assert as_json('[["11:00", "11:30"]]') == [["11:00", "11:30"]]
    assert as_json([["11:00", "11:30"]]) == [["11:00", "11:30"]]
