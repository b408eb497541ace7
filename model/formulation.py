"""The mixed-integer model (docs/model.md): each constraint family as a sparse block, then Pyomo.

`formulate(instance)` reads like a table of contents: variables, then one `add_*` function per
constraint family, each named as in docs/model.md and documented with its maths, then the objective.
Every family is computed with numpy over the allowed cells A at once (no Python loop over
cluster–region pairs) as a block of rows `lower ≤ A·columns ≤ upper` keyed by the family's ids.

`build_model(instance)` turns that into a Pyomo `ConcreteModel`: Vars `x`, `y`, `d` on the
allowed cells, one `FamilyConstraint` component per family (`m.ceiling["shanghai", "water"]`),
and the objective. A `FamilyConstraint` is Pyomo's sparse `MatrixConstraint` with the family's
keys, so the rows cost a few bytes each in Pyomo and reach HiGHS as one matrix
(`solver.HighsModel.from_pyomo`), while the model stays an ordinary Pyomo model that workflows
add constraints and objectives to.

Symbols: i cluster, r region, k resource, s disruption; x output, y site established,
d relocated existing output.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
import scipy.sparse
from pyomo.common.gc_manager import PauseGC

from model.instance import Instance
from model.pyomo_blocks import FamilyConstraint, FamilyObjective

INFEASIBLE_BY = 1e-9
"""A row without variables whose bounds miss 0 by more than this can never hold."""


@dataclass
class Variables:
    """One group of columns: a Pyomo Var `name` over `index` (a Pyomo Set `index_set` if named)."""

    name: str
    index: list
    binary: bool
    lower: np.ndarray
    upper: np.ndarray
    doc: str = ""
    index_set: str | None = None


@dataclass(eq=False)
class Rows:
    """One constraint family: row j is lower[j] ≤ matrix[j]·columns ≤ upper[j], for keys[j] (±inf: no bound)."""

    family: str
    keys: list
    matrix: scipy.sparse.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    sites_fixed: scipy.sparse.csr_matrix | None = None
    """The same rows as stated in the LP with the sites fixed (shadow prices), where that statement
    differs: a row there must not repeat another family's limit, or the duals tie (docs/model.md#link)."""

    def __len__(self) -> int:
        return len(self.keys)

    def _matrices(self) -> list[str]:
        return ["matrix"] + (["sites_fixed"] if self.sites_fixed is not None else [])

    def add_column(self, column: np.ndarray | int, coefficient: np.ndarray | float) -> None:
        """Add `coefficient[j]` on `column[j]` to every row j (a slack per row, or one shared column)."""
        n = len(self)
        entries = (np.broadcast_to(coefficient, (n,)), (np.arange(n), np.broadcast_to(column, (n,))))
        for name in self._matrices():
            A = getattr(self, name)
            setattr(self, name, A + scipy.sparse.csr_matrix(entries, shape=A.shape))

    def widen(self, columns: int) -> None:
        """Make room for new columns (up to `columns` in all) that this family does not use."""
        for name in self._matrices():
            A = getattr(self, name)
            setattr(self, name, scipy.sparse.csr_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], columns)))

    def subset(self, keep: np.ndarray) -> "Rows":
        """The rows where the boolean mask `keep` is true."""
        return Rows(self.family, [k for k, kept in zip(self.keys, keep) if kept], self.matrix[keep],
                    self.lower[keep], self.upper[keep],
                    None if self.sites_fixed is None else self.sites_fixed[keep])


