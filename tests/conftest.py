"""Small datasets and scenarios written to temporary folders, with optima known by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "data" / "provinces"


def write_dataset(
    folder: Path,
    regions: list[dict],
    clusters: list[dict],
    resources: list[str],
    intensity: dict,
    capacity: dict,
    suitability: dict,
    existing: dict | None = None,
    disruptions: dict | None = None,
    chains: dict | None = None,
    corridors: dict | None = None,
) -> Path:
    """Write a dataset in the format of docs/dataset.md from plain Python values.

    regions: dicts with region, macro_region and optional hinterland, strategies, node (a `node`
    column is written when some region gives one);
    clusters: dicts with cluster, target and optional category, critical, min_scale, max_sites, fixed_cost,
    transport_cost (a `transport_cost` column is written when some cluster gives one);
    intensity {(cluster, resource): a}; capacity {(region, resource): cap}; suitability {(cluster, region): s};
    existing {(cluster, region): e}; disruptions {id: [regions]};
    chains {(upstream, downstream): q} and corridors {(node_a, node_b): distance_km or (distance_km, capacity)},
    written (both) when either is given.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        [
            {
                "region": r["region"],
                "name": r["region"].title(),
                "name_zh": "",
                "macro_region": r.get("macro_region", "east"),
                "hinterland": str(r.get("hinterland", False)).lower(),
                "strategies": ";".join(r.get("strategies", [])),
                "population": r.get("population", 100),
                "gdp": r.get("gdp", 1000),
                "area_km2": r.get("area_km2", 1000),
                "lon": r.get("lon", 110.0),
                "lat": r.get("lat", 30.0),
            }
            | ({"node": r.get("node", r["region"])} if any("node" in q for q in regions) else {})
            for r in regions
        ]
    ).to_csv(folder / "regions.csv", index=False)
    pd.DataFrame(
        [
            {
                "cluster": c["cluster"],
                "name": c["cluster"].title(),
                "category": c.get("category", "strategic_emerging"),
                "critical": str(c.get("critical", False)).lower(),
                "target": c["target"],
                "min_scale": c.get("min_scale", 0),
                "max_sites": c.get("max_sites", 99),
                "fixed_cost": c.get("fixed_cost", 0),
            }
            | ({"transport_cost": c.get("transport_cost", 0)} if any("transport_cost" in q for q in clusters) else {})
            for c in clusters
        ]
    ).to_csv(folder / "clusters.csv", index=False)
    pd.DataFrame([{"resource": k, "name": k, "unit": "unit", "line": k} for k in resources]).to_csv(
        folder / "resources.csv", index=False
    )
    pd.DataFrame(
        [{"cluster": c, "resource": k, "per_unit": a} for (c, k), a in intensity.items()],
        columns=["cluster", "resource", "per_unit"],
    ).to_csv(folder / "intensity.csv", index=False)
    pd.DataFrame(
        [{"region": r, "resource": k, "available": v} for (r, k), v in capacity.items()],
        columns=["region", "resource", "available"],
    ).to_csv(folder / "capacity.csv", index=False)
    pd.DataFrame(
        [{"cluster": c, "region": r, "score": s} for (c, r), s in suitability.items()],
        columns=["cluster", "region", "score"],
    ).to_csv(folder / "suitability.csv", index=False)
    pd.DataFrame(
        [{"cluster": c, "region": r, "output": e} for (c, r), e in (existing or {}).items()],
        columns=["cluster", "region", "output"],
    ).to_csv(folder / "existing.csv", index=False)
    pd.DataFrame(
        [{"disruption": s, "region": r} for s, rs in (disruptions or {}).items() for r in rs],
        columns=["disruption", "region"],
    ).to_csv(folder / "disruptions.csv", index=False)
    if chains is not None or corridors is not None:
        pd.DataFrame(
            [{"upstream": i, "downstream": j, "per_unit": q} for (i, j), q in (chains or {}).items()],
            columns=["upstream", "downstream", "per_unit"],
        ).to_csv(folder / "chains.csv", index=False)
        rows = []
        for (a, b), spec in (corridors or {}).items():
            distance, capacity = spec if isinstance(spec, tuple) else (spec, None)
            rows.append(
                {"node_a": a, "node_b": b, "distance_km": distance, "capacity": "" if capacity is None else capacity}
            )
        pd.DataFrame(rows, columns=["node_a", "node_b", "distance_km", "capacity"]).to_csv(
            folder / "corridors.csv", index=False
        )
    return folder


