"""compare: what moved between two solved layouts, known by hand on the tiny instance."""
from __future__ import annotations

import json
import re

import pytest

import model
from model.cli import main
from model.compare import compare
from conftest import write_scenario


def test_compare_two_runs(tmp_path, tiny, capsys):
    # A: a r1 10, b somewhere (10). B (disruption survival 0.6): a r1 4 + r2 6.
    a = model.solve(write_scenario(tmp_path / "a.yaml", tiny, lock_in=[{"cluster": "b", "region": "r3", "min_output": 10}]))
    b = model.solve(write_scenario(tmp_path / "b.yaml", tiny, lock_in=[{"cluster": "b", "region": "r3", "min_output": 10}],
                                   resilience={"disruption_survival": 0.6}))
    a.write(tmp_path / "run_a")
    b.write(tmp_path / "run_b")
    comparison = compare(tmp_path / "run_a", tmp_path / "run_b")
    changes = comparison.changes.set_index(["cluster", "region"])
    assert changes.loc[("a", "r1"), "delta"] == pytest.approx(-6)
    assert changes.loc[("a", "r2"), "delta"] == pytest.approx(6)
    assert comparison.summary["objective_a"] == pytest.approx(40) and comparison.summary["objective_b"] == pytest.approx(34)
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
