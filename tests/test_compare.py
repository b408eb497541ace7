"""compare: what moved between two solved layouts, known by hand on the tiny instance."""

from __future__ import annotations

import json
import re

import pytest

import model
from model.cli import main
from model.compare import compare
from conftest import two_nodes, write_scenario


def test_compare_two_runs(tmp_path, tiny, capsys):
    # A: a r1 10, b somewhere (10). B (disruption survival 0.6): a r1 4 + r2 6.
    a = model.solve(
        write_scenario(tmp_path / "a.yaml", tiny, lock_in=[{"cluster": "b", "region": "r3", "min_output": 10}])
    )
    b = model.solve(
        write_scenario(
            tmp_path / "b.yaml",
            tiny,
            lock_in=[{"cluster": "b", "region": "r3", "min_output": 10}],
            resilience={"disruption_survival": 0.6},
        )
    )
    a.write(tmp_path / "run_a")
    b.write(tmp_path / "run_b")
    comparison = compare(tmp_path / "run_a", tmp_path / "run_b")
    changes = comparison.changes.set_index(["cluster", "region"])
    assert changes.loc[("a", "r1"), "delta"] == pytest.approx(-6)
    assert changes.loc[("a", "r2"), "delta"] == pytest.approx(6)
    assert comparison.summary["objective_a"] == pytest.approx(40) and comparison.summary[
        "objective_b"
    ] == pytest.approx(34)
    assert comparison.summary["moved_output"] == pytest.approx(6)
    assert comparison.summary["worst_surviving_share_min"]["change"] == pytest.approx(0.6)

    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "largest moves" in printed
    assert re.search(r"^\s+a\s+r1\s.*\(-6\.0\)$", printed, re.MULTILINE), printed
    summary = json.loads((out / "summary.json").read_text())
    assert {"objective_a", "objective_b", "moved_output", "opened_sites", "closed_sites"} <= set(summary)
    header = (out / "changes.csv").read_text().splitlines()[0]
    assert header == "cluster,region,output_a,output_b,delta,established_a,established_b"


def test_compare_needs_solved_runs(tmp_path, tiny):
    infeasible = model.solve(write_scenario(tmp_path / "x.yaml", tiny, lock_out=[{"cluster": "b"}]))
    infeasible.write(tmp_path / "bad")
    assert main(["compare", str(tmp_path / "bad"), str(tmp_path / "bad")]) == 2
    assert main(["compare", str(tmp_path / "nothing"), str(tmp_path / "bad")]) == 2


def test_compare_reports_flow_changes_per_corridor(tmp_path):
    # u (upstream, scores 3/1 in r1/r2) feeds d (1/3) with q = 0.5 over one corridor r1–r2 of 1,000 km,
    # without transport cost. A: no capacity, d's 5 units of u flow r1 → r2. B: the corridor carries 3
    # (chains.corridors), u makes the other 2 in r2. C: chains off, nothing flows.
    data = two_nodes(tmp_path / "d")
    path = write_scenario(tmp_path / "s.yaml", data)
    for name, overrides in (("a", {}), ("b", {"chains.corridors.r1--r2": 3}), ("c", {"chains.enabled": False})):
        model.solve(path, **overrides).write(tmp_path / name)
    comparison = compare(tmp_path / "a", tmp_path / "b")
    flows = comparison.flows
    assert flows[["cluster", "from", "to", "distance_km", "flow_a", "flow_b", "delta"]].values.tolist() == [
        ["u", "r1", "r2", 1000.0, pytest.approx(5), pytest.approx(3), pytest.approx(-2)]
    ]
    assert comparison.summary["total_flow"]["change"] == pytest.approx(-2)
    assert comparison.summary["total_flow_km"]["change"] == pytest.approx(-2000)
    assert comparison.corridor_flows()["delta"].tolist() == pytest.approx([-2])
    out = comparison.write(tmp_path / "cmp")
    assert (out / "flow_changes.csv").read_text().splitlines()[0] == "cluster,from,to,distance_km,flow_a,flow_b,delta"
    # a run without chains has no flows: every flow of the other run is a change from (or to) 0
    off = compare(tmp_path / "c", tmp_path / "a")
    assert off.flows[["flow_a", "flow_b"]].values.tolist() == [[0.0, pytest.approx(5)]]
    assert off.summary["total_flow"] == pytest.approx({"a": 0.0, "b": 5.0, "change": 5.0})
    without = compare(tmp_path / "c", tmp_path / "c")
    assert without.flows is None and not (without.write(tmp_path / "cmp_off") / "flow_changes.csv").exists()


def test_flow_changes_of_phased_runs_are_per_year(tmp_path):
    # the two-node chain of the test above over two identical years: each year's flow changes as the one period's
    data = two_nodes(tmp_path / "d")
    path = write_scenario(tmp_path / "s.yaml", data, periods={"years": [2026, 2030], "progress": [1, 1]})
    a, b = model.solve(path), model.solve(path, **{"chains.corridors.r1--r2": 3})
    flows = compare(a, b).flows
    assert flows[["period", "flow_a", "flow_b", "delta"]].values.tolist() == [
        [2026, pytest.approx(5), pytest.approx(3), pytest.approx(-2)],
        [2030, pytest.approx(5), pytest.approx(3), pytest.approx(-2)],
    ]
    flat = model.solve(write_scenario(tmp_path / "flat.yaml", data))  # one period, set beside each year
    assert compare(flat, b).flows["period"].tolist() == [2026, 2030]
