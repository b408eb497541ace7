"""diagnose: blames what makes a scenario infeasible, in its units; on a feasible one, what binds."""
from __future__ import annotations

import pandas as pd
import pytest

from model.cli import main
from model.diagnose import diagnose
from conftest import write_scenario


def test_one_ceiling_is_blamed_and_nothing_else(tmp_path, tiny):
    # only r1 can host: 12 of water for 20 of targets → the r1 ceiling is 8 short
    scenario = write_scenario(tmp_path / "s.yaml", tiny, ceilings={"water": {"regions": {"r2": 0.0, "r3": 0.0}}},
                              resilience={"hinterland_share": None})
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
    scenario = write_scenario(tmp_path / "s.yaml", tiny, resilience={"disruption_survival": 0.6},
                              ceilings={"water": {"regions": {"r2": 1 / 6, "r3": 1 / 6, "r1": 2.0}}})
    table = diagnose(scenario).diagnosis
    assert set(table["family"]) <= {"ceiling", "disruption"} and len(table) >= 1
    assert table["shortfall"].sum() > 0


def test_concentration_cap_and_lock_out_can_give(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, resilience={"concentration_cap": 0.5},
                              ceilings={"water": {"regions": {"r2": 0.0, "r3": 0.0}}}, targets={"clusters": {"b": 0.2}})
    table = diagnose(scenario).diagnosis
    assert list(table["family"]) == ["link"] and table["shortfall"].iloc[0] == pytest.approx(5)
    locked = write_scenario(tmp_path / "l.yaml", tiny, lock_out=[{"cluster": "b", "macro_region": "east"},
                                                                  {"cluster": "b", "region": "r2"},
                                                                  {"cluster": "b", "region": "r3"}])
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
    assert list(pd.read_csv(out / "diagnosis.csv").columns) == ["family", "cluster", "region", "resource", "disruption",
                                                                "shortfall", "unit"]
    # a target with no allowed cell cannot be repaired by ceilings and goals, only by the target itself
    (tiny / "clusters.csv").write_text((tiny / "clusters.csv").read_text() + "c,C,future,false,5,0,9,0\n")
    hopeless = write_scenario(tmp_path / "h.yaml", tiny)
    assert main(["diagnose", str(hopeless), "--out", str(tmp_path / "h")]) == 3
    assert main(["diagnose", str(hopeless), "--relax-targets", "--out", str(tmp_path / "h2")]) == 0
    assert "target of c" in capsys.readouterr().out
