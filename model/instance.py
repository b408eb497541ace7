"""The numbers of the model (docs/model.md#sets-and-data) for one scenario on one dataset.

`Instance.of(scenario, dataset)` resolves everything the formulation needs — scaled targets T,
scaled ceilings σ·cap, the allowed cells A with their link bounds U, the active goals, and the
resilient network (chains, arcs, backup cells) — so that the formulation only states constraints
and never interprets scenario keys or reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from model.dataset import Dataset
from model.scenario import Scenario, corridor_overrides


@dataclass(frozen=True)
class LockInCell:
    cluster: str
    region: str
    min_output: float


@dataclass(frozen=True)
class Pole:
    strategy: str
    category: str
    share: float

    @property
    def id(self) -> str:
        return f"{self.strategy}:{self.category}"


@dataclass(frozen=True)
class Network:
    """Chains and arcs of one scenario (docs/model.md#chains-corridors-and-backup).

    Arc 2k runs node_a → node_b of corridor k, arc 2k + 1 back; node indices refer to `Instance.nodes`.
    """

    per_unit: np.ndarray  # (I, I) q_ij: units of i per unit of j
    transport: np.ndarray  # (I,) θ·t_i, objective units per unit moved 1,000 km
    arc_from: np.ndarray  # (A,) node index
    arc_to: np.ndarray  # (A,) node index
    distance: np.ndarray  # (A,) km
    capacity: np.ndarray  # (A,) cap_a, inf where there is no limit
    recourse: bool
    chain_members: np.ndarray  # (I,) bool: I*, the critical clusters and every cluster upstream of one

    @property
    def upstream(self) -> np.ndarray:
        """(U,) the clusters with a chain as upstream."""
        return np.flatnonzero((self.per_unit > 0).any(axis=1))

    def cut(self, node_lost: np.ndarray) -> np.ndarray:
        """(A,) bool: arcs with an end node whose every region is lost."""
        return node_lost[self.arc_from] | node_lost[self.arc_to]


@dataclass(frozen=True)
class Backup:
    """Standby capacity of one scenario (docs/model.md#backup): which cells may hold it, at what cost."""

    cost: float
    share: float | None
    resources: np.ndarray  # (K,) bool: k ∈ backup.resources, whose ceilings count backup
    cells: np.ndarray  # positions in `Instance.cells` of the backup cells
    sites_fixed_upper: np.ndarray  # per backup cell: min(c_i·T_i, σ·cap / a over resources outside backup.resources)


@dataclass(frozen=True)
class Instance:
    """One scenario's model data. Arrays are indexed like `clusters`, `regions`, `resources`."""

    clusters: list[str]
    regions: list[str]
    resources: list[str]
    category: np.ndarray  # (I,) category of each cluster
    critical: np.ndarray  # (I,) bool, i ∈ C
    macro_region: np.ndarray  # (R,) m(r)
    hinterland: np.ndarray  # (R,) bool, r ∈ H
    strategies: dict[str, np.ndarray]  # strategy id -> (R,) bool, R_g
    target: np.ndarray  # (I,) T_i = τ_i·D_i
    min_scale: np.ndarray  # (I,) m_i
    fixed_cost: np.ndarray  # (I,) f_i
    max_sites: np.ndarray  # (I,) max(1, ⌊max_sites_i × scale⌋)
    intensity: np.ndarray  # (I, K) a_ik
    ceiling: np.ndarray  # (R, K) σ_rk·cap_rk
    cells: pd.DataFrame  # allowed cells A: cluster, region, i, r, score, existing, upper U_ir, cap c_i·T_i
    unhosted_existing: pd.DataFrame  # existing output in cells outside A: cluster, region, output
    concentration_cap: float | None
    hinterland_share: float | None
    disruption_survival: float | None
    min_sites: int | None
    disruptions: dict[str, np.ndarray]  # active disruption id -> (R,) bool, r ∈ L_s
    balance: dict[str, float]
    keep_existing: float
    lock_in: list[LockInCell]
    growth_poles: list[Pole]
    fixed_cost_weight: float
    relocation_cost: float
    diminishing_returns: tuple[float, float] | None = None  # (h, g): beyond h·T_i in one region, output earns g·s_ir
    nodes: list[str] = field(default_factory=list)
    node: np.ndarray | None = None  # (R,) index in `nodes` of each region's node n(r)
    network: Network | None = None  # chains and corridors, when the dataset has them and they are enabled
    backup: Backup | None = None  # standby capacity, when the scenario asks for it

    def node_lost(self, lost: np.ndarray) -> np.ndarray:
        """(nodes,) bool: nodes whose every region is in the (R,) mask `lost` (a node stands while any region does)."""
        assert self.node is not None, "nodes are known only with a network"
        regions = np.bincount(self.node, minlength=len(self.nodes))
        return np.bincount(self.node, weights=lost.astype(float), minlength=len(self.nodes)) >= regions

    @property
    def constant(self) -> float:
        """−κ·Σ_{not A} e_ir: existing output that cannot stay where it is, all relocated."""
        return -self.relocation_cost * float(self.unhosted_existing["output"].sum())

    @cached_property
    def cell_keys(self) -> list[tuple[str, str]]:
        """(cluster, region) of every allowed cell, in `cells` order."""
        return list(zip(self.cells["cluster"].tolist(), self.cells["region"].tolist()))

    def cell_index(self) -> dict[tuple[str, str], int]:
        return {cell: n for n, cell in enumerate(self.cell_keys)}

    @classmethod
    def of(cls, scenario: Scenario, dataset: Dataset) -> "Instance":
        """Resolve every number of one scenario on one dataset, one named step at a time."""
        ix = _Index(dataset)
        target = _targets(scenario, dataset)
        intensity = _intensity(dataset, ix)
        ceiling = _ceilings(scenario, dataset, ix)
        score, existing = _score_and_existing(dataset, ix)
        allowed = _allowed(scenario, dataset, score)
        critical = dataset.clusters["critical"].to_numpy(bool)
        cells, unhosted = _cells(scenario, dataset, target, intensity, ceiling, score, existing, allowed, critical)
        goals = _goals(scenario)
        nodes, node = _nodes(dataset)
        return cls(
            clusters=dataset.cluster_ids,
            regions=dataset.region_ids,
            resources=dataset.resource_ids,
            category=dataset.clusters["category"].to_numpy(object),
            critical=critical,
            macro_region=dataset.regions["macro_region"].to_numpy(object),
            hinterland=dataset.regions["hinterland"].to_numpy(bool),
            strategies=_strategies(dataset),
            target=target,
            min_scale=dataset.clusters["min_scale"].to_numpy(float),
            fixed_cost=dataset.clusters["fixed_cost"].to_numpy(float),
            max_sites=_max_sites(scenario, dataset),
            intensity=intensity,
            ceiling=ceiling,
            cells=cells,
            unhosted_existing=unhosted,
            disruptions=_disruptions(scenario, dataset, ix),
            lock_in=_lock_ins(scenario, dataset, ix),
            **goals,
            nodes=nodes,
            node=node,
            network=_network(scenario, dataset, ix, critical, nodes),
            backup=_backup(scenario, dataset, ix, cells, intensity, ceiling),
        )


class _Index:
    """Position of every cluster, region and resource id in the dataset's order."""

    def __init__(self, dataset: Dataset):
        self.cluster = {c: n for n, c in enumerate(dataset.cluster_ids)}
        self.region = {r: n for n, r in enumerate(dataset.region_ids)}
        self.resource = {k: n for n, k in enumerate(dataset.resource_ids)}
        self.shape = (len(self.cluster), len(self.region), len(self.resource))

    def matrix(self, table: pd.DataFrame, rows: str, columns: str, value: str) -> np.ndarray:
        """A dense array of `table[value]` at (ids in `rows`, ids in `columns`), 0 where the table has no row."""
        maps = {"cluster": self.cluster, "region": self.region, "resource": self.resource}
        out = np.zeros((len(maps[rows]), len(maps[columns])))
        out[table[rows].map(maps[rows]).to_numpy(int), table[columns].map(maps[columns]).to_numpy(int)] = table[
            value
        ].to_numpy(float)
        return out


def _targets(scenario: Scenario, dataset: Dataset) -> np.ndarray:
    """T_i = τ_i·D_i, τ_i = targets.scale × targets.clusters[i] (default 1)."""
    tau = np.array([scenario.targets.scale * scenario.targets.clusters.get(c, 1.0) for c in dataset.cluster_ids])
    return tau * dataset.clusters["target"].to_numpy(float)


def _intensity(dataset: Dataset, ix: _Index) -> np.ndarray:
    """(I, K) a_ik, 0 where intensity.csv has no row."""
    return ix.matrix(dataset.intensity, "cluster", "resource", "per_unit")


def _ceilings(scenario: Scenario, dataset: Dataset, ix: _Index) -> np.ndarray:
    """(R, K) σ_rk·cap_rk, σ_rk = ceilings[k].scale × ceilings[k].regions[r] (each default 1)."""
    capacity = ix.matrix(dataset.capacity, "region", "resource", "available")
    sigma = np.ones(capacity.shape)
    for resource, ceiling in scenario.ceilings.items():
        k = ix.resource[resource]
        sigma[:, k] = ceiling.scale
        for region, factor in ceiling.regions.items():
            sigma[ix.region[region], k] = ceiling.scale * factor
    return sigma * capacity


def _score_and_existing(dataset: Dataset, ix: _Index) -> tuple[np.ndarray, np.ndarray]:
    """(I, R) suitability s_ir and existing output e_ir, 0 where the file has no row."""
    return (
        ix.matrix(dataset.suitability, "cluster", "region", "score"),
        ix.matrix(dataset.existing, "cluster", "region", "output"),
    )


def _allowed(scenario: Scenario, dataset: Dataset, score: np.ndarray) -> np.ndarray:
    """(I, R) bool: the allowed cells A, s_ir > 0 and not locked out."""
    category = dataset.clusters["category"].to_numpy(object)
    macro = dataset.regions["macro_region"].to_numpy(object)
    allowed = score > 0
    for lock in scenario.lock_out:
        cluster_side = np.array([lock.matches_cluster(c, category[n]) for n, c in enumerate(dataset.cluster_ids)])
        region_side = np.array([lock.matches_region(r, macro[n]) for n, r in enumerate(dataset.region_ids)])
        allowed &= ~np.outer(cluster_side, region_side)
    return allowed


def _cells(
    scenario: Scenario,
    dataset: Dataset,
    target: np.ndarray,
    intensity: np.ndarray,
    ceiling: np.ndarray,
    score: np.ndarray,
    existing: np.ndarray,
    allowed: np.ndarray,
    critical: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The allowed cells with their link bounds, and the existing output outside them.

    U_ir = min(c_i·T_i, min_{k: a_ik > 0} σ_rk·cap_rk / a_ik) (`upper`) and c_i·T_i (`cap`), with
    c_i the concentration cap for critical clusters, else 1.
    """
    clusters, regions = dataset.cluster_ids, dataset.region_ids
    upper, cap = link_bounds(target, intensity, ceiling, critical, scenario.resilience.concentration_cap)

    ii, rr = np.nonzero(allowed)
    cells = pd.DataFrame(
        {
            "cluster": np.asarray(clusters, dtype=object)[ii],
            "region": np.asarray(regions, dtype=object)[rr],
            "i": ii,
            "r": rr,
            "score": score[ii, rr],
            "existing": existing[ii, rr],
            "upper": upper[ii, rr],
            "cap": cap[ii, rr],
        }
    )
    ui, ur = np.nonzero((existing > 0) & ~allowed)
    unhosted = pd.DataFrame(
        {
            "cluster": np.asarray(clusters, dtype=object)[ui],
            "region": np.asarray(regions, dtype=object)[ur],
            "output": existing[ui, ur],
        }
    )
    return cells, unhosted


def link_bounds(
    target: np.ndarray,
    intensity: np.ndarray,
    ceiling: np.ndarray,
    critical: np.ndarray,
    concentration_cap: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(I, R) link bounds U_ir = min(c_i·T_i, min_{k: a_ik > 0} σ_rk·cap_rk / a_ik) and (I, R) c_i·T_i,
    c_i the concentration cap for critical clusters, else 1 (docs/model.md#link); one function for
    the one-period instance and for every period's (docs/model.md#periods)."""
    I, R = len(target), ceiling.shape[0]
    concentration = np.where(
        critical & (concentration_cap is not None), concentration_cap if concentration_cap is not None else 1.0, 1.0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        # per (i, r): min over resources with a_ik > 0 of ceiling_rk / a_ik
        per_resource = np.where(
            intensity[:, None, :] > 0, ceiling[None, :, :] / np.where(intensity > 0, intensity, 1.0)[:, None, :], np.inf
        )
    cap = np.broadcast_to((concentration * target)[:, None], (I, R))
    return np.minimum(cap, per_resource.min(axis=2)), cap


def _disruptions(scenario: Scenario, dataset: Dataset, ix: _Index) -> dict[str, np.ndarray]:
    """Active disruption id -> (R,) bool, r ∈ L_s."""
    R = len(ix.region)
    chosen = scenario.resilience.disruptions
    active = dataset.disruption_ids if chosen == "all" else list(chosen)
    dr = dataset.disruptions
    which = dr["disruption"].map({d: s for s, d in enumerate(active)})
    on = which.notna().to_numpy()
    lost = np.zeros((len(active), R), bool)
    lost[which[on].to_numpy(int), dr.loc[on, "region"].map(ix.region).to_numpy(int)] = True
    return {d: lost[s] for s, d in enumerate(active)}


def _strategies(dataset: Dataset) -> dict[str, np.ndarray]:
    """Strategy id -> (R,) bool, R_g."""
    return {s: np.array([s in ss for ss in dataset.regions["strategies"]]) for s in dataset.strategies}


def _max_sites(scenario: Scenario, dataset: Dataset) -> np.ndarray:
    """(I,) max(1, ⌊max_sites_i × coordination.max_sites_scale⌋)."""
    scale = scenario.coordination.max_sites_scale
    return np.array([max(1, math.floor(n * scale + 1e-9)) for n in dataset.clusters["max_sites"].to_numpy(int)])


def _lock_ins(scenario: Scenario, dataset: Dataset, ix: _Index) -> list[LockInCell]:
    """Each lock-in with its minimum output (default: the cluster's minimum scale m_i)."""
    min_scale = dataset.clusters["min_scale"].to_numpy(float)
    return [
        LockInCell(l.cluster, l.region, l.min_output if l.min_output is not None else min_scale[ix.cluster[l.cluster]])
        for l in scenario.lock_in
    ]


def _goals(scenario: Scenario) -> dict:
    """The scalar resilience and coordination goals, the growth poles and the objective weights."""
    res, coordination = scenario.resilience, scenario.coordination
    return dict(
        concentration_cap=res.concentration_cap,
        hinterland_share=res.hinterland_share,
        disruption_survival=res.disruption_survival,
        min_sites=res.min_sites,
        balance=dict(coordination.balance),
        keep_existing=coordination.keep_existing,
        growth_poles=[Pole(p.strategy, p.category, p.share) for p in scenario.growth_poles],
        fixed_cost_weight=scenario.objective.fixed_cost_weight,
        relocation_cost=scenario.objective.relocation_cost,
        diminishing_returns=None if (dr := coordination.diminishing_returns) is None else (dr.share, dr.factor),
    )


def _nodes(dataset: Dataset) -> tuple[list[str], np.ndarray]:
    """The transport nodes, and (R,) the node index of every region (docs/model.md#nodes-and-corridors)."""
    nodes = dataset.node_ids
    position = {n: k for k, n in enumerate(nodes)}
    return nodes, dataset.regions["node"].map(position).to_numpy(int)


def _network(
    scenario: Scenario, dataset: Dataset, ix: _Index, critical: np.ndarray, nodes: list[str]
) -> Network | None:
    """Chains q_ij, the two arcs of every corridor, θ·t_i, and I* for recourse; None without a network.
    A corridor's capacity is corridors.csv's, unless `chains.corridors` gives another (null: no limit)."""
    if not dataset.has_network or not scenario.chains.enabled:
        return None
    per_unit = _per_unit(dataset, ix)
    members = critical.copy()
    for _ in range(len(members)):  # i ∈ I* if it is upstream of a member
        grown = members | (per_unit[:, members] > 0).any(axis=1)
        if (grown == members).all():
            break
        members = grown
    position = {n: k for k, n in enumerate(nodes)}
    corridors = dataset.corridors
    assert corridors is not None, "a network needs corridors.csv (the loader checks it comes with chains.csv)"
    a = corridors["node_a"].map(position).to_numpy(int)
    b = corridors["node_b"].map(position).to_numpy(int)
    capacity = corridors["capacity"].to_numpy(float).copy()
    for row, given in corridor_overrides(scenario, dataset).items():  # chains.corridors (docs/scenario.md#chains)
        capacity[row] = np.nan if given is None else given
    return Network(
        per_unit=per_unit,
        transport=scenario.chains.transport_cost_scale * dataset.clusters["transport_cost"].to_numpy(float),
        arc_from=np.column_stack([a, b]).ravel(),
        arc_to=np.column_stack([b, a]).ravel(),
        distance=np.repeat(corridors["distance_km"].to_numpy(float), 2),
        capacity=np.repeat(np.where(np.isnan(capacity), np.inf, capacity), 2),
        recourse=scenario.chains.recourse,
        chain_members=members,
    )


def _per_unit(dataset: Dataset, ix: _Index) -> np.ndarray:
    """(I, I) q_ij from chains.csv, 0 where there is no chain."""
    I = len(ix.cluster)
    q = np.zeros((I, I))
    chains = dataset.chains
    assert chains is not None, "a network needs chains.csv"
    q[chains["upstream"].map(ix.cluster).to_numpy(int), chains["downstream"].map(ix.cluster).to_numpy(int)] = chains[
        "per_unit"
    ].to_numpy(float)
    return q


def _backup(
    scenario: Scenario, dataset: Dataset, ix: _Index, cells: pd.DataFrame, intensity: np.ndarray, ceiling: np.ndarray
) -> Backup | None:
    """The backup cells — allowed cells of critical clusters, in the hinterland when `hinterland_only` —
    and their link bound in the LP with the sites fixed; None without `backup`."""
    spec = scenario.backup
    if spec is None:
        return None
    critical = dataset.clusters["critical"].to_numpy(bool)
    hinterland = dataset.regions["hinterland"].to_numpy(bool)
    i, r = cells["i"].to_numpy(int), cells["r"].to_numpy(int)
    chosen = critical[i] & (hinterland[r] if spec.hinterland_only else True)
    position = np.flatnonzero(chosen)
    resources = np.zeros(len(ix.resource), bool)
    resources[[ix.resource[k] for k in spec.resources]] = True
    upper = backup_sites_fixed_upper(position, resources, cells, intensity, ceiling)
    return Backup(cost=spec.cost, share=spec.share, resources=resources, cells=position, sites_fixed_upper=upper)


def backup_sites_fixed_upper(
    position: np.ndarray, resources: np.ndarray, cells: pd.DataFrame, intensity: np.ndarray, ceiling: np.ndarray
) -> np.ndarray:
    """Per backup cell (rows `position` of `cells`): min(c_i·T_i, σ·cap / a over the resources outside
    backup.resources), its link bound in the LP with the sites fixed; also recomputed for every period
    from its own T_ip and ceilings (docs/model.md#periods)."""
    i, r = cells["i"].to_numpy(int), cells["r"].to_numpy(int)
    # ceilings of resources outside backup.resources do not count b: they bound x + b only through U
    a = intensity[i[position]]  # (B, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = np.where((a > 0) & ~resources[None, :], ceiling[r[position]] / np.where(a > 0, a, 1.0), np.inf)
    return np.minimum(cells["cap"].to_numpy(float)[position], limit.min(axis=1, initial=np.inf))