@dataclass
class Formulation:
    """The model of one instance as arrays: variable groups, constraint families, objective."""

    variables: list[Variables]
    families: list[Rows] = field(default_factory=list)
    cost: np.ndarray | None = None
    constant: float = 0.0
    maximise: bool = True
    trivially_infeasible: list[tuple[str, object, float]] = field(default_factory=list)
    """(family, key, shortfall) of rows with no allowed cell that cannot hold, e.g. a target nobody can host."""

    @property
    def num_columns(self) -> int:
        return sum(len(v.index) for v in self.variables)

    def variable(self, name: str) -> Variables:
        return next(v for v in self.variables if v.name == name)

    def start(self, name: str) -> int:
        """First column of variable group `name`."""
        offset = 0
        for v in self.variables:
            if v.name == name:
                return offset
            offset += len(v.index)
        raise KeyError(name)

    def family(self, name: str) -> Rows | None:
        return next((rows for rows in self.families if rows.family == name), None)

    def add_variables(self, variables: Variables) -> np.ndarray:
        """Append a group of columns (with zero cost, in no row yet); returns their column numbers."""
        start, n = self.num_columns, len(variables.index)
        self.variables.append(variables)
        for rows in self.families:
            rows.widen(start + n)
        if self.cost is not None:
            self.cost = np.r_[self.cost, np.zeros(n)]
        return start + np.arange(n)

    def add(self, family: str, keys: list, row: np.ndarray, column: np.ndarray, coefficient: np.ndarray,
            lower: np.ndarray | float = -np.inf, upper: np.ndarray | float = np.inf) -> None:
        """Add a family from coordinate triplets; rows left without variables are dropped, and
        recorded in `trivially_infeasible` when their bounds exclude 0."""
        n = len(keys)
        lower = np.broadcast_to(np.asarray(lower, dtype=float), (n,))
        upper = np.broadcast_to(np.asarray(upper, dtype=float), (n,))
        matrix = scipy.sparse.csr_matrix((np.asarray(coefficient, dtype=float), (row, column)),
                                         shape=(n, self.num_columns))
        matrix.sum_duplicates()
        empty = np.diff(matrix.indptr) == 0
        for j in np.flatnonzero(empty & ((lower > INFEASIBLE_BY) | (upper < -INFEASIBLE_BY))):
            short = lower[j] if lower[j] > INFEASIBLE_BY else upper[j]
            self.trivially_infeasible.append((family, keys[j], float(abs(short))))
        keep = np.flatnonzero(~empty)
        if len(keep) == 0:
            return
        if len(keep) < n:
            keys, matrix = [keys[j] for j in keep], matrix[keep]
        self.families.append(Rows(family, list(keys), matrix, lower[keep].copy(), upper[keep].copy()))


