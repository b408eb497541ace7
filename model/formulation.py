"""The mixed-integer model of SPEC section 3, as a Pyomo `ConcreteModel`.

`build_model(instance)` reads like a table of contents: sets, variables, then one `add_*`
function per constraint family, each named as in the spec and documented with its maths, then
the objective. Constraint components carry the family names (`m.ceiling[r, k]`), so results,
duals and diagnoses speak in them. Variables exist on the allowed cells A only; every sum runs
over precomputed sparse index lists, never over all cluster–region pairs.

Symbols: i cluster, r region, k resource, s disruption; x output, y site established,
d relocated existing output.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from model.instance import Instance



class _Index:
    """Sparse index lists over the allowed cells, computed once per model."""

    def __init__(self, inst: Instance):
        cells = inst.cells
        self.cells = list(zip(cells["cluster"], cells["region"]))
        self.by_cluster: dict[str, list] = defaultdict(list)
        self.by_region: dict[str, list] = defaultdict(list)
        for cell in self.cells:
            self.by_cluster[cell[0]].append(cell)
            self.by_region[cell[1]].append(cell)
        self.existing = {cell: e for cell, e in zip(self.cells, cells["existing"]) if e > 0}
        self.score = dict(zip(self.cells, cells["score"]))
        self.upper = dict(zip(self.cells, cells["upper"]))
        self.cluster_no = {c: n for n, c in enumerate(inst.clusters)}
        self.region_no = {r: n for n, r in enumerate(inst.regions)}

    def cells_of(self, cluster: str, regions: np.ndarray | None = None) -> list:
        """Cells of one cluster, optionally only in regions where the (R,) mask is true."""
        if regions is None:
            return self.by_cluster[cluster]
        return [cell for cell in self.by_cluster[cluster] if regions[self.region_no[cell[1]]]]


def _rows(m: pyo.ConcreteModel, name: str, index: list, terms, lower=None, upper=None) -> None:
    """Add the family `name` with one row per index: lower ≤ Σ terms(index) ≤ upper.

    A row with no variables is dropped when its bounds hold and recorded in
    `m.trivially_infeasible` when they cannot (e.g. a target with no allowed cell).
    """
    def rule(_, *key):
        key = key[0] if len(key) == 1 else key
        expr = terms(key)
        lo = lower(key) if lower else None
        hi = upper(key) if upper else None
        if isinstance(expr, (int, float)):
            if (lo is not None and lo > expr + 1e-9) or (hi is not None and hi < expr - 1e-9):
                m.trivially_infeasible.append((name, key, (lo if lo is not None else hi) - expr))
            return pyo.Constraint.Skip
        if lo is not None and hi is not None and lo == hi:
            return expr == lo
        return (lo, expr, hi)

    m.add_component(name, pyo.Constraint(index, rule=rule))


def add_target(m, inst: Instance, ix: _Index) -> None:
    """target: Σ_r x_ir = T_i for every cluster i."""
    T = dict(zip(inst.clusters, inst.target))
    _rows(m, "target", inst.clusters, lambda i: sum(m.x[c] for c in ix.by_cluster[i]),
          lower=T.get, upper=T.get)


def add_ceiling(m, inst: Instance, ix: _Index) -> None:
    """ceiling: Σ_i a_ik·x_ir ≤ σ_rk·cap_rk for every region r and resource k used there."""
    a = {(i, k): inst.intensity[n, kn] for n, i in enumerate(inst.clusters)
         for kn, k in enumerate(inst.resources) if inst.intensity[n, kn] > 0}
    keys = [(r, k) for r in inst.regions for k in inst.resources
            if any((c[0], k) in a for c in ix.by_region[r])]
    cap = {(r, k): inst.ceiling[rn, kn] for rn, r in enumerate(inst.regions) for kn, k in enumerate(inst.resources)}
    _rows(m, "ceiling", keys,
          lambda rk: sum(a[c[0], rk[1]] * m.x[c] for c in ix.by_region[rk[0]] if (c[0], rk[1]) in a),
          upper=cap.get)


def add_min_scale(m, inst: Instance, ix: _Index) -> None:
    """min_scale: x_ir ≥ m_i·y_ir on A — an established site reaches the minimum efficient scale."""
    ms = dict(zip(inst.clusters, inst.min_scale))
    keys = [c for c in ix.cells if ms[c[0]] > 0]
    _rows(m, "min_scale", keys, lambda c: m.x[c] - ms[c[0]] * m.y[c], lower=lambda c: 0.0)


def add_link(m, inst: Instance, ix: _Index) -> None:
    """link: x_ir ≤ U_ir·y_ir, U_ir = min(c_i·T_i, min_k σ_rk·cap_rk / a_ik) — output only where a site is."""
    _rows(m, "link", ix.cells, lambda c: m.x[c] - ix.upper[c] * m.y[c], upper=lambda c: 0.0)


def add_max_sites(m, inst: Instance, ix: _Index) -> None:
    """max_sites: Σ_r y_ir ≤ max(1, ⌊max_sites_i × max_sites_scale⌋) — no homogeneous duplication."""
    cap = dict(zip(inst.clusters, inst.max_sites.astype(float)))
    keys = [i for i in inst.clusters if ix.by_cluster[i]]
    _rows(m, "max_sites", keys, lambda i: sum(m.y[c] for c in ix.by_cluster[i]), upper=cap.get)


def _critical(inst: Instance) -> list[str]:
    return [i for i, crit in zip(inst.clusters, inst.critical) if crit]


def add_min_sites(m, inst: Instance, ix: _Index) -> None:
    """min_sites: Σ_r y_ir ≥ n_min for every critical cluster i ∈ C."""
    if inst.min_sites is None:
        return
    _rows(m, "min_sites", _critical(inst), lambda i: sum(m.y[c] for c in ix.by_cluster[i]),
          lower=lambda i: float(inst.min_sites))


def add_hinterland(m, inst: Instance, ix: _Index) -> None:
    """hinterland: Σ_{r∈H} x_ir ≥ η·T_i for every critical cluster — the strategic hinterland backs it up."""
    if inst.hinterland_share is None:
        return
    T = dict(zip(inst.clusters, inst.target))
    _rows(m, "hinterland", _critical(inst), lambda i: sum(m.x[c] for c in ix.cells_of(i, inst.hinterland)),
          lower=lambda i: inst.hinterland_share * T[i])


def add_disruption(m, inst: Instance, ix: _Index) -> None:
    """disruption: Σ_{r∉L_s} x_ir ≥ ρ·T_i for every critical i and active disruption s."""
    if inst.disruption_survival is None or not inst.disruptions:
        return
    T = dict(zip(inst.clusters, inst.target))
    keys = [(i, s) for i in _critical(inst) for s in inst.disruptions]
    _rows(m, "disruption", keys, lambda key: sum(m.x[c] for c in ix.cells_of(key[0], ~inst.disruptions[key[1]])),
          lower=lambda key: inst.disruption_survival * T[key[0]])


def add_balance(m, inst: Instance, ix: _Index) -> None:
    """balance: Σ_{r: m(r)=m} Σ_i x_ir ≥ β_m·Σ_i T_i for each macro-region m given a β_m."""
    total = float(inst.target.sum())
    members = {mr: [r for r, rm in zip(inst.regions, inst.macro_region) if rm == mr] for mr in inst.balance}
    _rows(m, "balance", list(inst.balance),
          lambda mr: sum(m.x[c] for r in members[mr] for c in ix.by_region[r]),
          lower=lambda mr: inst.balance[mr] * total)


def add_keep_existing(m, inst: Instance, ix: _Index) -> None:
    """keep_existing: x_ir ≥ k·e_ir where e_ir > 0 on A (locked-out cells are phased out instead)."""
    if inst.keep_existing <= 0:
        return
    _rows(m, "keep_existing", list(ix.existing), lambda c: m.x[c],
          lower=lambda c: inst.keep_existing * ix.existing[c])


def add_lock_in(m, inst: Instance, ix: _Index) -> None:
    """lock_in: y_ir = 1 and x_ir ≥ q (q given, default m_i) for each lock-in."""
    q = {(l.cluster, l.region): l.min_output for l in inst.lock_in}
    for cell in q:
        m.y[cell].setlb(1)
    _rows(m, "lock_in", list(q), lambda c: m.x[c], lower=q.get)


def add_growth_pole(m, inst: Instance, ix: _Index) -> None:
    """growth_pole: Σ_{r∈R_g} Σ_{i of category} x_ir ≥ share·Σ_{i of category} T_i for each pole."""
    poles = {p.id: p for p in inst.growth_poles}

    def terms(pid):
        pole = poles[pid]
        members = [i for i, cat in zip(inst.clusters, inst.category) if cat == pole.category]
        return sum(m.x[c] for i in members for c in ix.cells_of(i, inst.strategies[pole.strategy]))

    def lower(pid):
        pole = poles[pid]
        return pole.share * float(inst.target[inst.category == pole.category].sum())

    _rows(m, "growth_pole", list(poles), terms, lower=lower)


def add_relocation(m, inst: Instance, ix: _Index) -> None:
    """relocation: d_ir ≥ e_ir − x_ir where e_ir > 0 on A."""
    _rows(m, "relocation", list(ix.existing), lambda c: m.d[c] + m.x[c], lower=ix.existing.get)


def define_objective(m, inst: Instance, ix: _Index) -> None:
    """Maximise Σ_A s·x − φ·Σ_{A, e=0} f·y − κ·Σ_A d − κ·Σ_{not A} e (the last term a constant)."""
    f = dict(zip(inst.clusters, inst.fixed_cost))
    phi, kappa = inst.fixed_cost_weight, inst.relocation_cost
    benefit = sum(ix.score[c] * m.x[c] for c in ix.cells)
    fixed = sum(f[c[0]] * m.y[c] for c in ix.cells if c not in ix.existing and f[c[0]] > 0)
    relocated = sum(m.d[c] for c in ix.existing)
    m.objective = pyo.Objective(expr=benefit - phi * fixed - kappa * relocated + inst.constant,
                                sense=pyo.maximize)


FAMILIES = {
    "target": add_target, "ceiling": add_ceiling, "min_scale": add_min_scale, "link": add_link,
    "max_sites": add_max_sites, "min_sites": add_min_sites, "hinterland": add_hinterland,
    "disruption": add_disruption, "balance": add_balance, "keep_existing": add_keep_existing,
    "lock_in": add_lock_in, "growth_pole": add_growth_pole, "relocation": add_relocation,
}
"""Every constraint family of SPEC section 3, in the spec's order, by name."""


def build_model(inst: Instance) -> pyo.ConcreteModel:
    """The Pyomo model of one instance: sets → variables → constraint families → objective."""
    with PauseGC():
        ix = _Index(inst)
        m = pyo.ConcreteModel(name="productive_layout")
        m.trivially_infeasible = []
        m.CELLS = pyo.Set(initialize=ix.cells, dimen=2, ordered=True)
        m.EXISTING_CELLS = pyo.Set(initialize=list(ix.existing), dimen=2, ordered=True)
        m.x = pyo.Var(m.CELLS, within=pyo.NonNegativeReals, doc="output, 10^8 yuan value added")
        m.y = pyo.Var(m.CELLS, within=pyo.Binary, doc="site established")
        m.d = pyo.Var(m.EXISTING_CELLS, within=pyo.NonNegativeReals, doc="relocated existing output")
        for add_family in FAMILIES.values():
            add_family(m, inst, ix)
        define_objective(m, inst, ix)
    return m