def write_scenario(path: Path, data: Path | str, **keys) -> Path:
    """A scenario file; keys are top-level scenario keys (targets=…, resilience=…)."""
    content = {"name": path.stem, "data": str(data)} | keys
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def two_nodes(
    folder: Path,
    transport_cost: float = 0.0,
    capacity: float | None = None,
    apart: bool = False,
    corridor: bool = True,
    **change,
) -> Path:
    """Two regions, each its own node, one corridor of 1,000 km; u (upstream) feeds d with q = 0.5.

    u scores 3 in r1 and 1 in r2, d scores 1 in r1 and 3 in r2; both have target 10 and a fixed cost
    of 0.1 per site; no ceiling binds. Without transport cost: u 10 in r1 (30), d 10 in r2 (30), two
    sites (−0.2), and d's need of 0.5 × 10 = 5 flows r1 → r2: 59.8. `apart`: u may go to r1 only, d
    to r2 only; without `corridor` the nodes are not linked; `change`: keys of a cluster's row
    (`u={"min_scale": 1}`). r2 is in the hinterland.
    """
    clusters = {
        "u": {"target": 10, "transport_cost": transport_cost, "fixed_cost": 0.1},
        "d": {"target": 10, "fixed_cost": 0.1},
    }
    for cluster, values in change.items():
        clusters[cluster] |= values
    return write_dataset(
        folder,
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": c} | v for c, v in clusters.items()],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 100, ("r2", "land"): 100},
        suitability={("u", "r1"): 3, ("d", "r2"): 3}
        if apart
        else {("u", "r1"): 3, ("u", "r2"): 1, ("d", "r1"): 1, ("d", "r2"): 3},
        chains={("u", "d"): 0.5},
        corridors={("r1", "r2"): (1000, capacity)} if corridor else {},
    )


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Two clusters, three regions, one resource.

    a (critical, target 10) scores 3/2/1 in r1/r2/r3; b (target 10) scores 1/1/1; water intensity 1;
    water ceiling 12 everywhere. Unconstrained by goals the optimum is a: r1 10; b: r1 2, r2 8 → 30 + 10 = 40.
    """
    return write_dataset(
        tmp_path / "tiny",
        regions=[
            {"region": "r1", "macro_region": "east"},
            {"region": "r2", "macro_region": "central", "hinterland": True, "strategies": ["pole"]},
            {"region": "r3", "macro_region": "west", "hinterland": True},
        ],
        clusters=[
            {"cluster": "a", "target": 10, "critical": True, "category": "future"},
            {"cluster": "b", "target": 10, "category": "traditional"},
        ],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={("r1", "water"): 12, ("r2", "water"): 12, ("r3", "water"): 12},
        suitability={("a", "r1"): 3, ("a", "r2"): 2, ("a", "r3"): 1, ("b", "r1"): 1, ("b", "r2"): 1, ("b", "r3"): 1},
        disruptions={"coast": ["r1"]},
    )


def assert_feasible(result, tolerance: float = 1e-5) -> None:
    """Check a solved layout against every constraint family of docs/model.md, from its tables alone."""
    import numpy as np

    from model.instance import Instance
    from model.scenario import dataset_of

    inst = Instance.of(result.scenario, dataset_of(result.scenario))
    I, R = len(inst.clusters), len(inst.regions)
    ci = {c: n for n, c in enumerate(inst.clusters)}
    ri = {r: n for n, r in enumerate(inst.regions)}
    X, Y = np.zeros((I, R)), np.zeros((I, R))
    allowed = set(zip(inst.cells["cluster"], inst.cells["region"]))
    for row in result.layout.itertuples():
        assert (row.cluster, row.region) in allowed, f"output outside the allowed cells: {row.cluster} in {row.region}"
        X[ci[row.cluster], ri[row.region]] = row.output
        Y[ci[row.cluster], ri[row.region]] = row.established
    B = np.zeros((I, R))  # standby capacity (docs/model.md#backup)
    held = (
        {
            (c, r)
            for c, r in zip(
                inst.cells["cluster"].to_numpy()[inst.backup.cells], inst.cells["region"].to_numpy()[inst.backup.cells]
            )
        }
        if inst.backup is not None
        else set()
    )
    for row in result.backup.itertuples() if result.backup is not None else []:
        assert (row.cluster, row.region) in held, f"backup outside the backup cells: {row.cluster} in {row.region}"
        B[ci[row.cluster], ri[row.region]] = row.backup
    tol = tolerance * max(1.0, float(inst.target.max()))
    assert np.allclose(X.sum(axis=1), inst.target, atol=tol), "target"
    use = X.T @ inst.intensity
    if inst.backup is not None:
        use += (B.T @ inst.intensity) * inst.backup.resources
    assert (use <= inst.ceiling + tol).all(), "ceiling"
    upper = np.zeros((I, R))
    upper[inst.cells["i"], inst.cells["r"]] = inst.cells["upper"]
    assert (X >= inst.min_scale[:, None] * Y - tol).all(), "min_scale"
    assert (X + B <= upper * Y + tol).all(), "link"
    if inst.backup is not None and inst.backup.share is not None:
        assert (B[inst.critical].sum(axis=1) >= inst.backup.share * inst.target[inst.critical] - tol).all(), (
            "backup_share"
        )
    assert (Y.sum(axis=1) <= inst.max_sites).all(), "max_sites"
    crit = inst.critical
    if inst.min_sites is not None:
        assert (Y[crit].sum(axis=1) >= inst.min_sites).all(), "min_sites"
    if inst.hinterland_share is not None:
        assert (X[crit][:, inst.hinterland].sum(axis=1) >= inst.hinterland_share * inst.target[crit] - tol).all(), (
            "hinterland"
        )
    if inst.disruption_survival is not None:
        for lost in inst.disruptions.values():
            assert ((X + B)[crit][:, ~lost].sum(axis=1) >= inst.disruption_survival * inst.target[crit] - tol).all(), (
                "disruption"
            )
    for macro, share in inst.balance.items():
        assert X[:, inst.macro_region == macro].sum() >= share * inst.target.sum() - tol, "balance"
    existing = np.zeros((I, R))
    existing[inst.cells["i"], inst.cells["r"]] = inst.cells["existing"]
    assert (X >= inst.keep_existing * existing - tol).all(), "keep_existing"
    for lock in inst.lock_in:
        assert (
            Y[ci[lock.cluster], ri[lock.region]] == 1 and X[ci[lock.cluster], ri[lock.region]] >= lock.min_output - tol
        )
    for pole in inst.growth_poles:
        members = inst.category == pole.category
        assert X[members][:, inst.strategies[pole.strategy]].sum() >= pole.share * inst.target[members].sum() - tol
    if inst.network is not None:
        assert_network_feasible(result, inst, X, tol)


def assert_network_feasible(result, inst, X, tol) -> None:
    """chain_supply and corridor_capacity from flows.csv (docs/model.md#chain_supply)."""
    import numpy as np

    net, N = inst.network, len(inst.nodes)
    node = {n: k for k, n in enumerate(inst.nodes)}
    flows = result.flows
    inflow = np.zeros((len(inst.clusters), N))
    on_arc: dict[tuple[str, str], float] = {}
    for cluster, a, b, flow in zip(flows["cluster"], flows["from"], flows["to"], flows["flow"]):
        i = inst.clusters.index(cluster)
        inflow[i, node[b]] += flow
        inflow[i, node[a]] -= flow
        on_arc[(a, b)] = on_arc.get((a, b), 0.0) + flow
    at_node = X @ np.eye(N)[inst.node]  # (I, N)
    need = net.per_unit @ at_node
    for i in net.upstream:
        assert (at_node[i] + inflow[i] >= need[i] - tol).all(), f"chain_supply {inst.clusters[i]}"
    for a in np.flatnonzero(np.isfinite(net.capacity)):
        used = on_arc.get((inst.nodes[net.arc_from[a]], inst.nodes[net.arc_to[a]]), 0.0)
        assert used <= net.capacity[a] + tol, "corridor_capacity"


@pytest.fixture
def every_family(tmp_path: Path) -> Path:
    """A scenario on 8 regions × 4 clusters × 2 resources in which every constraint family is active."""
    data = write_dataset(
        tmp_path / "d",
        regions=[
            {
                "region": f"r{n}",
                "macro_region": ["east", "central", "west", "northeast"][n % 4],
                "hinterland": n % 4 in (1, 2),
                "strategies": ["pole"] if n < 3 else [],
            }
            for n in range(8)
        ],
        clusters=[
            {
                "cluster": f"c{n}",
                "target": 10 + n,
                "critical": n < 2,
                "category": ["future", "traditional"][n % 2],
                "min_scale": 1,
                "fixed_cost": 0.5,
                "max_sites": 4,
            }
            for n in range(4)
        ],
        resources=["land", "water"],
        intensity={(f"c{n}", k): 1 + 0.1 * n for n in range(4) for k in ("land", "water")},
        capacity={(f"r{n}", k): 9 + n for n in range(8) for k in ("land", "water")},
        suitability={(f"c{c}", f"r{r}"): 1 + ((c * 7 + r * 3) % 5) / 4 for c in range(4) for r in range(8)},
        existing={("c0", "r0"): 3, ("c2", "r5"): 2},
        disruptions={"coast": ["r0", "r4"], "flood": ["r1", "r2"]},
    )
    return write_scenario(
        tmp_path / "every_family.yaml",
        data,
        resilience={"concentration_cap": 0.5, "hinterland_share": 0.3, "disruption_survival": 0.5, "min_sites": 2},
        coordination={"balance": {"west": 0.2}, "keep_existing": 0.5},
        lock_in=[{"cluster": "c3", "region": "r7", "min_output": 2}],
        growth_poles=[{"strategy": "pole", "category": "future", "share": 0.3}],
        objective={"relocation_cost": 0.3},
    )
