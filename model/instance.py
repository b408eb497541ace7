"""The numbers of the model (docs/model.md#sets-and-data) for one scenario on one dataset.

`Instance.of(scenario, dataset)` resolves everything the formulation needs — scaled targets T,
scaled ceilings σ·cap, the allowed cells A with their link bounds U, the active goals — so that
the formulation only states constraints and never interprets scenario keys or reads files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from model.dataset import Dataset
from model.scenario import Scenario


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


def link_bounds(target: np.ndarray, intensity: np.ndarray, ceiling: np.ndarray, critical: np.ndarray,
                concentration_cap: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(I, R) link bounds U_ir = min(c_i·T_i, min_{k: a_ik > 0} σ_rk·cap_rk / a_ik) and (I, R) c_i·T_i,
    c_i the concentration cap for critical clusters, else 1 (docs/model.md#link); one function for
    the one-period instance and for every period's (docs/model.md#periods)."""
    I, R = len(target), ceiling.shape[0]
    concentration = np.where(critical & (concentration_cap is not None),
                             concentration_cap if concentration_cap is not None else 1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # per (i, r): min over resources with a_ik > 0 of ceiling_rk / a_ik
        per_resource = np.where(intensity[:, None, :] > 0,
                                ceiling[None, :, :] / np.where(intensity > 0, intensity, 1.0)[:, None, :],
                                np.inf)
    cap = np.broadcast_to((concentration * target)[:, None], (I, R))
    return np.minimum(cap, per_resource.min(axis=2)), cap


@dataclass(frozen=True)
class Instance:
    """One scenario's model data. Arrays are indexed like `clusters`, `regions`, `resources`."""

    clusters: list[str]
    regions: list[str]
    resources: list[str]
    category: np.ndarray          # (I,) category of each cluster
    critical: np.ndarray          # (I,) bool, i ∈ C
    macro_region: np.ndarray      # (R,) m(r)
    hinterland: np.ndarray        # (R,) bool, r ∈ H
    strategies: dict[str, np.ndarray]  # strategy id -> (R,) bool, R_g
    target: np.ndarray            # (I,) T_i = τ_i·D_i
    min_scale: np.ndarray         # (I,) m_i
    fixed_cost: np.ndarray        # (I,) f_i
    max_sites: np.ndarray         # (I,) max(1, ⌊max_sites_i × scale⌋)
    intensity: np.ndarray         # (I, K) a_ik
    ceiling: np.ndarray           # (R, K) σ_rk·cap_rk
    cells: pd.DataFrame           # allowed cells A: cluster, region, i, r, score, existing, upper U_ir, cap c_i·T_i
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
        clusters = dataset.cluster_ids
        regions = dataset.region_ids
        resources = dataset.resource_ids
        I, R, K = len(clusters), len(regions), len(resources)
        ci = {c: n for n, c in enumerate(clusters)}
        ri = {r: n for n, r in enumerate(regions)}
        ki = {k: n for n, k in enumerate(resources)}
        cl = dataset.clusters
        rg = dataset.regions

        tau = np.array([scenario.targets.scale * scenario.targets.clusters.get(c, 1.0) for c in clusters])
        target = tau * cl["target"].to_numpy(float)

        intensity = np.zeros((I, K))
        it = dataset.intensity
        intensity[it["cluster"].map(ci).to_numpy(int), it["resource"].map(ki).to_numpy(int)] = it["per_unit"].to_numpy(float)

        capacity = np.zeros((R, K))
        cp = dataset.capacity
        capacity[cp["region"].map(ri).to_numpy(int), cp["resource"].map(ki).to_numpy(int)] = cp["available"].to_numpy(float)
        sigma = np.ones((R, K))
        for resource, ceiling in scenario.ceilings.items():
            k = ki[resource]
            sigma[:, k] = ceiling.scale
            for region, factor in ceiling.regions.items():
                sigma[ri[region], k] = ceiling.scale * factor
        ceiling_rk = sigma * capacity

        score = np.zeros((I, R))
        st = dataset.suitability
        score[st["cluster"].map(ci).to_numpy(int), st["region"].map(ri).to_numpy(int)] = st["score"].to_numpy(float)
        existing = np.zeros((I, R))
        ex = dataset.existing
        existing[ex["cluster"].map(ci).to_numpy(int), ex["region"].map(ri).to_numpy(int)] = ex["output"].to_numpy(float)

        category = cl["category"].to_numpy(object)
        macro = rg["macro_region"].to_numpy(object)
        allowed = score > 0
        for lock in scenario.lock_out:
            cluster_side = np.array([lock.matches_cluster(c, category[n]) for n, c in enumerate(clusters)])
            region_side = np.array([lock.matches_region(r, macro[n]) for n, r in enumerate(regions)])
            allowed &= ~np.outer(cluster_side, region_side)

        critical = cl["critical"].to_numpy(bool)
        res = scenario.resilience
        upper, cap = link_bounds(target, intensity, ceiling_rk, critical, res.concentration_cap)

        ii, rr = np.nonzero(allowed)
        cells = pd.DataFrame({
            "cluster": np.asarray(clusters, dtype=object)[ii], "region": np.asarray(regions, dtype=object)[rr],
            "i": ii, "r": rr, "score": score[ii, rr], "existing": existing[ii, rr], "upper": upper[ii, rr],
            "cap": cap[ii, rr],
        })
        ui, ur = np.nonzero((existing > 0) & ~allowed)
        unhosted = pd.DataFrame({
            "cluster": np.asarray(clusters, dtype=object)[ui], "region": np.asarray(regions, dtype=object)[ur],
            "output": existing[ui, ur],
        })

        lost = {}
        active = dataset.disruption_ids if res.disruptions == "all" else list(res.disruptions)
        dr = dataset.disruptions
        for disruption in active:
            mask = np.zeros(R, bool)
            mask[dr.loc[dr["disruption"] == disruption, "region"].map(ri).to_numpy(int)] = True
            lost[disruption] = mask

        strategies = {s: np.array([s in ss for ss in rg["strategies"]]) for s in dataset.strategies}
        min_scale = cl["min_scale"].to_numpy(float)
        lock_in = [LockInCell(l.cluster, l.region, l.min_output if l.min_output is not None else min_scale[ci[l.cluster]])
                   for l in scenario.lock_in]
        scale = scenario.coordination.max_sites_scale
        max_sites = np.array([max(1, math.floor(n * scale + 1e-9)) for n in cl["max_sites"].to_numpy(int)])

        return cls(
            clusters=clusters, regions=regions, resources=resources,
            category=category, critical=critical, macro_region=macro,
            hinterland=rg["hinterland"].to_numpy(bool), strategies=strategies,
            target=target, min_scale=min_scale, fixed_cost=cl["fixed_cost"].to_numpy(float),
            max_sites=max_sites, intensity=intensity, ceiling=ceiling_rk,
            cells=cells, unhosted_existing=unhosted,
            concentration_cap=res.concentration_cap, hinterland_share=res.hinterland_share,
            disruption_survival=res.disruption_survival, min_sites=res.min_sites, disruptions=lost,
            balance=dict(scenario.coordination.balance), keep_existing=scenario.coordination.keep_existing,
            lock_in=lock_in, growth_poles=[Pole(p.strategy, p.category, p.share) for p in scenario.growth_poles],
            fixed_cost_weight=scenario.objective.fixed_cost_weight,
            relocation_cost=scenario.objective.relocation_cost,
            diminishing_returns=None if (dr := scenario.coordination.diminishing_returns) is None
            else (dr.share, dr.factor),
        )
