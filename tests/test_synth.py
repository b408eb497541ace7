"""Synthetic datasets (model/synth.py): deterministic, in the dataset format of docs/dataset.md, and feasible.

The three benchmark scales (province 31 × 20, prefecture 333 × 30, county 2,844 × 40 with 50
disruptions) must load and be feasible for a baseline-like scenario. The province scale is solved
to optimality; for the larger ones the generator's reference layout is checked against every
constraint of the scenario (a feasibility certificate that needs no solve).
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from model.dataset import MACRO_REGIONS, SCHEMA, load_dataset
from model.instance import Instance
from model.scenario import dataset_of, load_scenario
from model.synth import CATEGORIES, default_disruptions, generate, synthesize
from conftest import ROOT, write_scenario

SYNTHETIC_GOALS = str(ROOT / "scenarios" / "synthetic" / "county.yaml")
"""The baseline's goals for a synthetic dataset, as the shipped synthetic scenarios state them."""
SCALES = {"province": (31, 20, None), "prefecture": (333, 30, None), "county": (2844, 40, 50)}
FILES = sorted(list(SCHEMA) + ["SOURCES.md"])


def baseline_like(tmp_path: Path, data: Path, time_limit: float = 30.0) -> Path:
    return write_scenario(
        tmp_path / "synth.yaml",
        data,
        extends=SYNTHETIC_GOALS,
        solver={"time_limit": time_limit, "mip_gap": 0.0001, "threads": 1, "seed": 0},
    )


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return synthesize(31, 20, tmp_path_factory.mktemp("province") / "data", seed=0)


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = synthesize(31, 20, tmp_path / "a", seed=7)
    b = synthesize(31, 20, tmp_path / "b", seed=7)
    c = synthesize(31, 20, tmp_path / "c", seed=8)
    assert sorted(p.name for p in a.iterdir()) == FILES
    match, mismatch, errors = filecmp.cmpfiles(a, b, FILES, shallow=False)
    assert match == FILES and not mismatch and not errors
    assert (a / "suitability.csv").read_bytes() != (c / "suitability.csv").read_bytes()


def test_loads_with_the_structure_asked_for(province):
    ds = load_dataset(province)
    regions, clusters = ds.regions, ds.clusters
    assert len(regions) == 31 and len(clusters) == 20
    assert list(regions["region"][:3]) == ["r0001", "r0002", "r0003"]
    assert regions["name"].iloc[0] == "Region 1" and (regions["name_zh"] == "").all()
    counts = regions["macro_region"].value_counts()
    assert set(counts.index) == set(MACRO_REGIONS)
    assert counts["east"] > counts["central"] > counts["northeast"] and counts["west"] > counts["northeast"]
    assert (regions["hinterland"] == regions["macro_region"].isin(["central", "west"])).all()
    assert regions["lon"].between(73.5, 135).all() and regions["lat"].between(18, 53.5).all()
    assert 3 <= len(ds.strategies) <= 6
    assert set(clusters["category"]) == set(CATEGORIES)
    assert clusters["critical"].sum() == 6  # 30 % of 20
    assert ds.resource_ids == ["land", "water", "energy", "carbon", "environment"]
    hostable = ds.suitability.groupby("cluster").size() / len(regions)
    assert hostable.between(0.35, 0.9).all()
    assert (ds.suitability["score"] > 0).all()
    assert ds.existing.groupby("cluster").size().min() >= 1
    assert len(ds.disruption_ids) == default_disruptions(31) == 4
    assert (ds.disruptions.groupby("disruption").size() >= 2).all()
    sources = (province / "SOURCES.md").read_text()
    assert "synthetic" in sources and "seed | 0" in sources and "model.synth" in sources


def test_capacity_is_one_and_a_half_to_twice_the_need(province):
    ds = load_dataset(province)
    intensity = ds.intensity.merge(ds.clusters[["cluster", "target"]], on="cluster")
    need = (intensity["per_unit"] * intensity["target"]).groupby(intensity["resource"]).sum()
    capacity = ds.capacity.groupby("resource")["available"].sum()
    ratio = capacity / need
    assert ratio.between(1.45, 2.2).all(), ratio


