"""alternatives: feasible, within the slack, different from the optimum; the robust core."""
from __future__ import annotations

import pandas as pd
import pytest

import model
from model.alternatives import alternatives
from model.cli import main
from conftest import write_dataset, write_scenario


@pytest.fixture
def sited(tmp_path):
    """Two clusters with a minimum scale and a fixed cost, so that `established` means real output."""
    return write_dataset(
        tmp_path / "sited",
        regions=[{"region": f"r{n}", "hinterland": n > 2} for n in range(1, 5)],
        clusters=[{"cluster": "a", "target": 10, "min_scale": 4, "fixed_cost": 0.5, "max_sites": 2},
                  {"cluster": "b", "target": 8, "min_scale": 3, "fixed_cost": 0.5, "max_sites": 2}],
        resources=["land"], intensity={("a", "land"): 1, ("b", "land"): 1},
        capacity={(f"r{n}", "land"): 9 for n in range(1, 5)},
        suitability={("a", "r1"): 2.0, ("a", "r2"): 1.9, ("a", "r3"): 1.8, ("a", "r4"): 1.0,
                     ("b", "r1"): 1.0, ("b", "r2"): 1.1, ("b", "r3"): 1.05, ("b", "r4"): 1.0})


def test_alternatives_are_feasible_near_optimal_and_different(tmp_path, sited):
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", sited))
    slack = 0.05
    found = alternatives(scenario, slack=slack, count=2)
    optimum = found.results[0].objective
    assert len(found.table) == 3
    for result in found.results.values():
        assert result.objective >= (1 - slack) * optimum - 1e-5
        layout = result.layout
        # targets, ceilings, min_scale and max_sites hold
        assert layout.groupby("cluster")["output"].sum().to_dict() == pytest.approx({"a": 10, "b": 8})
        assert (layout.groupby("region")["output"].sum() <= 9 + 1e-6).all()
        established = layout[layout["established"] == 1]
        assert (established["output"] >= established["cluster"].map({"a": 4, "b": 3}) - 1e-6).all()
        assert (established.groupby("cluster").size() <= 2).all()
        # the reported objective is the benefit of this layout, recomputed by hand
        score = {("a", "r1"): 2.0, ("a", "r2"): 1.9, ("a", "r3"): 1.8, ("a", "r4"): 1.0,
                 ("b", "r1"): 1.0, ("b", "r2"): 1.1, ("b", "r3"): 1.05, ("b", "r4"): 1.0}
        benefit = sum(score[c, r] * x for c, r, x in zip(layout["cluster"], layout["region"], layout["output"]))
        assert result.objective == pytest.approx(benefit - 0.5 * len(established))
    assert (found.table.loc[1:, "distance_to_optimum"] > 0).all()
    assert found.table.loc[2, "min_distance_to_others"] > 0


def test_cli_writes_alternatives_and_robust_core(tmp_path, sited):
    out = tmp_path / "alt"
    assert main(["alternatives", str(write_scenario(tmp_path / "s.yaml", sited)), "--slack", "0.1", "--count", "2",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "alternatives.csv")
    assert list(table.columns) == ["alternative", "objective", "distance_to_optimum", "min_distance_to_others"]
    core = pd.read_csv(out / "robust_core.csv")
    for alternative in ("optimum", "alternative_1", "alternative_2"):
        layout = pd.read_csv(out / "points" / alternative / "layout.csv")
        chosen = set(zip(layout.loc[layout["established"] == 1, "cluster"], layout.loc[layout["established"] == 1, "region"]))
        assert set(zip(core["cluster"], core["region"])) <= chosen
