"""A run folder reads back into the same `Result` the solve returned."""

from __future__ import annotations

import pandas as pd
import pytest

import model
from model.compare import compare
from model.errors import InputError
from conftest import write_scenario


def test_a_run_folder_reads_back_into_the_result_that_wrote_it(tmp_path, tiny):
    scenario = write_scenario(
        tmp_path / "s.yaml", tiny, lock_out=[{"cluster": "b", "region": "r3"}], solver={"log": True}
    )
    solved = model.solve(scenario)
    read = model.Result.read(solved.write(tmp_path / "run"))
    assert (read.status, read.objective, read.gap, read.rows, read.columns) == (
        solved.status,
        solved.objective,
        solved.gap,
        solved.rows,
        solved.columns,
    )
    assert read.scenario.sha256() == solved.scenario.sha256() and read.summary() == solved.summary()
    for name in ("layout", "regions", "resources", "resilience"):
        pd.testing.assert_frame_equal(read.tables[name], solved.tables[name], check_dtype=False)
    assert read.binding_ceilings().equals(solved.binding_ceilings())
    # what the solved instance knows, a result read back knows too: targets and the cells that may not host
    assert dict(zip(read.resilience["cluster"], read.resilience["target"])) == {"a": 10, "b": 10}
    assert read.blocked_cells() == solved.blocked_cells() == {"a": set(), "b": {"r3"}}
    assert "HiGHS" in read.solver_log and read.solver_log == solved.solver_log


def test_compare_takes_a_result_or_its_folder_alike(tmp_path, tiny):
    a = model.solve(write_scenario(tmp_path / "a.yaml", tiny))
    b = model.solve(write_scenario(tmp_path / "b.yaml", tiny, resilience={"hinterland_share": 0.6}))
    in_memory = compare(a, b)
    on_disk = compare(a.write(tmp_path / "ra"), b.write(tmp_path / "rb"))
    pd.testing.assert_frame_equal(in_memory.changes, on_disk.changes)
    assert in_memory.summary["moved_output"] == on_disk.summary["moved_output"] == pytest.approx(6)


def test_not_a_run_folder(tmp_path):
    with pytest.raises(InputError, match="not a run folder"):
        model.Result.read(tmp_path)