def test_province_scale_solves_to_optimality(tmp_path, province):
    result = model.solve(baseline_like(tmp_path, province))
    assert result.status == model.Status.OPTIMAL, result.message
    assert result.gap is not None and result.gap <= 1e-4
    critical = result.resilience[result.resilience["critical"]]
    assert (critical["sites"] >= 3).all() and (critical["max_region_share"] <= 0.35 + 1e-6).all()
    assert (critical["worst_surviving_share"] >= 0.6 - 1e-6).all()
    # ceilings bind somewhere: the synthetic capacity is not slack everywhere
    assert (result.resources["utilization"] > 0.999).any()


def reference_is_feasible(inst: Instance, reference: pd.DataFrame) -> None:
    """Every constraint family of the baseline-like scenario holds at the generator's reference layout."""
    I, R = len(inst.clusters), len(inst.regions)
    ci = {c: n for n, c in enumerate(inst.clusters)}
    ri = {r: n for n, r in enumerate(inst.regions)}
    x = np.zeros((I, R))
    x[reference["cluster"].map(ci), reference["region"].map(ri)] = reference["output"]
    y = x > 0
    cells = inst.cells
    upper = np.zeros((I, R))
    upper[cells["i"], cells["r"]] = cells["upper"]
    allowed = np.zeros((I, R), bool)
    allowed[cells["i"], cells["r"]] = True
    existing = np.zeros((I, R))
    existing[cells["i"], cells["r"]] = cells["existing"]
    T, crit = inst.target, inst.critical
    tol = 1e-6 * T.max()
    assert (allowed | ~y).all(), "reference output outside the allowed cells"
    assert np.allclose(x.sum(1), T), "target"
    assert (x.T @ inst.intensity <= inst.ceiling + tol).all(), "ceiling"
    assert (x[y] >= np.broadcast_to(inst.min_scale[:, None], (I, R))[y] - tol).all(), "min_scale"
    assert (x <= upper + tol).all(), "link"
    assert (y.sum(1) <= inst.max_sites).all(), "max_sites"
    assert (y[crit].sum(1) >= inst.min_sites).all(), "min_sites"
    assert (x[crit] @ inst.hinterland >= inst.hinterland_share * T[crit] - tol).all(), "hinterland"
    for lost in inst.disruptions.values():
        assert (x[crit] @ ~lost >= inst.disruption_survival * T[crit] - tol).all(), "disruption"
    assert (x >= inst.keep_existing * existing - tol).all(), "keep_existing"


@pytest.mark.parametrize("scale", list(SCALES))
def test_benchmark_scales_generate_load_and_are_feasible(tmp_path, scale):
    regions, clusters, disruptions = SCALES[scale]
    data = synthesize(regions, clusters, tmp_path / "data", disruptions=disruptions, seed=0)  # timed by benchmarks/
    ds = load_dataset(data)
    assert len(ds.region_ids) == regions and len(ds.cluster_ids) == clusters
    assert len(ds.disruption_ids) == (disruptions or default_disruptions(regions))
    assert int(ds.clusters["critical"].sum()) == round(0.3 * clusters)
    share = ds.clusters["max_sites"] / regions
    if regions > 100:
        assert share.between(0.15, 0.31).all()
    scenario = load_scenario(baseline_like(tmp_path, data))
    inst = Instance.of(scenario, dataset_of(scenario))
    reference = generate(regions, clusters, disruptions, seed=0)["_reference"]
    reference_is_feasible(inst, reference)


def test_county_default_disruptions_and_arguments():
    assert default_disruptions(31) == 4 and default_disruptions(333) == 5
    assert default_disruptions(2844) == 47 and default_disruptions(10_000) == 50
    with pytest.raises(ValueError):
        generate(3, 5)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lp_rounding_is_within_its_gap_of_the_exact_optimum(tmp_path, seed):
    """The large-instance strategy on small synthetic instances: every family holds, the bound is
    valid for the full model, and the layout is within the reported gap of the exact optimum."""
    from conftest import assert_feasible

    path = baseline_like(tmp_path, synthesize(40, 8, tmp_path / "data", seed=seed))
    exact = model.solve(path, **{"solver.strategy": "branch_and_bound", "solver.mip_gap": 1e-7})
    rounded = model.solve(path, **{"solver.strategy": "lp_rounding", "solver.mip_gap": 0.02})
    assert exact.status == model.Status.OPTIMAL and rounded.status == model.Status.OPTIMAL, rounded.message
    assert_feasible(rounded)
    tolerance = 1e-6 * abs(exact.objective)
    assert rounded.bound >= exact.objective - tolerance
    assert rounded.objective >= exact.objective - rounded.gap * abs(rounded.objective) - tolerance
    assert rounded.gap <= 0.02 + 1e-9


