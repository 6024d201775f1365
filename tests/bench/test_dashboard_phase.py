"""The pure parts of the dashboard's bench phase (`bench.dashboard`) and its rows in the report."""

from bench import dashboard, report


def test_the_history_loads_a_small_step_then_the_rest():
    assert dashboard.history_steps(1_000_000) == (10_000, 990_000)
    assert dashboard.history_steps(30_000, small=10_000) == (10_000, 20_000)
    # A history no larger than the small step loads at once.
    assert dashboard.history_steps(8_000) == (8_000, 0)
    assert dashboard.history_steps(10_000) == (10_000, 0)


def _load(appointments, seconds):
    return {
        "appointments": appointments,
        "occupancy_rows": appointments // 10,
        "copy_s": seconds / 2,
        "occupancy_s": seconds / 2,
        "load_s": seconds,
        "grid_fill": appointments / 2_000_000,
        "doctors": 288,
    }


def test_two_loads_merge_into_one_figure():
    merged = dashboard.merge_loads(_load(9_980, 2.0), _load(989_700, 170.25))
    assert merged["appointments"] == 999_680
    assert merged["occupancy_rows"] == 998 + 98_970
    assert merged["load_s"] == 172.2  # rounded to a tenth, like every load time
    assert merged["steps"] == [9_980, 989_700]
    # The rest is the last step's: it describes the whole history.
    assert merged["grid_fill"] == 989_700 / 2_000_000
    assert merged["doctors"] == 288
    assert dashboard.merge_loads(_load(5_000, 1.0), None) == _load(5_000, 1.0)


def _phase(p50, p95):
    return {"p50_ms": p50, "p95_ms": p95}


def test_ratios_divide_the_full_history_by_the_small_one_and_by_the_trivial_view():
    results = {
        "phases": {
            "dashboard_small": _phase(200.0, 300.0),
            "trivial_dashboard_small": _phase(0.5, 1.0),
            "dashboard": _phase(250.0, 390.0),
            "trivial_dashboard": _phase(0.8, 2.0),
        }
    }
    dashboard.ratios(results)
    assert results["dashboard_growth_ratio"] == 1.3
    assert results["dashboard_growth_p50_ratio"] == 1.25
    # Against the trivial view of the same slices, not of the small history's.
    assert results["dashboard_p95_ratio"] == 195.0
    assert results["dashboard_p50_ratio"] == 312.5
    verdicts = report.target_verdicts(results)
    assert verdicts["dashboard_growth_ratio"] == "met"
    assert verdicts["dashboard_p95_ratio"] == "met"


def test_ratios_of_an_unmeasured_phase_are_none_and_not_measured():
    results = {"phases": {"dashboard": _phase(250.0, 390.0)}}
    dashboard.ratios(results)
    assert results["dashboard_growth_ratio"] is None
    assert results["dashboard_p95_ratio"] is None
    assert report.target_verdicts(results)["dashboard_growth_ratio"] == "not measured"


def test_a_dashboard_that_grows_with_history_misses_its_target():
    results = {"dashboard_growth_ratio": 2.4, "dashboard_p95_ratio": 251.0}
    verdicts = report.target_verdicts(results)
    assert verdicts["dashboard_growth_ratio"] == "missed"
    assert verdicts["dashboard_p95_ratio"] == "missed"


def test_the_table_shows_the_dashboard_rows_of_a_dashboard_run():
    results = {
        "only": "dashboard",
        "phases": {
            "dashboard_small": _phase(200.0, 300.0),
            "dashboard": _phase(250.0, 390.0),
            "trivial_dashboard": _phase(0.8, 2.0),
        },
        "dashboard": {"rebuild_s": 95.2},
        "queries_per_dashboard_small": 27,
        "queries_per_dashboard": 27,
        "rollup_day_s": 0.49,
        "history_overlaps": 0,
    }
    dashboard.ratios(results)
    table = report.format_table(results)
    assert "| dashboard_growth_ratio | 1.3 | ≤ 1.5 | met |" in table
    assert "| dashboard_p95_ratio | 195 | ≤ 250 | met |" in table
    assert "| rollup_day_s | 0.49 |  |  |" in table
    assert "27 / 27" in table
    assert "funnel_p95_ratio" not in table  # not measured in a dashboard run
    assert report.invariant_failures(results, only="dashboard") == []
