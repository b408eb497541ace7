"""sweep: monotone in a loosening ceiling, resumable, the same on Dask as locally, tipping points."""

from __future__ import annotations

import concurrent.futures as cf

import pandas as pd
import pytest

import model
from model.cli import main
from model.sweep import read_tipping_points, sweep
from conftest import two_nodes, write_dataset, write_scenario


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
    table = sweep(
        scenario,
        {"resilience.disruption_survival": [0.0, 0.5, 1.0], "targets.scale": [1.0, 0.5]},
        out=tmp_path / "grid",
    )
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
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sweep(scenario, parameters, executor=client, out=tmp_path / "dask")
        address = cluster.scheduler_address
        assert (
            main(
                [
                    "sweep",
                    str(scenario),
                    "--param",
                    "resilience.hinterland_share",
                    "--values",
                    "0.0,0.3,0.6",
                    "--scheduler",
                    address,
                    "--out",
                    str(tmp_path / "cli"),
                    "--quiet",
                ]
            )
            == 0
        )
    pd.testing.assert_series_equal(local["objective"], on_dask["objective"])
    assert pd.read_csv(tmp_path / "cli" / "sweep.csv")["objective"].tolist() == pytest.approx(
        local["objective"].tolist()
    )


def test_sweep_block_in_the_scenario_file(tmp_path, tiny, capsys):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, sweep={"parameters": {"targets.scale": [0.5, 1.0]}})
    assert main(["sweep", str(scenario), "--out", str(tmp_path / "sw"), "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "sw" / "sweep.csv")) == 2
    bad = write_scenario(tmp_path / "bad.yaml", tiny, sweep={"parameters": {"resilience.hinterland_share": [0.5, 1.5]}})
    assert main(["sweep", str(bad), "--out", str(tmp_path / "bad_sweep"), "--quiet"]) == 2
    assert not (tmp_path / "bad_sweep" / "points").exists() or not any((tmp_path / "bad_sweep" / "points").iterdir())


# --- the resilient network: backup.share, chains.transport_cost_scale, a corridor's capacity ----------


def chain_pair(folder, transport_cost=1.0, capacity=None):
    """Two regions, each its own node, one corridor r1–r2 of 1,000 km; u (upstream) feeds d with q = 0.5.

    u scores 3 in r1 and 1 in r2, d 1 in r1 and 3 in r2; targets 10, fixed cost 0.1 a site, min scale 1;
    no ceiling binds. Best: u 10 in r1, d 10 in r2, d's need of 5 shipped r1 → r2 at θ·t·5:
    60 − 0.2 − 5·θ·t. Making the 5 in r2 instead costs 5·(3 − 1) = 10 and a third site (0.1):
    60 − 10.3, so shipping pays while θ·t < 2.02.
    """
    return two_nodes(folder, transport_cost, capacity, u={"min_scale": 1}, d={"min_scale": 1})


def test_sweep_of_the_transport_cost_scale_ships_until_the_break_even(tmp_path):
    scenario = write_scenario(tmp_path / "s.yaml", chain_pair(tmp_path / "d"))
    values = [0.0, 1.0, 2.0, 2.5, 4.0]
    table = sweep(scenario, {"chains.transport_cost_scale": values}, out=tmp_path / "sw")
    assert (table["status"] == "optimal").all()
    # θ ≤ 2: 59.8 − 5θ (ship); θ ≥ 2.02: 49.7 (u makes d's 5 units in r2)
    assert table["objective"].tolist() == pytest.approx([59.8, 54.8, 49.8, 49.7, 49.7])
    assert table["objective"].is_monotonic_decreasing
    tipping = read_tipping_points(tmp_path / "sw")
    assert len(tipping) == 1
    row = tipping.iloc[0]
    assert (row["from_value"], row["to_value"]) == (2.0, 2.5) and row["opened_cells"] == "u@r2" and row["closed"] == 0


def test_sweep_of_the_backup_share_pays_for_standby_and_opens_a_hinterland_site(tmp_path):
    # a (critical, target 10, min scale 2, fixed cost 1) scores 3 on the coast (r1), 2 in the
    # hinterland (r2). No backup floor: a 10 in r1, 30 − 1 = 29. Any floor s > 0 needs standby in r2,
    # so a site there (−1) with its minimum scale of 2 (−2·(3 − 2)) and 10·s of standby at 0.05:
    # 26 − 0.5·s — until x + b = 2 + 10·s passes the cell's capacity U = 10 (s > 0.8): infeasible.
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": "a", "target": 10, "critical": True, "min_scale": 2, "fixed_cost": 1}],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 100, ("r2", "land"): 100},
        suitability={("a", "r1"): 3, ("a", "r2"): 2},
    )
    scenario = write_scenario(tmp_path / "s.yaml", data, backup={"cost": 0.05, "share": None, "resources": ["land"]})
    values = [None, 0.0, 0.2, 0.5, 0.8, 0.9]
    table = sweep(scenario, {"backup.share": values}, out=tmp_path / "sw")
    assert table["status"].tolist() == ["optimal"] * 5 + ["infeasible"]
    assert table["objective"].iloc[:5].tolist() == pytest.approx([29, 29, 26 - 0.1, 26 - 0.25, 26 - 0.4])
    for folder, share in zip(table["folder"].iloc[2:5], values[2:5]):
        run = model.Result.read(folder)
        assert run.backup.set_index(["cluster", "region"])["backup"].to_dict() == pytest.approx(
            {("a", "r2"): 10 * share}
        )
        assert run.objective_terms["backup"] == pytest.approx(-0.5 * share)
    tipping = read_tipping_points(tmp_path / "sw")
    opened = tipping[tipping["opened"] > 0]
    assert opened[["from_value", "to_value", "opened_cells"]].values.tolist() == [[0.0, 0.2, "a@r2"]]


def test_cli_sweeps_a_corridor_capacity_by_its_dotted_path(tmp_path, capsys, tiny):
    # the corridor r1–r2 of capacity c carries min(5, c) of d's 5 units; the rest u makes in r2
    # (score 1, not 3) at a third site: c ≥ 5 → 59.8 − 5·t (t = 1: 54.8); c < 5 → 60 − 0.3 − c − 2·(5 − c)
    scenario = write_scenario(tmp_path / "s.yaml", chain_pair(tmp_path / "d"))
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(scenario),
                "--param",
                "chains.corridors.r1--r2",
                "--values",
                "null,5,4,1,0",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "sweep.csv")
    assert "chains.corridors.r1--r2" in table.columns and (table["status"] == "optimal").all()
    assert table["objective"].tolist() == pytest.approx([54.8, 54.8, 60 - 0.3 - 4 - 2, 60 - 0.3 - 1 - 8, 49.7])
    flows = pd.read_csv(out / "points" / "chains.corridors.r1--r2=4" / "flows.csv")
    assert flows[["from", "to", "flow"]].values.tolist() == [["r1", "r2", 4.0]]
    # with a null among the values, adjacent means adjacent as given: u's second site opens between 5 and 4
    tipping = pd.read_csv(out / "tipping_points.csv")
    assert tipping[["from_value", "to_value", "opened_cells"]].values.tolist() == [[5, 4, "u@r2"]]
    # the reverse spelling is the same corridor; a corridor that does not exist, or a negative capacity, is an input error
    assert model.solve(scenario, **{"chains.corridors.r2--r1": 4}).objective == pytest.approx(60 - 0.3 - 4 - 2)
    capsys.readouterr()
    for path, values, problem in (
        ("chains.corridors.r1--r3", "1,2", "unknown node 'r3'"),
        ("chains.corridors.r2--r2", "1", "no corridor between r2 and r2"),
        ("chains.corridors.r1--r2", "1,-2", "greater than or equal to 0"),
        ("chains.corridors.r1", "1", "node_a--node_b"),
    ):
        assert (
            main(
                ["sweep", str(scenario), "--param", path, "--values", values, "--quiet", "--out", str(tmp_path / "bad")]
            )
            == 2
        )
        error = capsys.readouterr().err
        assert f"{path}: " in error and problem in error, error
    assert not (tmp_path / "bad" / "points").exists()
    with pytest.raises(model.InputError, match="given twice"):
        model.solve(scenario, **{"chains.corridors": {"r1--r2": 1, "r2--r1": 2}})
    with pytest.raises(model.InputError, match="chains.corridors: the dataset .* has no corridors.csv"):
        model.load_scenario(write_scenario(tmp_path / "t.yaml", tiny, chains={"corridors": {"r1--r2": 1}}))
