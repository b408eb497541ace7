"""pareto: non-dominated points from the benefit optimum to the resilience or resource extreme."""
from __future__ import annotations

import pytest

from model.cli import main
from model.pareto import pareto
from conftest import write_scenario


def test_front_against_resilience(tmp_path, tiny):
    # benefit 40 at resilience 0 (a all in r1) … 30 at resilience 1 (a all in r2): linear in between
    front = pareto(write_scenario(tmp_path / "s.yaml", tiny), "resilience", points=5).front
    assert front["value"].iloc[0] == pytest.approx(0) and front["objective"].iloc[0] == pytest.approx(40)
    assert front["value"].max() == pytest.approx(1) and front["objective"].min() == pytest.approx(30)
    for row in front.itertuples():
        assert row.objective == pytest.approx(40 - 10 * row.value)
    values, objectives = front["value"].to_numpy(), front["objective"].to_numpy()
    for n in range(len(front)):
        dominated = (values >= values[n]) & (objectives >= objectives[n]) & ((values > values[n]) | (objectives > objectives[n]))
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
