"""diagnose: blames what makes a scenario infeasible, in its units; on a feasible one, what binds."""

from __future__ import annotations

import pandas as pd
import pytest

from model.cli import main
from model.diagnose import diagnose
from conftest import DEFAULT_DATA, write_dataset, write_scenario


def test_one_ceiling_is_blamed_and_nothing_else(tmp_path, tiny):
    # only r1 can host: 12 of water for 20 of targets → the r1 ceiling is 8 short
    scenario = write_scenario(
        tmp_path / "s.yaml",
        tiny,
        ceilings={"water": {"regions": {"r2": 0.0, "r3": 0.0}}},
        resilience={"hinterland_share": None},
    )
    diagnosis = diagnose(scenario)
    assert not diagnosis.feasible
    table = diagnosis.diagnosis
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["family"], row["region"], row["resource"]) == ("ceiling", "r1", "water")
    assert row["shortfall"] == pytest.approx(8) and row["unit"] == "unit"
    assert any("water ceiling in r1" in s for s in diagnosis.sentences)


def test_ceiling_behind_the_link_bound_is_not_reimposed(tmp_path, tiny):
    # a goal and a ceiling together: 60 % of a must survive losing r1, but r2 and r3 hold 2 each
    scenario = write_scenario(
        tmp_path / "s.yaml",
        tiny,
        resilience={"disruption_survival": 0.6},
        ceilings={"water": {"regions": {"r2": 1 / 6, "r3": 1 / 6, "r1": 2.0}}},
    )
    table = diagnose(scenario).diagnosis
    assert set(table["family"]) <= {"ceiling", "disruption"} and len(table) >= 1
    assert table["shortfall"].sum() > 0


def test_concentration_cap_and_lock_out_can_give(tmp_path, tiny):
    # a (critical, 10) can only be hosted in r1; a cap of 50 % per region leaves 5 without a place
    only_r1 = write_dataset(
        tmp_path / "r1",
        regions=[{"region": "r1"}, {"region": "r2", "macro_region": "central"}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}],
        resources=["water"],
        intensity={("a", "water"): 1},
        capacity={("r1", "water"): 12, ("r2", "water"): 12},
        suitability={("a", "r1"): 3},
    )
    scenario = write_scenario(tmp_path / "s.yaml", only_r1, resilience={"concentration_cap": 0.5})
    table = diagnose(scenario).diagnosis
    assert list(table["family"]) == ["link"] and table["shortfall"].iloc[0] == pytest.approx(5)
    locked = write_scenario(
        tmp_path / "l.yaml",
        tiny,
        lock_out=[
            {"cluster": "b", "macro_region": "east"},
            {"cluster": "b", "region": "r2"},
            {"cluster": "b", "region": "r3"},
        ],
    )
    table = diagnose(locked).diagnosis
    assert list(table["family"]) == ["lock_out"] and table["shortfall"].iloc[0] == pytest.approx(10)


def test_feasible_scenario_reports_binding_constraints(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, ceilings={"water": {"regions": {"r1": 0.5}}})
    diagnosis = diagnose(scenario)
    assert diagnosis.feasible and diagnosis.diagnosis.empty
    binding = diagnosis.binding
    row = binding[binding["family"] == "ceiling"].iloc[0]
    assert (row["region"], row["resource"]) == ("r1", "water") and row["shadow_price"] == pytest.approx(1)


def test_cli_exit_codes_and_files(tmp_path, tiny, capsys):
    infeasible = write_scenario(tmp_path / "s.yaml", tiny, ceilings={"water": {"scale": 0.5}})
    out = tmp_path / "d"
    assert main(["diagnose", str(infeasible), "--out", str(out)]) == 0
    assert "short" in capsys.readouterr().out
    assert list(pd.read_csv(out / "diagnosis.csv").columns) == [
        "family",
        "cluster",
        "region",
        "resource",
        "disruption",
        "shortfall",
        "unit",
    ]
    # a target with no allowed cell cannot be repaired by ceilings and goals, only by the target itself
    (tiny / "clusters.csv").write_text((tiny / "clusters.csv").read_text() + "c,C,future,false,5,0,9,0\n")
    hopeless = write_scenario(tmp_path / "h.yaml", tiny)
    assert main(["diagnose", str(hopeless), "--out", str(tmp_path / "h")]) == 3
    assert main(["diagnose", str(hopeless), "--relax-targets", "--out", str(tmp_path / "h2")]) == 0
    assert "target of c" in capsys.readouterr().out


def test_a_water_cut_is_diagnosed_as_water_shortfalls_only(tmp_path):
    # On the default dataset water binds; a scenario that keeps 20 % of every water ceiling is short of
    # water. Weighed against the dataset's own figures, the relaxation gives water and nothing else —
    # not the carbon, energy or land of regions the scenario never touched.
    # Chains are off: with them (free flows on a connected graph, so the same optimum) HiGHS returns an
    # equally weighted relaxation that trades some of Hunan's water for Guangdong's environment.
    scenario = write_scenario(
        tmp_path / "s.yaml",
        DEFAULT_DATA,
        resilience={"concentration_cap": 0.35},
        ceilings={"water": {"scale": 0.2}},
        solver={"time_limit": 60, "mip_gap": 0.001},
        chains={"enabled": False},
    )
    table = diagnose(scenario).diagnosis
    assert len(table) > 0
    assert set(table["family"]) == {"ceiling"} and set(table["resource"]) == {"water"}


def test_a_lock_in_that_cannot_fit_is_diagnosed_as_that_lock_in(tmp_path):
    # r1 holds 6 of water; a lock-in asks for 8 there. Giving 2 of the lock-in is a quarter of it;
    # giving 2 of r1's water is a third of the dataset's figure: the lock-in is named.
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}, {"region": "r2", "macro_region": "central"}],
        clusters=[{"cluster": "a", "target": 10}, {"cluster": "b", "target": 4}],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={("r1", "water"): 6, ("r2", "water"): 20},
        suitability={("a", "r1"): 2, ("a", "r2"): 1, ("b", "r1"): 1, ("b", "r2"): 1},
    )
    scenario = write_scenario(tmp_path / "s.yaml", data, lock_in=[{"cluster": "a", "region": "r1", "min_output": 8}])
    table = diagnose(scenario).diagnosis
    assert list(zip(table["family"], table["cluster"], table["region"])) == [("lock_in", "a", "r1")]
    assert table["shortfall"].iloc[0] == pytest.approx(2)