@pytest.mark.slow
def test_prefecture_scale_finds_a_layout(tmp_path):
    data = synthesize(333, 30, tmp_path / "data", seed=0)
    result = model.solve(baseline_like(tmp_path, data, time_limit=120))
    assert result.status in (model.Status.OPTIMAL, model.Status.FEASIBLE), result.message


@pytest.mark.parametrize("name", ["county", "prefecture"])
def test_shipped_synthetic_scenarios_solve_on_a_synthetic_dataset(tmp_path, name):
    """scenarios/synthetic/*.yaml hold no region or cluster ids, so they run on any `layout synth`
    output; here on a small one, through the command line as the README shows."""
    from model.cli import main

    data = synthesize(40, 8, tmp_path / "data", seed=4)
    path = Path(__file__).resolve().parents[1] / "scenarios" / "synthetic" / f"{name}.yaml"
    code = main(["solve", str(path), "--set", f"data={data}", "--out", str(tmp_path / "run")])
    assert code == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["gap"] <= 0.01


# --- the resilient network: layout synth --chains --------------------------------------------------

NETWORK = {
    "chains": {"enabled": True, "transport_cost_scale": 1.0, "recourse": True},
    "backup": {"cost": 0.05, "share": 0.1, "hinterland_only": True, "resources": ["land"]},
}
NETWORK_FILES = sorted(FILES + ["chains.csv", "corridors.csv"])


def with_network(tmp_path: Path, data: Path, time_limit: float = 60.0, **solver) -> Path:
    return write_scenario(
        tmp_path / "network.yaml",
        data,
        extends=SYNTHETIC_GOALS,
        **NETWORK,
        solver={"time_limit": time_limit, "mip_gap": 0.0001, "threads": 1, "seed": 0} | solver,
    )


@pytest.fixture(scope="module")
def networked(tmp_path_factory) -> Path:
    return synthesize(60, 10, tmp_path_factory.mktemp("networked") / "data", seed=3, chains=True, nodes=8)


def test_chains_are_deterministic_and_leave_the_other_files_as_they_were(tmp_path):
    a = synthesize(40, 8, tmp_path / "a", seed=5, chains=True, nodes=6)
    b = synthesize(40, 8, tmp_path / "b", seed=5, chains=True, nodes=6)
    plain = synthesize(40, 8, tmp_path / "plain", seed=5)
    assert sorted(p.name for p in a.iterdir()) == NETWORK_FILES
    match, mismatch, errors = filecmp.cmpfiles(a, b, NETWORK_FILES, shallow=False)
    assert match == NETWORK_FILES and not mismatch and not errors
    for name in ("suitability.csv", "existing.csv", "disruptions.csv", "intensity.csv", "resources.csv"):
        assert (a / name).read_bytes() == (plain / name).read_bytes(), name
    for name, column in (("regions.csv", "node"), ("clusters.csv", "transport_cost")):
        with_column = pd.read_csv(a / name, keep_default_na=False)
        assert with_column.drop(columns=column).equals(pd.read_csv(plain / name, keep_default_na=False)), name
    assert "nodes | 6" in (a / "SOURCES.md").read_text()
    with pytest.raises(ValueError):
        generate(40, 8, nodes=6)  # nodes without chains
    with pytest.raises(ValueError):
        generate(40, 8, chains=True, nodes=41)


