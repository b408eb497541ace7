"""sweep: monotone in a loosening ceiling, resumable, the same on Dask as locally, tipping points."""
from __future__ import annotations

import concurrent.futures as cf

import pandas as pd
import pytest

from model.cli import main
from model.sweep import read_tipping_points, sweep
from conftest import write_scenario


def test_looser_ceiling_never_lowers_the_optimum(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, resilience={"hinterland_share": 0.2})
    values = [0.45, 0.5, 0.6, 0.8, 1.0, 1.5]
    table = sweep(scenario, {"ceilings.water.regions.r1": values}, out=tmp_path / "sw")
    assert list(table["ceilings.water.regions.r1"]) == values
    assert (table["status"] == "optimal").all()
    assert table["objective"].is_monotonic_increasing
    # r1 cap 12·v: a r1 min(8, 12v) … by hand at 0.5: a r1 6 (18) + r2 4 (8) + b 10 = 36
    assert table.loc[table["ceilings.water.regions.r1"] == 0.5, "objective"].item() == pytest.approx(36)
    written = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert list(written["ceilings.water.regions.r1"]) == values
    assert written["objective"].to_numpy() == pytest.approx(table["objective"].to_numpy())
    assert list(read_tipping_points(tmp_path / "sw").columns[:3]) == ["parameter", "from_value", "to_value"]


def test_grid_and_tipping_points(tmp_path, tiny):
    # a minimum scale and a fixed cost make `established` mean real output
    (tiny / "clusters.csv").write_text((tiny / "clusters.csv").read_text().replace(",0,99,0", ",1,99,0.1"))
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    table = sweep(scenario, {"resilience.disruption_survival": [0.0, 0.5, 1.0], "targets.scale": [1.0, 0.5]},
                  out=tmp_path / "grid")
    assert len(table) == 6
    tipping = pd.read_csv(tmp_path / "grid" / "tipping_points.csv")
    # survival 1.0 forces a out of r1 entirely: its site there closes between 0.5 and 1.0
    moved = tipping[(tipping["parameter"] == "resilience.disruption_survival") & (tipping["to_value"] == 1.0)]
    assert len(moved) >= 1 and (moved["closed"] >= 1).all()


def test_interrupted_sweep_resumes(tmp_path, tiny, monkeypatch):
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    out = tmp_path / "sw"
    import model.sweep as module
    real = module._solve_point
    calls = []

    def interrupted(point):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(point.name)
        return real(point)

    monkeypatch.setattr(module, "_solve_point", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(scenario, {"targets.scale": [0.5, 0.75, 1.0, 1.25]}, out=out)
    assert len(list((out / "points").iterdir())) == 2

    solved = []
    monkeypatch.setattr(module, "_solve_point", lambda point: solved.append(point.name) or real(point))
    table = sweep(scenario, {"targets.scale": [0.5, 0.75, 1.0, 1.25]}, out=out)
    assert len(solved) == 2 and len(table) == 4 and (table["status"] == "optimal").all()


def test_executor_and_processes_equal_in_process(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    parameters = {"ceilings.water.scale": [0.9, 1.0, 1.2]}
    local = sweep(scenario, parameters, out=tmp_path / "a")
    with cf.ThreadPoolExecutor(2) as pool:
        threaded = sweep(scenario, parameters, executor=pool, out=tmp_path / "b")
    processes = sweep(scenario, parameters, jobs=2, out=tmp_path / "c")
    for other in (threaded, processes):
        pd.testing.assert_series_equal(local["objective"], other["objective"])


def test_dask_local_cluster_equals_local_sweep(tmp_path, tiny):
    distributed = pytest.importorskip("distributed")
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    parameters = {"resilience.hinterland_share": [0.0, 0.3, 0.6]}
    local = sweep(scenario, parameters, out=tmp_path / "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = sweep(scenario, parameters, executor=client, out=tmp_path / "dask")
        address = cluster.scheduler_address
        assert main(["sweep", str(scenario), "--param", "resilience.hinterland_share", "--values", "0.0,0.3,0.6",
                     "--scheduler", address, "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    pd.testing.assert_series_equal(local["objective"], on_dask["objective"])
    assert pd.read_csv(tmp_path / "cli" / "sweep.csv")["objective"].tolist() == pytest.approx(local["objective"].tolist())


def test_sweep_block_in_the_scenario_file(tmp_path, tiny, capsys):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, sweep={"parameters": {"targets.scale": [0.5, 1.0]}})
    assert main(["sweep", str(scenario), "--out", str(tmp_path / "sw"), "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "sw" / "sweep.csv")) == 2
    bad = write_scenario(tmp_path / "bad.yaml", tiny, sweep={"parameters": {"resilience.hinterland_share": [0.5, 1.5]}})
    assert main(["sweep", str(bad), "--out", str(tmp_path / "bad_sweep"), "--quiet"]) == 2
    assert not (tmp_path / "bad_sweep" / "points").exists() or not any((tmp_path / "bad_sweep" / "points").iterdir())
