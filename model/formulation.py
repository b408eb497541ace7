"""The mixed-integer model (docs/model.md): each constraint family as a sparse block, then Pyomo.

`formulate(instance)` reads like a table of contents: variables, then one `add_*` function per
constraint family, each named as in docs/model.md and documented with its maths, then the objective.
Every family is computed with numpy over the allowed cells A at once (no Python loop over
cluster–region pairs, arcs or disruptions) as a block of rows `lower ≤ A·columns ≤ upper` keyed by
the family's ids.

`build_model(instance)` turns that into a Pyomo `ConcreteModel`: Vars `x`, `y`, `d` on the
allowed cells, one `FamilyConstraint` component per family (`m.ceiling["shanghai", "water"]`),
and the objective. A `FamilyConstraint` is Pyomo's sparse `MatrixConstraint` with the family's
keys, so the rows cost a few bytes each in Pyomo and reach HiGHS as one matrix
(`solver.HighsModel.from_pyomo`), while the model stays an ordinary Pyomo model that workflows
add constraints and objectives to.

Symbols: i, j cluster, r region, k resource, s disruption, n node, a arc; x output, y site
established, d relocated existing output; f flow of an upstream cluster on an arc, b standby
(backup) capacity, p surviving production and g surviving flow under a disruption (recourse).
The resilient network's families (docs/model.md#chains-corridors-and-backup) add nothing to a
model whose dataset has no chains.csv and whose scenario has no `backup`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

import model.pyomo_blocks  # noqa: F401 - before scipy: keeps Pyomo from importing scipy.stats with it
import scipy.sparse
from pyomo.common.gc_manager import PauseGC

from model.instance import Instance
from model.network import Flows, Recourse
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
    offset: np.ndarray | None = None
    """For a family built in a compact form: row j as docs/model.md states it is offset[j] + sign·(row j),
    its bounds likewise (the disruption rows, written over the lost cells: docs/model.md#size)."""
    sign: float = 1.0

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
        return Rows(
            self.family,
            [k for k, kept in zip(self.keys, keep) if kept],
            self.matrix[keep],
            self.lower[keep],
            self.upper[keep],
            None if self.sites_fixed is None else self.sites_fixed[keep],
            None if self.offset is None else self.offset[keep],
            self.sign,
        )

    def stated(self, activity: np.ndarray) -> np.ndarray:
        """Row activities (or bounds) as docs/model.md states the rows (see `offset`)."""
        return activity if self.offset is None else self.offset + self.sign * activity


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
    recourse: Recourse | None = None
    """The index sets of the recourse columns p, g and X, when the scenario asks for recourse."""
    benefit: np.ndarray | None = None
    """The planner's objective (`define_objective`), kept when a workflow sets another `cost`:
    the objective terms of a layout are always reported in it."""

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
        if self.benefit is not None:
            self.benefit = np.r_[self.benefit, np.zeros(n)]
        return start + np.arange(n)

    def add(
        self,
        family: str,
        keys: list,
        row: np.ndarray,
        column: np.ndarray,
        coefficient: np.ndarray,
        lower: np.ndarray | float = -np.inf,
        upper: np.ndarray | float = np.inf,
        offset: np.ndarray | None = None,
        sign: float = 1.0,
    ) -> None:
        """Add a family from coordinate triplets; rows left without variables are dropped, and
        recorded in `trivially_infeasible` when their bounds exclude 0. `offset` and `sign` say how a
        compact form maps to the stated rows (`Rows.offset`)."""
        n = len(keys)
        lower = np.broadcast_to(np.asarray(lower, dtype=float), (n,))
        upper = np.broadcast_to(np.asarray(upper, dtype=float), (n,))
        matrix = scipy.sparse.csr_matrix(
            (np.asarray(coefficient, dtype=float), (row, column)), shape=(n, self.num_columns)
        )
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
        stated = None if offset is None else np.broadcast_to(np.asarray(offset, dtype=float), (n,))[keep].copy()
        self.families.append(
            Rows(family, list(keys), matrix, lower[keep].copy(), upper[keep].copy(), offset=stated, sign=sign)
        )


def _has(form: Formulation, name: str) -> bool:
    return any(v.name == name for v in form.variables)


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
        self.node = inst.node[self.r] if inst.node is not None else self.r
        self.backup_of = np.full(self.n, -1)
        """Column of b_ir for each cell, −1 where the cell holds no backup."""
        self.b = self.backup_total = np.zeros(0, int)
        if inst.backup is not None:
            self.b = form.start("b") + np.arange(len(inst.backup.cells))
            self.backup_of[inst.backup.cells] = self.b
            if _has(form, "b_total"):
                self.backup_total = form.start("b_total") + np.arange(len(self.critical))
        self.flows: Flows | None = Flows(inst) if _has(form, "f") else None
        self.f = form.start("f") + np.arange(len(self.flows)) if self.flows is not None else np.zeros(0, int)
        self.recourse: Recourse | None = getattr(form, "recourse", None)
        if self.recourse is not None:
            self.p = form.start("p") + np.arange(self.recourse.num_p)
            self.g = form.start("g") + np.arange(self.recourse.num_g)
            self.node_output = (
                form.start("x_node") + np.arange(len(self.recourse.totals))
                if _has(form, "x_node")
                else np.zeros(0, int)
            )

    def held(
        self, cell: np.ndarray, row: np.ndarray, coefficient: np.ndarray | float = 1.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Triplets of coefficient·(x_ir + b_ir) for each cell[j] in row[j], b only on backup cells:
        the capacity a cell holds, output and standby."""
        coefficient = np.broadcast_to(np.asarray(coefficient, dtype=float), np.shape(cell))
        has = self.backup_of[cell] >= 0
        return (
            np.r_[row, row[has]],
            np.r_[self.x[cell], self.backup_of[cell[has]]],
            np.r_[coefficient, coefficient[has]],
        )

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
    """ceiling: Σ_i a_ik·x_ir (+ Σ_{i: backup} a_ik·b_ir for k ∈ backup.resources) ≤ σ_rk·cap_rk
    for every region r and resource k used there (docs/model.md#ceiling, docs/model.md#backup)."""
    K = len(inst.resources)
    cell, k = np.nonzero(inst.intensity[c.i] > 0)
    row, column, coefficient = c.r[cell] * K + k, c.x[cell], inst.intensity[c.i[cell], k]
    if inst.backup is not None:
        held = inst.backup.cells
        j, kb = np.nonzero((inst.intensity[c.i[held]] > 0) & inst.backup.resources[None, :])
        row = np.r_[row, c.r[held[j]] * K + kb]
        column = np.r_[column, c.backup_of[held[j]]]
        coefficient = np.r_[coefficient, inst.intensity[c.i[held[j]], kb]]
    keys = [(r, res) for r in inst.regions for res in inst.resources]
    f.add("ceiling", keys, row, column, coefficient, upper=inst.ceiling.ravel())


def add_min_scale(f: Formulation, inst: Instance, c: _Cells) -> None:
    """min_scale: x_ir ≥ m_i·y_ir on A — an established site reaches the minimum efficient scale."""
    cell = np.flatnonzero(inst.min_scale[c.i] > 0)
    rows = np.arange(len(cell))
    f.add(
        "min_scale",
        [c.keys[j] for j in cell],
        np.r_[rows, rows],
        np.r_[c.x[cell], c.y[cell]],
        np.r_[np.ones(len(cell)), -inst.min_scale[c.i[cell]]],
        lower=0.0,
    )


def add_link(f: Formulation, inst: Instance, c: _Cells) -> None:
    """link: x_ir ≤ U_ir·y_ir, U_ir = min(c_i·T_i, min_k σ_rk·cap_rk / a_ik) — output only where a site is;
    on backup cells x_ir + b_ir ≤ U_ir·y_ir: standby capacity needs the site and shares its capacity.

    In the LP with the sites fixed the row reads x_ir ≤ c_i·T_i·y_ir: the same feasible set (the
    ceilings hold x_ir to σ_rk·cap_rk / a_ik already), but it does not repeat a ceiling's limit, so
    a binding ceiling's shadow price lands on the ceiling (docs/model.md#link). On a backup cell it
    reads x_ir + b_ir ≤ min(c_i·T_i, min_{k∉backup.resources} σ_rk·cap_rk / a_ik)·y_ir: the ceilings of
    backup.resources count b and hold x + b already; the others count x only, so their limit stays.
    """
    rows = np.arange(c.n)
    upper = inst.cells["upper"].to_numpy(float)
    fixed = inst.cells["cap"].to_numpy(float).copy()
    row, column = np.r_[rows, rows], np.r_[c.x, c.y]
    if inst.backup is not None:
        held = inst.backup.cells
        fixed[held] = inst.backup.sites_fixed_upper
        row, column = np.r_[row, held], np.r_[column, c.b]
    ones = np.ones(len(row) - 2 * c.n)
    f.add("link", c.keys, row, column, np.r_[np.ones(c.n), -upper, ones], upper=0.0)
    link = f.family("link")
    if link is not None:
        link.sites_fixed = scipy.sparse.csr_matrix(
            (np.r_[np.ones(c.n), -fixed, ones], (row, column)), shape=link.matrix.shape
        )


def add_max_sites(f: Formulation, inst: Instance, c: _Cells) -> None:
    """max_sites: Σ_r y_ir ≤ max(1, ⌊max_sites_i × max_sites_scale⌋) — no homogeneous duplication."""
    f.add("max_sites", list(inst.clusters), c.i, c.y, np.ones(c.n), upper=inst.max_sites.astype(float))


def add_min_sites(f: Formulation, inst: Instance, c: _Cells) -> None:
    """min_sites: Σ_r y_ir ≥ n_min for every critical cluster i ∈ C."""
    if inst.min_sites is None:
        return
    cell, row = c.of_critical()
    f.add(
        "min_sites",
        [inst.clusters[i] for i in c.critical],
        row,
        c.y[cell],
        np.ones(len(cell)),
        lower=float(inst.min_sites),
    )


def add_hinterland(f: Formulation, inst: Instance, c: _Cells) -> None:
    """hinterland: Σ_{r∈H} x_ir ≥ η·T_i for every critical cluster — the strategic hinterland backs it up."""
    if inst.hinterland_share is None:
        return
    cell, row = c.of_critical(inst.hinterland)
    f.add(
        "hinterland",
        [inst.clusters[i] for i in c.critical],
        row,
        c.x[cell],
        np.ones(len(cell)),
        lower=inst.hinterland_share * inst.target[c.critical],
    )


def add_disruption(f: Formulation, inst: Instance, c: _Cells, literal: bool = False) -> None:
    """disruption: Σ_{r∉L_s} (x_ir + b_ir) ≥ ρ·T_i for every critical i and active disruption s
    (b on backup cells only: docs/model.md#disruption).

    Built through the lost cells (docs/model.md#size): with the target row Σ_r x_ir = T_i and the
    total backup B_i = Σ_r b_ir (family backup_total), the row is the same as
    Σ_{r∈L_s} (x_ir + b_ir) − B_i ≤ (1 − ρ)·T_i, whose nonzeros grow with the lost cells rather than
    with the surviving cells of every disruption. The rows keep the family's keys (cluster,
    disruption), and results state them as written above (`Rows.offset`: T_i minus the row).
    A cluster with no allowed cell outside L_s is recorded as trivially infeasible, as the literal
    row without variables would be. `literal=True` writes the surviving cells instead (tests).
    """
    if inst.disruption_survival is None or not inst.disruptions:
        return
    names = list(inst.disruptions)
    lost = np.array([inst.disruptions[s] for s in names])  # (S, R)
    S, rho = len(names), inst.disruption_survival
    cell, rank = c.of_critical()
    keys = [(inst.clusters[i], name) for i in c.critical for name in names]
    target = np.repeat(inst.target[c.critical], S)
    if literal:
        s, n = np.nonzero(~lost[:, c.r[cell]])
        f.add("disruption", keys, *c.held(cell[n], rank[n] * S + s), lower=rho * target)
        return
    surviving = np.zeros(len(keys))
    s, n = np.nonzero(~lost[:, c.r[cell]])
    np.add.at(surviving, rank[n] * S + s, 1.0)
    hopeless = (surviving == 0) & (rho * target > INFEASIBLE_BY)
    f.trivially_infeasible += [("disruption", keys[j], float(rho * target[j])) for j in np.flatnonzero(hopeless)]
    s, n = np.nonzero(lost[:, c.r[cell]])
    row, column, coefficient = c.held(cell[n], rank[n] * S + s)
    if len(c.backup_total):
        rows = np.unique(row)
        row, column = np.r_[row, rows], np.r_[column, c.backup_total[rows // S]]
        coefficient = np.r_[coefficient, -np.ones(len(rows))]
    keep = ~hopeless[row]
    f.add(
        "disruption",
        keys,
        row[keep],
        column[keep],
        coefficient[keep],
        upper=(1 - rho) * target,
        offset=target,
        sign=-1.0,
    )


def add_balance(f: Formulation, inst: Instance, c: _Cells) -> None:
    """balance: Σ_{r: m(r)=m} Σ_i x_ir ≥ β_m·Σ_i T_i for each macro-region m given a β_m."""
    macros = list(inst.balance)
    cells = [np.flatnonzero(inst.macro_region[c.r] == macro) for macro in macros]
    f.add(
        "balance",
        macros,
        np.repeat(np.arange(len(macros)), [len(x) for x in cells]),
        c.x[np.concatenate(cells)] if cells else np.zeros(0, int),
        np.ones(sum(len(x) for x in cells)),
        lower=np.array([inst.balance[m] for m in macros]) * float(inst.target.sum()),
    )


def add_keep_existing(f: Formulation, inst: Instance, c: _Cells) -> None:
    """keep_existing: x_ir ≥ k·e_ir where e_ir > 0 on A (locked-out cells are phased out instead)."""
    if inst.keep_existing <= 0:
        return
    cell = c.with_existing
    f.add(
        "keep_existing",
        [c.keys[j] for j in cell],
        np.arange(len(cell)),
        c.x[cell],
        np.ones(len(cell)),
        lower=inst.keep_existing * c.existing[cell],
    )


def add_lock_in(f: Formulation, inst: Instance, c: _Cells) -> None:
    """lock_in: y_ir = 1 and x_ir ≥ q (q given, default m_i) for each lock-in."""
    if not inst.lock_in:
        return
    position = inst.cell_index()
    cell = np.array([position[(lock.cluster, lock.region)] for lock in inst.lock_in], dtype=int)
    f.variable("y").lower[cell] = 1.0
    f.add(
        "lock_in",
        [c.keys[j] for j in cell],
        np.arange(len(cell)),
        c.x[cell],
        np.ones(len(cell)),
        lower=np.array([lock.min_output for lock in inst.lock_in]),
    )


def add_growth_pole(f: Formulation, inst: Instance, c: _Cells) -> None:
    """growth_pole: Σ_{r∈R_g} Σ_{i of category} x_ir ≥ share·Σ_{i of category} T_i for each pole."""
    poles = inst.growth_poles
    cells = [np.flatnonzero((inst.category[c.i] == p.category) & inst.strategies[p.strategy][c.r]) for p in poles]
    f.add(
        "growth_pole",
        [p.id for p in poles],
        np.repeat(np.arange(len(poles)), [len(x) for x in cells]),
        c.x[np.concatenate(cells)] if cells else np.zeros(0, int),
        np.ones(sum(len(x) for x in cells)),
        lower=np.array([p.share * float(inst.target[inst.category == p.category].sum()) for p in poles]),
    )


def add_relocation(f: Formulation, inst: Instance, c: _Cells) -> None:
    """relocation: d_ir ≥ e_ir − x_ir where e_ir > 0 on A."""
    cell = c.with_existing
    rows = np.arange(len(cell))
    f.add(
        "relocation",
        [c.keys[j] for j in cell],
        np.r_[rows, rows],
        np.r_[c.d, c.x[cell]],
        np.ones(2 * len(cell)),
        lower=c.existing[cell],
    )


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
    if len(cell) == 0 or inst.diminishing_returns is None:
        return
    share = inst.diminishing_returns[0]
    rows = np.arange(len(cell))
    f.add(
        "diminishing_returns",
        [c.keys[j] for j in cell],
        np.r_[rows, rows],
        np.r_[c.excess, c.x[cell]],
        np.r_[np.ones(len(cell)), -np.ones(len(cell))],
        lower=-share * inst.target[c.i[cell]],
    )


def add_chain_supply(f: Formulation, inst: Instance, c: _Cells) -> None:
    """chain_supply: Σ_{r∈R_n} x_ir + Σ_{a into n} f_ia − Σ_{a out of n} f_ia ≥ Σ_j q_ij·Σ_{r∈R_n} x_jr
    for every upstream cluster i ∈ U and node n — a nodal balance (docs/model.md#chains): what i makes
    in n, plus what flows in, less what flows out, covers what its downstream clusters use there."""
    if c.flows is None or inst.network is None:
        return
    flows, N, net = c.flows, len(inst.nodes), inst.network
    made = np.flatnonzero(flows.rank[c.i] >= 0)
    used, pair = flows.pairs.upstream_of(c.i)
    row = np.r_[
        flows.rank[c.i[made]] * N + c.node[made],
        flows.rank[flows.pairs.upstream[pair]] * N + c.node[used],
        flows.rank[flows.cluster] * N + net.arc_to[flows.arc],
        flows.rank[flows.cluster] * N + net.arc_from[flows.arc],
    ]
    column = np.r_[c.x[made], c.x[used], c.f, c.f]
    coefficient = np.r_[np.ones(len(made)), -flows.pairs.per_unit[pair], np.ones(len(c.f)), -np.ones(len(c.f))]
    keys = [(inst.clusters[i], node) for i in flows.upstream for node in inst.nodes]
    f.add("chain_supply", keys, row, column, coefficient, lower=0.0)


def add_corridor_capacity(f: Formulation, inst: Instance, c: _Cells) -> None:
    """corridor_capacity: Σ_{i∈U} f_ia ≤ cap_a for every arc with a capacity (each direction apart)."""
    if c.flows is None:
        return
    net, flows = inst.network, c.flows
    assert net is not None
    limited = np.flatnonzero(np.isfinite(net.capacity))
    position = np.full(flows.arcs, -1)
    position[limited] = np.arange(len(limited))
    on = np.flatnonzero(position[flows.arc] >= 0)
    keys = [(inst.nodes[net.arc_from[a]], inst.nodes[net.arc_to[a]]) for a in limited]
    f.add("corridor_capacity", keys, position[flows.arc[on]], c.f[on], np.ones(len(on)), upper=net.capacity[limited])


def add_backup_total(f: Formulation, inst: Instance, c: _Cells) -> None:
    """backup_total: B_i − Σ_r b_ir = 0 for every critical i — the total standby capacity as one column,
    so that each compact disruption row needs one nonzero for it (docs/model.md#size)."""
    if not len(c.backup_total) or inst.backup is None:
        return
    held = inst.backup.cells
    rank = c.critical_rank[c.i[held]]
    n = len(c.critical)
    f.add(
        "backup_total",
        [inst.clusters[i] for i in c.critical],
        np.r_[np.arange(n), rank],
        np.r_[c.backup_total, c.b],
        np.r_[np.ones(n), -np.ones(len(held))],
        0.0,
        0.0,
    )


def add_backup_share(f: Formulation, inst: Instance, c: _Cells) -> None:
    """backup_share: Σ_r b_ir ≥ backup.share·T_i for every critical i, when backup.share is given."""
    if inst.backup is None or inst.backup.share is None:
        return
    held = inst.backup.cells
    f.add(
        "backup_share",
        [inst.clusters[i] for i in c.critical],
        c.critical_rank[c.i[held]],
        c.b,
        np.ones(len(held)),
        lower=inst.backup.share * inst.target[c.critical],
    )


def add_node_output(f: Formulation, inst: Instance, c: _Cells) -> None:
    """node_output: X_in − Σ_{r∈R_n, (i,r)∈A} (x_ir + b_ir) = 0 for the clusters i ∈ I* and nodes n whose
    recourse_capacity rows are written against the node total (docs/model.md#size)."""
    rc = c.recourse
    if rc is None or not len(c.node_output):
        return
    e = np.flatnonzero(rc.total_at[rc.cell_key] >= 0)
    row, column, coefficient = c.held(rc.cells[e], rc.total_at[rc.cell_key[e]], -1.0)
    n = len(rc.totals)
    f.add(
        "node_output",
        rc.total_keys(inst),
        np.r_[np.arange(n), row],
        np.r_[c.node_output, column],
        np.r_[np.ones(n), coefficient],
        0.0,
        0.0,
    )


def add_recourse_capacity(f: Formulation, inst: Instance, c: _Cells) -> None:
    """recourse_capacity: p_ins ≤ Σ_{r∈R_n∖L_s, (i,r)∈A} (x_ir + b_ir) for every p_ins (b on backup cells):
    production that survives s in node n is capacity there outside the lost regions.

    Where it has fewer nonzeros the row is written against the node total (docs/model.md#size):
    p_ins − X_in + Σ_{r∈R_n∩L_s} (x_ir + b_ir) ≤ 0, so that the nonzeros grow with the lost cells.
    """
    rc = c.recourse
    if rc is None:
        return
    s, e = np.nonzero(rc.p_at[:, rc.cell_key] >= 0)
    key = rc.cell_key[e]
    compact = rc.compact[s, key]
    lost = rc.cell_lost[s, e]
    literal = ~compact & ~lost
    short = compact & lost
    r1, c1, k1 = c.held(rc.cells[e[literal]], rc.p_at[s[literal], key[literal]], -1.0)
    r2, c2, k2 = c.held(rc.cells[e[short]], rc.p_at[s[short], key[short]], 1.0)
    with_total = np.flatnonzero(rc.compact[rc.p_s, rc.p_key])
    rows = np.arange(rc.num_p)
    f.add(
        "recourse_capacity",
        rc.p_keys(inst),
        np.r_[rows, r1, r2, with_total],
        np.r_[c.p, c1, c2, c.node_output[rc.total_at[rc.p_key[with_total]]]],
        np.r_[np.ones(rc.num_p), k1, k2, -np.ones(len(with_total))],
        upper=0.0,
    )


def add_recourse_survival(f: Formulation, inst: Instance, c: _Cells) -> None:
    """recourse_survival: Σ_n p_ins ≥ ρ·T_i for every critical i and active disruption s."""
    rc = c.recourse
    if rc is None:
        return
    S = len(rc.names)
    chosen = np.flatnonzero(c.critical_rank[rc.p_cluster] >= 0)
    keys = [(inst.clusters[i], name) for i in c.critical for name in rc.names]
    f.add(
        "recourse_survival",
        keys,
        c.critical_rank[rc.p_cluster[chosen]] * S + rc.p_s[chosen],
        c.p[chosen],
        np.ones(len(chosen)),
        lower=np.repeat(inst.disruption_survival * inst.target[c.critical], S),
    )


def add_recourse_supply(f: Formulation, inst: Instance, c: _Cells) -> None:
    """recourse_supply: p_ins + Σ_{a into n} g_ias − Σ_{a out of n} g_ias ≥ Σ_{j∈I*} q_ij·p_jns for every
    i ∈ U ∩ I*, node n and active s: the surviving chain's nodal balance, over the arcs s leaves open."""
    rc = c.recourse
    if rc is None:
        return
    net, N, G = inst.network, len(inst.nodes), len(rc.suppliers)
    assert net is not None

    def row(s: np.ndarray, cluster: np.ndarray, node: np.ndarray) -> np.ndarray:
        return (s * G + rc.supplier_rank[cluster]) * N + node

    made = np.flatnonzero(rc.supplier_rank[rc.p_cluster] >= 0)
    used, pair = rc.pairs.upstream_of(rc.p_cluster)
    rows = np.r_[
        row(rc.p_s[made], rc.p_cluster[made], rc.p_node[made]),
        row(rc.p_s[used], rc.pairs.upstream[pair], rc.p_node[used]),
        row(rc.g_s, rc.g_cluster, net.arc_to[rc.g_arc]),
        row(rc.g_s, rc.g_cluster, net.arc_from[rc.g_arc]),
    ]
    column = np.r_[c.p[made], c.p[used], c.g, c.g]
    coefficient = np.r_[np.ones(len(made)), -rc.pairs.per_unit[pair], np.ones(len(c.g)), -np.ones(len(c.g))]
    keys = [(inst.clusters[i], node, name) for name in rc.names for i in rc.suppliers for node in inst.nodes]
    f.add("recourse_supply", keys, rows, column, coefficient, lower=0.0)


def add_recourse_corridor(f: Formulation, inst: Instance, c: _Cells) -> None:
    """recourse_corridor: Σ_i g_ias ≤ cap_a for every arc with a capacity that s does not cut."""
    rc = c.recourse
    if rc is None:
        return
    net = inst.network
    assert net is not None
    A = len(net.arc_from)
    limited = np.isfinite(net.capacity[rc.g_arc])
    keys = [(inst.nodes[net.arc_from[a]], inst.nodes[net.arc_to[a]], name) for name in rc.names for a in range(A)]
    f.add(
        "recourse_corridor",
        keys,
        (rc.g_s * A + rc.g_arc)[limited],
        c.g[limited],
        np.ones(int(limited.sum())),
        upper=np.tile(net.capacity, len(rc.names)),
    )


def define_objective(f: Formulation, inst: Instance, c: _Cells) -> None:
    """Maximise Σ_A s·x − (1−g)·Σ_A s·excess − φ·Σ_{A, e=0} f·y − κ·Σ_A d − κ·Σ_{not A} e (the last term
    a constant) − θ·Σ_{i∈U, a} t_i·(dist_a / 1000)·f_ia − backup.cost·Σ b_ir (docs/model.md#objective)."""
    cost = np.zeros(f.num_columns)
    score = inst.cells["score"].to_numpy(float)
    cost[c.x] = score
    if len(c.with_excess) and inst.diminishing_returns is not None:
        cost[c.excess] = -(1 - inst.diminishing_returns[1]) * score[c.with_excess]
    cost[c.y] = -inst.fixed_cost_weight * inst.fixed_cost[c.i] * (c.existing <= 0)
    cost[c.d] = -inst.relocation_cost
    if c.flows is not None and inst.network is not None:
        cost[c.f] = -inst.network.transport[c.flows.cluster] * inst.network.distance[c.flows.arc] / 1000.0
    if inst.backup is not None:
        cost[c.b] = -inst.backup.cost
    f.cost, f.constant, f.maximise = cost, inst.constant, True
    f.benefit = cost.copy()


OBJECTIVE_TERMS = {
    "x": "value",
    "excess": "value",
    "y": "fixed_cost",
    "d": "relocation",
    "f": "transport",
    "b": "backup",
}
"""Which objective term each variable group's cost belongs to; the constant (existing output that
cannot stay) is relocation."""


def objective_terms(f: Formulation, inst: Instance, values: np.ndarray) -> dict[str, float]:
    """The planner's objective at column values `values` split into value, fixed_cost, relocation,
    transport and backup; they sum to it (docs/run-folder.md#summaryjson)."""
    terms = dict.fromkeys(("value", "fixed_cost", "relocation", "transport", "backup"), 0.0)
    terms["relocation"] += inst.constant
    for v in f.variables:
        term = OBJECTIVE_TERMS.get(v.name)
        if term is not None:
            start = f.start(v.name)
            columns = slice(start, start + len(v.index))
            assert f.benefit is not None, "a formulation's objective is defined before its terms are read"
            terms[term] += float(f.benefit[columns] @ values[columns])
    return terms


FAMILIES = {
    "target": add_target,
    "ceiling": add_ceiling,
    "min_scale": add_min_scale,
    "link": add_link,
    "max_sites": add_max_sites,
    "min_sites": add_min_sites,
    "hinterland": add_hinterland,
    "disruption": add_disruption,
    "balance": add_balance,
    "keep_existing": add_keep_existing,
    "lock_in": add_lock_in,
    "growth_pole": add_growth_pole,
    "relocation": add_relocation,
    "diminishing_returns": add_diminishing_returns,
    "chain_supply": add_chain_supply,
    "corridor_capacity": add_corridor_capacity,
    "backup_total": add_backup_total,
    "backup_share": add_backup_share,
    "node_output": add_node_output,
    "recourse_capacity": add_recourse_capacity,
    "recourse_survival": add_recourse_survival,
    "recourse_supply": add_recourse_supply,
    "recourse_corridor": add_recourse_corridor,
}
"""Every constraint family, in the order of docs/model.md#constraint-families, by name (backup_total and
node_output define the columns of the compact forms: docs/model.md#size)."""
LITERAL = ("disruption",)
"""Families that `formulate(..., literal=True)` writes over the surviving cells instead (tests, sizes)."""


def define_variables(inst: Instance, literal: bool = False) -> tuple[list[Variables], Recourse | None]:
    """x, y, d on the allowed cells; f on the arcs, b on the backup cells, B per critical cluster, and
    the recourse columns p, g, N where the scenario has them (docs/model.md#variables)."""
    cells = inst.cell_keys
    existing = inst.cells["existing"].to_numpy(float) > 0
    n = len(cells)

    def continuous(name: str, index: list, doc: str, index_set: str | None = None) -> Variables:
        return Variables(name, index, False, np.zeros(len(index)), np.full(len(index), np.inf), doc, index_set)

    variables = [
        continuous("x", cells, "output, 10^8 yuan value added", "CELLS"),
        Variables("y", cells, True, np.zeros(n), np.ones(n), "site established", "CELLS"),
        continuous(
            "d", [cell for cell, has in zip(cells, existing) if has], "relocated existing output", "EXISTING_CELLS"
        ),
    ]
    excess = excess_cells(inst)
    variables.append(
        continuous("excess", [cells[j] for j in excess], "output beyond h·T_i in one region", "EXCESS_CELLS")
    )
    net = inst.network
    if net is not None and len(net.upstream):
        variables.append(continuous("f", Flows(inst).keys(inst), "flow of an upstream cluster on an arc"))
    if inst.backup is not None:
        variables.append(
            continuous("b", [cells[j] for j in inst.backup.cells], "standby (backup) capacity", "BACKUP_CELLS")
        )
        if inst.disruption_survival is not None and inst.disruptions and not literal:
            variables.append(
                continuous(
                    "b_total",
                    [inst.clusters[i] for i in np.flatnonzero(inst.critical)],
                    "total standby capacity of a critical cluster",
                )
            )
    recourse = None
    if net is not None and net.recourse and inst.disruption_survival is not None and inst.disruptions:
        recourse = Recourse(inst, literal)
        variables.append(continuous("p", recourse.p_keys(inst), "production that survives a disruption, per node"))
        variables.append(continuous("g", recourse.g_keys(inst), "flow on an arc a disruption leaves open"))
        if len(recourse.totals):
            variables.append(
                continuous("x_node", recourse.total_keys(inst), "output and standby capacity of a cluster in a node")
            )
    return variables, recourse


def formulate(inst: Instance, literal: bool = False) -> Formulation:
    """The model of one instance as arrays: variables → constraint families → objective.

    `literal=True` writes the disruption and recourse_capacity rows over the surviving cells, as
    docs/model.md states them, instead of their compact forms (same optimum; for tests and sizes).
    """
    variables, recourse = define_variables(inst, literal)
    f = Formulation(variables=variables, recourse=recourse)
    c = _Cells(inst, f)
    for name, add_family in FAMILIES.items():
        if name in LITERAL:
            add_family(f, inst, c, literal=literal)  # type: ignore[call-arg]  # the LITERAL families take it
        else:
            add_family(f, inst, c)
    define_objective(f, inst, c)
    return f


def to_pyomo(f: Formulation, name: str = "productive_layout") -> pyo.ConcreteModel:
    """The Pyomo model of a formulation: one Var per variable group, one `FamilyConstraint` per
    family, the objective; `m.trivially_infeasible` lists the rows that can never hold, and
    `m.formulation` / `m.formulation_columns` keep the arrays and the Var of each of their columns."""
    with PauseGC():
        m = pyo.ConcreteModel(name=name)
        m.trivially_infeasible = list(f.trivially_infeasible)
        data_of: list = []
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
            data_of += data
        columns = tuple(data_of)
        for rows in f.families:
            m.add_component(rows.family, FamilyConstraint(rows, columns))
        assert f.cost is not None, "a formulation's objective is defined before it becomes a Pyomo model"
        m.objective = FamilyObjective(f.cost, columns, f.constant, f.maximise)
        m.formulation, m.formulation_columns = f, columns
    return m


def build_model(inst: Instance) -> pyo.ConcreteModel:
    """The Pyomo model of one instance (docs/model.md)."""
    return to_pyomo(formulate(inst))
