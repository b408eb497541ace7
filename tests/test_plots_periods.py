"""Pictures of a phased run (docs/run-folder.md#plots): each cluster year by year, output by
macro-region per period, ceiling use per period, the report's Periods section; the pictures of one
layout show the last year."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario
from test_plots import assert_png, assert_self_contained, province_dataset

pytest.importorskip("matplotlib")

from model.plots import plot_run  # noqa: E402
from model.plots.periods import Phased, binding_by_period  # noqa: E402


@pytest.fixture(scope="module")
def phased_run(tmp_path_factory) -> Path:
    """The 31-province test dataset over 2026, 2028, 2030 with water tightening by period."""
    import model

    base = tmp_path_factory.mktemp("phased")
    data = province_dataset(base / "data")
    scenario = write_scenario(
        base / "phased.yaml",
        data,
        resilience={"concentration_cap": 0.4, "hinterland_share": 0.3, "min_sites": 3},
        periods={"years": [2026, 2028, 2030], "ceilings": {"water": [1.0, 0.8, 0.6]}},
    )
    result = model.solve(str(scenario))
    assert result.solved, result.message
    return result.write(base / "run")


def test_a_phased_run_draws_every_year_and_the_transfer(phased_run: Path):
    paths = {p.name: p for p in plot_run(phased_run)}
    for name in (
        "periods_output.png",
        "periods_chips.png",
        "periods_steel.png",
        "periods_tourism.png",
        "total_output.png",
        "ceilings.png",
        "resilience.png",
    ):
        assert name in paths, sorted(paths)
        assert_png(paths[name])
    report = (phased_run / "report.html").read_text(encoding="utf-8")
    assert "Periods" in report and "Sites by the year they open" in report
    assert_self_contained(phased_run / "report.html", images=len(paths))


def test_the_pictures_of_one_layout_show_the_last_year(phased_run: Path):
    import model

    result = model.Result.read(phased_run)
    phased = Phased.of(result.tables, result.summary())
    assert phased.years == [2026, 2028, 2030] and phased.year == 2030
    last = phased.last(result.regions)
    assert "period" not in last.columns and len(last) == 31
    expected = result.regions[result.regions["period"] == 2030]["output"].sum()
    assert last["output"].sum() == pytest.approx(expected)
    assert set(phased.opened()["opened"]) <= {2026, 2028, 2030}


def test_ceiling_use_names_the_ceilings_that_bind_in_some_year():
    resources = pd.DataFrame(
        {
            "region": ["r1", "r1", "r2", "r2"],
            "resource": ["water"] * 4,
            "period": [2026, 2030, 2026, 2030],
            "used": [5, 10, 3, 3],
            "available": [10, 10, 10, 10],
            "utilization": [0.5, 1.0, 0.3, 0.3],
            "shadow_price": [0.0, 0.7, 0.0, 0.0],
        }
    )
    chosen = binding_by_period(resources)
    assert list(zip(chosen["region"], chosen["resource"])) == [("r1", "water")]
    assert chosen["price"].tolist() == pytest.approx([0.7])


def test_a_comparison_of_phased_runs_maps_the_last_year(phased_run: Path, tmp_path: Path):
    import model
    from model.compare import compare
    from model.plots import plot_compare

    flat = model.solve(str(phased_run / "scenario.yaml"), periods=None).write(tmp_path / "flat")
    folder = compare(flat, phased_run).write(tmp_path / "cmp")
    assert set(pd.read_csv(folder / "changes.csv")["period"]) == {2026, 2028, 2030}
    paths = plot_compare(folder)
    assert {p.name for p in paths} == {"difference_map.png", "largest_moves.png"}
