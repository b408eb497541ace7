"""pareto: non-dominated points from the benefit optimum to the resilience or resource extreme."""

from __future__ import annotations

import pytest

from model.cli import main
from model.pareto import pareto
from conftest import write_dataset, write_scenario


def test_front_against_resilience(tmp_path, tiny):
    # benefit 40 at resilience 0 (a all in r1) … 30 at resilience 1 (a all in r2): linear in between
    front = pareto(write_scenario(tmp_path / "s.yaml", tiny), "resilience", points=5).front
    assert front["value"].iloc[0] == pytest.approx(0) and front["objective"].iloc[0] == pytest.approx(40)
    assert front["value"].max() == pytest.approx(1) and front["objective"].min() == pytest.approx(30)
    for row in front.itertuples():
        assert row.objective == pytest.approx(40 - 10 * row.value)
    values, objectives = front["value"].to_numpy(), front["objective"].to_numpy()
    for n in range(len(front)):
        dominated = (
            (values >= values[n])
            & (objectives >= objectives[n])
            & ((values > values[n]) | (objectives > objectives[n]))
        )
        assert not dominated.any()


def test_front_against_a_resource(tmp_path, tiny):
    # water use is always 20 (intensity 1, targets 20): the front collapses to one point
    front = pareto(write_scenario(tmp_path / "s.yaml", tiny), "water", points=3).front
    assert len(front) == 1 and front["value"].iloc[0] == pytest.approx(20)


def test_cli_writes_front_and_point_folders(tmp_path, tiny):
    out = tmp_path / "front"
    assert main(["pareto", str(write_scenario(tmp_path / "s.yaml", tiny)), "--points", "3", "--out", str(out)]) == 0
    assert (out / "front.csv").read_text().startswith("point,objective,against,value")
    assert len(list((out / "points").iterdir())) == 3
    assert main(["pareto", str(tmp_path / "s.yaml"), "--against", "gold"]) == 2


def test_front_against_resilience_counts_backup(tmp_path, tiny):
    # With standby capacity (0.05 a unit, counted against no ceiling), a stays all in r1 (score 3) and
    # holds z·10 of backup in r2, a hinterland cell of capacity U = 10: the coast's loss leaves z
    # surviving at a cost of 0.5·z, not 10·z as when output itself moves inland (test above).
    scenario = write_scenario(tmp_path / "s.yaml", tiny, backup={"cost": 0.05, "resources": []})
    found = pareto(scenario, "resilience", points=3)
    front = found.front
    assert front["value"].tolist() == pytest.approx([0, 0.5, 1])
    assert front["objective"].tolist() == pytest.approx([40, 39.75, 39.5])
    extreme = found.results[int(front["point"].iloc[-1])]
    layout = extreme.layout.set_index(["cluster", "region"])["output"]
    assert layout[("a", "r1")] == pytest.approx(10)  # no output survives the coast's loss: backup does
    assert extreme.backup["backup"].sum() == pytest.approx(10)
    assert extreme.objective_terms["backup"] == pytest.approx(-0.5)


def test_front_against_resilience_with_recourse_stops_where_the_chain_cannot_follow(tmp_path):
    # d (critical, target 10) scores 3 on the coast r1 and 2 inland; its input u (q = 0.5) scores 3 on
    # the coast and 1 inland, where land holds only 2.5 of it. A share z of d surviving the coast's loss
    # costs 10·z for d and, with recourse, 10·z for the 5·z of u that must survive with it — so z stops
    # at 2.5 / 5 = 0.5, not at 1 as d alone could: the extreme asks recourse too, and every point solves.
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": "u", "target": 10}, {"cluster": "d", "target": 10, "critical": True}],
        resources=["land"],
        intensity={("u", "land"): 1},
        capacity={("r1", "land"): 100, ("r2", "land"): 2.5},
        suitability={("u", "r1"): 3, ("u", "r2"): 1, ("d", "r1"): 3, ("d", "r2"): 2},
        disruptions={"coast": ["r1"]},
        chains={("u", "d"): 0.5},
        corridors={("r1", "r2"): 100},
    )
    scenario = write_scenario(
        tmp_path / "s.yaml", data, resilience={"disruption_survival": 0.0}, chains={"recourse": True}
    )
    found = pareto(scenario, "resilience", points=3)
    front = found.front
    assert front["point"].tolist() == [0, 1, 2] and (front["status"] == "optimal").all()
    assert front["value"].tolist() == pytest.approx([0, 0.25, 0.5])
    assert front["objective"].tolist() == pytest.approx([60, 55, 50])
    recourse = found.results[2].recourse.set_index("cluster")
    assert recourse.loc["u", "surviving"] == pytest.approx(2.5) and recourse.loc["u", "required"] == pytest.approx(2.5)