class _Cells:
    """Column positions and per-cell arrays over the allowed cells A, computed once per instance."""

    def __init__(self, inst: Instance, form: Formulation):
        cells = inst.cells
        self.i = cells["i"].to_numpy(int)
        self.r = cells["r"].to_numpy(int)
        self.n = len(cells)
        self.x = form.start("x") + np.arange(self.n)
        self.y = form.start("y") + np.arange(self.n)
        self.existing = cells["existing"].to_numpy(float)
        self.with_existing = np.flatnonzero(self.existing > 0)
        self.d = form.start("d") + np.arange(len(self.with_existing))
        self.with_excess = excess_cells(inst)
        self.excess = form.start("excess") + np.arange(len(self.with_excess))
        self.keys = inst.cell_keys
        self.critical = np.flatnonzero(inst.critical)
        self.critical_rank = np.full(len(inst.clusters), -1)
        self.critical_rank[self.critical] = np.arange(len(self.critical))

    def of_critical(self, region_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(cell, position of its cluster among the critical ones) for cells of critical clusters,
        optionally only in regions where the (R,) mask is true."""
        rank = self.critical_rank[self.i]
        chosen = rank >= 0
        if region_mask is not None:
            chosen &= region_mask[self.r]
        cell = np.flatnonzero(chosen)
        return cell, rank[cell]


def add_target(f: Formulation, inst: Instance, c: _Cells) -> None:
    """target: Σ_r x_ir = T_i for every cluster i."""
    f.add("target", list(inst.clusters), c.i, c.x, np.ones(c.n), inst.target, inst.target)


def add_ceiling(f: Formulation, inst: Instance, c: _Cells) -> None:
    """ceiling: Σ_i a_ik·x_ir ≤ σ_rk·cap_rk for every region r and resource k used there."""
    K = len(inst.resources)
    cell, k = np.nonzero(inst.intensity[c.i] > 0)
    keys = [(r, res) for r in inst.regions for res in inst.resources]
    f.add("ceiling", keys, c.r[cell] * K + k, c.x[cell], inst.intensity[c.i[cell], k], upper=inst.ceiling.ravel())


def add_min_scale(f: Formulation, inst: Instance, c: _Cells) -> None:
    """min_scale: x_ir ≥ m_i·y_ir on A — an established site reaches the minimum efficient scale."""
    cell = np.flatnonzero(inst.min_scale[c.i] > 0)
    rows = np.arange(len(cell))
    f.add("min_scale", [c.keys[j] for j in cell], np.r_[rows, rows], np.r_[c.x[cell], c.y[cell]],
          np.r_[np.ones(len(cell)), -inst.min_scale[c.i[cell]]], lower=0.0)


def add_link(f: Formulation, inst: Instance, c: _Cells) -> None:
    """link: x_ir ≤ U_ir·y_ir, U_ir = min(c_i·T_i, min_k σ_rk·cap_rk / a_ik) — output only where a site is.

    In the LP with the sites fixed the row reads x_ir ≤ c_i·T_i·y_ir: the same feasible set (the
    ceilings hold x_ir to σ_rk·cap_rk / a_ik already), but it does not repeat a ceiling's limit, so
    a binding ceiling's shadow price lands on the ceiling (docs/model.md#link).
    """
    rows = np.arange(c.n)
    f.add("link", c.keys, np.r_[rows, rows], np.r_[c.x, c.y],
          np.r_[np.ones(c.n), -inst.cells["upper"].to_numpy(float)], upper=0.0)
    link = f.family("link")
    if link is not None:
        link.sites_fixed = scipy.sparse.csr_matrix(
            (np.r_[np.ones(c.n), -inst.cells["cap"].to_numpy(float)], (np.r_[rows, rows], np.r_[c.x, c.y])),
            shape=link.matrix.shape)


def add_max_sites(f: Formulation, inst: Instance, c: _Cells) -> None:
    """max_sites: Σ_r y_ir ≤ max(1, ⌊max_sites_i × max_sites_scale⌋) — no homogeneous duplication."""
    f.add("max_sites", list(inst.clusters), c.i, c.y, np.ones(c.n), upper=inst.max_sites.astype(float))


def add_min_sites(f: Formulation, inst: Instance, c: _Cells) -> None:
    """min_sites: Σ_r y_ir ≥ n_min for every critical cluster i ∈ C."""
    if inst.min_sites is None:
        return
    cell, row = c.of_critical()
    f.add("min_sites", [inst.clusters[i] for i in c.critical], row, c.y[cell], np.ones(len(cell)),
          lower=float(inst.min_sites))


def add_hinterland(f: Formulation, inst: Instance, c: _Cells) -> None:
    """hinterland: Σ_{r∈H} x_ir ≥ η·T_i for every critical cluster — the strategic hinterland backs it up."""
    if inst.hinterland_share is None:
        return
    cell, row = c.of_critical(inst.hinterland)
    f.add("hinterland", [inst.clusters[i] for i in c.critical], row, c.x[cell], np.ones(len(cell)),
          lower=inst.hinterland_share * inst.target[c.critical])


def add_disruption(f: Formulation, inst: Instance, c: _Cells) -> None:
    """disruption: Σ_{r∉L_s} x_ir ≥ ρ·T_i for every critical i and active disruption s."""
    if inst.disruption_survival is None or not inst.disruptions:
        return
    names = list(inst.disruptions)
    lost = np.array([inst.disruptions[s] for s in names])  # (S, R)
    cell, rank = c.of_critical()
    s, n = np.nonzero(~lost[:, c.r[cell]])
    S = len(names)
    keys = [(inst.clusters[i], name) for i in c.critical for name in names]
    f.add("disruption", keys, rank[n] * S + s, c.x[cell[n]], np.ones(len(n)),
          lower=np.repeat(inst.disruption_survival * inst.target[c.critical], S))


def add_balance(f: Formulation, inst: Instance, c: _Cells) -> None:
    """balance: Σ_{r: m(r)=m} Σ_i x_ir ≥ β_m·Σ_i T_i for each macro-region m given a β_m."""
    macros = list(inst.balance)
    cells = [np.flatnonzero(inst.macro_region[c.r] == macro) for macro in macros]
    f.add("balance", macros, np.repeat(np.arange(len(macros)), [len(x) for x in cells]),
          c.x[np.concatenate(cells)] if cells else np.zeros(0, int), np.ones(sum(len(x) for x in cells)),
          lower=np.array([inst.balance[m] for m in macros]) * float(inst.target.sum()))


def add_keep_existing(f: Formulation, inst: Instance, c: _Cells) -> None:
    """keep_existing: x_ir ≥ k·e_ir where e_ir > 0 on A (locked-out cells are phased out instead)."""
    if inst.keep_existing <= 0:
        return
    cell = c.with_existing
    f.add("keep_existing", [c.keys[j] for j in cell], np.arange(len(cell)), c.x[cell], np.ones(len(cell)),
          lower=inst.keep_existing * c.existing[cell])


def add_lock_in(f: Formulation, inst: Instance, c: _Cells) -> None:
    """lock_in: y_ir = 1 and x_ir ≥ q (q given, default m_i) for each lock-in."""
    if not inst.lock_in:
        return
    position = inst.cell_index()
    cell = np.array([position[(lock.cluster, lock.region)] for lock in inst.lock_in], dtype=int)
    f.variable("y").lower[cell] = 1.0
    f.add("lock_in", [c.keys[j] for j in cell], np.arange(len(cell)), c.x[cell], np.ones(len(cell)),
          lower=np.array([lock.min_output for lock in inst.lock_in]))


def add_growth_pole(f: Formulation, inst: Instance, c: _Cells) -> None:
    """growth_pole: Σ_{r∈R_g} Σ_{i of category} x_ir ≥ share·Σ_{i of category} T_i for each pole."""
    poles = inst.growth_poles
    cells = [np.flatnonzero((inst.category[c.i] == p.category) & inst.strategies[p.strategy][c.r]) for p in poles]
    f.add("growth_pole", [p.id for p in poles], np.repeat(np.arange(len(poles)), [len(x) for x in cells]),
          c.x[np.concatenate(cells)] if cells else np.zeros(0, int), np.ones(sum(len(x) for x in cells)),
          lower=np.array([p.share * float(inst.target[inst.category == p.category].sum()) for p in poles]))


def add_relocation(f: Formulation, inst: Instance, c: _Cells) -> None:
    """relocation: d_ir ≥ e_ir − x_ir where e_ir > 0 on A."""
    cell = c.with_existing
    rows = np.arange(len(cell))
    f.add("relocation", [c.keys[j] for j in cell], np.r_[rows, rows], np.r_[c.d, c.x[cell]],
          np.ones(2 * len(cell)), lower=c.existing[cell])


def excess_cells(inst: Instance) -> np.ndarray:
    """The allowed cells whose output can pass h·T_i, where diminishing returns are on and g < 1."""
    if inst.diminishing_returns is None or inst.diminishing_returns[1] >= 1:
        return np.zeros(0, dtype=int)
    share = inst.diminishing_returns[0]
    i = inst.cells["i"].to_numpy(int)
    return np.flatnonzero(inst.cells["upper"].to_numpy(float) > share * inst.target[i])


def add_diminishing_returns(f: Formulation, inst: Instance, c: _Cells) -> None:
    """diminishing_returns: excess_ir ≥ x_ir − h·T_i on A — the output beyond h·T_i in one region,
    which the objective values at g·s_ir instead of s_ir (concave, so no binaries are needed)."""
    cell = c.with_excess
    if len(cell) == 0:
        return
    share = inst.diminishing_returns[0]
    rows = np.arange(len(cell))
    f.add("diminishing_returns", [c.keys[j] for j in cell], np.r_[rows, rows], np.r_[c.excess, c.x[cell]],
          np.r_[np.ones(len(cell)), -np.ones(len(cell))], lower=-share * inst.target[c.i[cell]])


def define_objective(f: Formulation, inst: Instance, c: _Cells) -> None:
    """Maximise Σ_A s·x − (1−g)·Σ_A s·excess − φ·Σ_{A, e=0} f·y − κ·Σ_A d − κ·Σ_{not A} e
    (the last term a constant; docs/model.md#objective)."""
    cost = np.zeros(f.num_columns)
    score = inst.cells["score"].to_numpy(float)
    cost[c.x] = score
    if len(c.with_excess):
        cost[c.excess] = -(1 - inst.diminishing_returns[1]) * score[c.with_excess]
    cost[c.y] = -inst.fixed_cost_weight * inst.fixed_cost[c.i] * (c.existing <= 0)
    cost[c.d] = -inst.relocation_cost
    f.cost, f.constant, f.maximise = cost, inst.constant, True


FAMILIES = {
    "target": add_target, "ceiling": add_ceiling, "min_scale": add_min_scale, "link": add_link,
    "max_sites": add_max_sites, "min_sites": add_min_sites, "hinterland": add_hinterland,
    "disruption": add_disruption, "balance": add_balance, "keep_existing": add_keep_existing,
    "lock_in": add_lock_in, "growth_pole": add_growth_pole, "relocation": add_relocation,
    "diminishing_returns": add_diminishing_returns,
}
"""Every constraint family, in the order of docs/model.md#constraint-families, by name."""


def formulate(inst: Instance) -> Formulation:
    """The model of one instance as arrays: variables → constraint families → objective."""
    cells = inst.cell_keys
    existing = inst.cells["existing"].to_numpy(float) > 0
    n, e = len(cells), int(existing.sum())
    f = Formulation(variables=[
        Variables("x", cells, False, np.zeros(n), np.full(n, np.inf), "output, 10^8 yuan value added", "CELLS"),
        Variables("y", cells, True, np.zeros(n), np.ones(n), "site established", "CELLS"),
        Variables("d", [cell for cell, has in zip(cells, existing) if has], False, np.zeros(e), np.full(e, np.inf),
                  "relocated existing output", "EXISTING_CELLS"),
    ])
    excess = excess_cells(inst)
    f.variables.append(Variables("excess", [cells[j] for j in excess], False, np.zeros(len(excess)),
                                 np.full(len(excess), np.inf), "output beyond h·T_i in one region", "EXCESS_CELLS"))
    c = _Cells(inst, f)
    for add_family in FAMILIES.values():
        add_family(f, inst, c)
    define_objective(f, inst, c)
    return f


def to_pyomo(f: Formulation, name: str = "productive_layout") -> pyo.ConcreteModel:
    """The Pyomo model of a formulation: one Var per variable group, one `FamilyConstraint` per
    family, the objective; `m.trivially_infeasible` lists the rows that can never hold."""
    with PauseGC():
        m = pyo.ConcreteModel(name=name)
        m.trivially_infeasible = list(f.trivially_infeasible)
        columns = []
        for v in f.variables:
            index = v.index
            if v.index_set is not None:
                if m.find_component(v.index_set) is None:
                    dimen = len(v.index[0]) if v.index and isinstance(v.index[0], tuple) else 1
                    m.add_component(v.index_set, pyo.Set(initialize=v.index, dimen=dimen, ordered=True))
                index = m.find_component(v.index_set)
            var = pyo.Var(index, within=pyo.Binary if v.binary else pyo.NonNegativeReals, doc=v.doc, dense=True)
            m.add_component(v.name, var)
            data = list(var.values())
            for j in np.flatnonzero(v.lower != 0):
                data[j].setlb(float(v.lower[j]))
            for j in np.flatnonzero(v.upper != (1.0 if v.binary else np.inf)):
                data[j].setub(float(v.upper[j]) if np.isfinite(v.upper[j]) else None)
            columns += data
        columns = tuple(columns)
        for rows in f.families:
            m.add_component(rows.family, FamilyConstraint(rows, columns))
        m.objective = FamilyObjective(f.cost, columns, f.constant, f.maximise)
    return m


def build_model(inst: Instance) -> pyo.ConcreteModel:
    """The Pyomo model of one instance (docs/model.md)."""
    return to_pyomo(formulate(inst))