def test_network_structure(networked):
    ds = load_dataset(networked)
    assert ds.has_network and len(ds.node_ids) == 8
    assert ds.node_ids == [f"n{k:02d}" for k in range(1, 9)]  # numbered in order of their first region
    corridors, chains = ds.corridors, ds.chains
    assert (corridors["node_a"] < corridors["node_b"]).all() and not corridors.duplicated(["node_a", "node_b"]).any()
    assert (corridors["distance_km"] > 0).all()
    limited = corridors["capacity"].notna()
    assert 0 < limited.sum() < len(corridors) and (corridors.loc[limited, "capacity"] > 0).all()
    reached, frontier = {ds.node_ids[0]}, [ds.node_ids[0]]  # connected
    while frontier:
        n = frontier.pop()
        for a, b in zip(corridors["node_a"], corridors["node_b"]):
            for here, there in ((a, b), (b, a)):
                if here == n and there not in reached:
                    reached.add(there)
                    frontier.append(there)
    assert reached == set(ds.node_ids)
    # chains: acyclic (the loader rejects cycles), per_unit in (0, 0.5], supply possible with room to spare
    assert len(chains) > 0 and chains["per_unit"].between(0, 0.5, inclusive="right").all()
    target = ds.clusters.set_index("cluster")["target"]
    need = (chains["per_unit"] * chains["downstream"].map(target)).groupby(chains["upstream"]).sum()
    assert (need <= 0.8 * target[need.index]).all()
    assert (ds.clusters["transport_cost"] > 0).all()
    critical = set(ds.clusters.loc[ds.clusters["critical"], "cluster"])
    assert critical & set(chains["downstream"]), "some critical chain has an input"


@pytest.mark.parametrize("scale", ["province", "prefecture", pytest.param("county", marks=pytest.mark.slow)])
def test_reference_layout_meets_chains_backup_and_recourse(tmp_path, scale):
    """The generator's reference layout, with its sites fixed, is a feasible point of the baseline-like scenario
    with chains, backup (share 0.1) and recourse: the LP with those sites fixed has a solution."""
    from model.run import cell_columns, prepare
    from model.solver import HighsModel, Status

    regions, clusters, disruptions = SCALES[scale]
    data = synthesize(regions, clusters, tmp_path / "data", disruptions=disruptions, seed=0, chains=True)
    tables = generate(regions, clusters, disruptions, seed=0, chains=True)
    scenario = load_scenario(with_network(tmp_path, data))
    prepared = prepare(scenario)
    highs = HighsModel.from_pyomo(prepared.model)
    assert highs.row_family.tolist().count("recourse_supply") > 0
    sites = set(zip(tables["_reference"]["cluster"], tables["_reference"]["region"]))
    y = cell_columns(prepared, highs, "y")
    pattern = np.zeros(highs.matrix.shape[1])
    pattern[y] = [cell in sites for cell in prepared.instance.cell_keys]
    assert highs.with_integers_fixed(pattern).status == Status.OPTIMAL


def test_small_network_solves_with_recourse_exactly_and_by_lp_rounding(tmp_path, networked):
    """Feasible by construction with recourse on; LP rounding, whose relaxation leaves the recourse rows
    out, returns a layout that meets them, with a bound valid for the full model."""
    from conftest import assert_feasible

    path = with_network(tmp_path, networked, mip_gap=0.001)
    exact = model.solve(path, **{"solver.strategy": "branch_and_bound"})
    assert exact.status == model.Status.OPTIMAL, exact.message
    assert_feasible(exact)
    assert exact.recourse is not None and len(exact.recourse) and exact.flows is not None
    rounded = model.solve(path, **{"solver.strategy": "lp_rounding", "solver.mip_gap": 0.02})
    assert rounded.status in (model.Status.OPTIMAL, model.Status.FEASIBLE), rounded.message
    assert_feasible(rounded)
    recourse = rounded.constraints[rounded.constraints["family"].str.startswith("recourse_")]
    assert len(recourse) and (recourse["slack"] >= -1e-6 * float(exact.objective)).all()
    tolerance = 1e-6 * abs(exact.objective)
    assert rounded.bound >= exact.objective * (1 - 0.001) - tolerance
    assert rounded.objective <= exact.bound + tolerance


def test_layout_synth_chains_on_the_command_line(tmp_path, capsys):
    from model.cli import main

    assert (
        main(["synth", "--regions", "40", "--clusters", "8", "--chains", "--nodes", "5", "--out", str(tmp_path / "d")])
        == 0
    )
    assert "5 nodes" in capsys.readouterr().out and (tmp_path / "d" / "corridors.csv").is_file()
    assert main(["synth", "--regions", "40", "--clusters", "8", "--nodes", "5", "--out", str(tmp_path / "e")]) == 2


def test_lp_rounding_runs_again_with_every_row_when_the_first_round_gives_no_layout(tmp_path, networked):
    """A relaxation that leaves rows out and yields no layout that meets them is followed by the whole
    procedure with every row; the bound of both runs stays valid for the full model."""
    from model.run import RELAXATION_LEAVES_OUT, prepare, round_sites
    from model.solver import HighsModel, Status

    scenario = load_scenario(with_network(tmp_path, networked, mip_gap=0.02))
    prepared = prepare(scenario)
    highs = HighsModel.from_pyomo(prepared.model)
    calls = []

    def rounding(values):
        calls.append(len(values))
        return None if len(calls) == 1 else round_sites(prepared, highs, values)

    left_out = np.isin(highs.row_family, RELAXATION_LEAVES_OUT)
    assert left_out.any()
    outcome = highs.solve_from_rounding(scenario.solver, rounding, left_out=left_out, left_out_name="some rows")
    assert len(calls) == 2 and outcome.status in (Status.OPTIMAL, Status.FEASIBLE), outcome.message
    assert "the relaxation without some rows could not meet them" in outcome.message
    exact = model.solve(scenario, **{"solver.strategy": "branch_and_bound", "solver.mip_gap": 1e-4})
    assert outcome.bound >= exact.objective * (1 - 1e-6)


def test_reference_backup_raises_ceilings_only_where_its_room_falls_short(monkeypatch):
    import model.synth as synth

    plain = generate(60, 10, seed=3, chains=True, nodes=8)
    monkeypatch.setattr(synth, "BACKUP_SHARE_REF", 0.15)  # more standby than the ceilings leave room for
    tables = generate(60, 10, seed=3, chains=True, nodes=8)
    clusters = tables["clusters.csv"].set_index("cluster")
    target = clusters["target"]
    held = tables["_backup"].groupby("cluster")["standby"].sum()
    critical = clusters.index[clusters["critical"] == "true"]
    assert (held.reindex(critical, fill_value=0) >= 0.15 * target[critical] * (1 - 1e-5)).all()
    capacity = tables["capacity.csv"].set_index(["region", "resource"])["available"]
    before = plain["capacity.csv"].set_index(["region", "resource"])["available"]
    assert (capacity >= before).all() and (capacity > before).any()
    # x + b within the link bound min(0.35·T_i, every ceiling for the cluster alone), and land ceilings with b
    a = tables["intensity.csv"].set_index(["cluster", "resource"])["per_unit"]
    x = tables["_reference"].set_index(["cluster", "region"])["output"]
    b = tables["_backup"].set_index(["cluster", "region"])["standby"]
    for (cluster, region), standby in b.items():
        total = x[(cluster, region)] + standby
        assert total <= 0.35 * target[cluster] * (1 + 1e-9)
        for resource in ("land", "water", "energy", "carbon", "environment"):
            if a[(cluster, resource)] > 0:
                assert total * a[(cluster, resource)] <= capacity[(region, resource)] * (1 + 1e-9)
    land = a.xs("land", level="resource")
    use = pd.concat([x, b]).groupby(level=[0, 1]).sum()
    use = (use * use.index.get_level_values(0).map(land)).groupby(level=1).sum()
    assert (use <= capacity.xs("land", level="resource")[use.index] * (1 + 1e-9)).all()


def test_a_chain_the_reference_cannot_keep_supplied_is_dropped(monkeypatch):
    import model.synth as synth

    real, calls = synth._reference_recourse, []

    def first_fails(*args, **kwargs):
        failed, load = real(*args, **kwargs)
        calls.append(1)
        return (failed | (len(calls) == 1)), load

    plain = generate(60, 10, seed=3, chains=True, nodes=8)
    monkeypatch.setattr(synth, "_reference_recourse", first_fails)
    tables = generate(60, 10, seed=3, chains=True, nodes=8)
    assert len(calls) == 2 and len(tables["chains.csv"]) == len(plain["chains.csv"]) - 1
    last = plain["chains.csv"].iloc[-1]
    kept = set(zip(tables["chains.csv"]["upstream"], tables["chains.csv"]["downstream"]))
    assert (last["upstream"], last["downstream"]) not in kept
