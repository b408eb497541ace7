"""The model of docs/model.md assembled without Pyomo: as a raw highspy matrix, and in linopy.

Both are written from the spec, not from `model/formulation.py`; they read only the resolved
numbers of `model.instance.Instance` (targets, ceilings, cells with U, critical, hinterland,
disruptions, …). Rows come family by family in the spec's order, each family's rows in the order
of its keys, and columns are x, y, d over the allowed cells — the order in which the project's
Pyomo model reaches HiGHS — so that all forms hand HiGHS the same matrix and their solves can be
compared one to one.

- `assemble(inst)` → `MatrixModel`: numpy arrays and a scipy CSR matrix, built with vectorised
  numpy only (the physical limit of building); `MatrixModel.to_highs()` hands it over in one
  `passModel` (plus one `changeColsIntegrality`).
- `build_linopy(inst)` → `linopy.Model`; `linopy_to_highs(model, inst)` hands it over with
  `to_highspy()` (linopy's direct API) and adds the objective constant, which linopy does not pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from model.instance import Instance

INF = np.inf


# --- raw highspy matrix -------------------------------------------------------------------

class _Rows:
    """Accumulates constraint families as COO blocks; a row without entries is dropped, like a Pyomo Skip."""

    def __init__(self, n_cols: int):
        self.n_cols = n_cols
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.families: list[tuple[str, int]] = []
        self.trivially_infeasible: list[tuple[str, int]] = []
        self.n_rows = 0

    def add(self, name: str, n: int, row: np.ndarray, col: np.ndarray, val, lower, upper) -> None:
        """Family `name` with `n` candidate rows; entry j sits in candidate row `row[j]`."""
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        val = np.broadcast_to(np.asarray(val, dtype=float), row.shape)
        lower = np.broadcast_to(np.asarray(lower, dtype=float), (n,))
        upper = np.broadcast_to(np.asarray(upper, dtype=float), (n,))
        count = np.bincount(row, minlength=n)
        keep = count > 0
        empty = ~keep & ((lower > 1e-9) | (upper < -1e-9))
        self.trivially_infeasible += [(name, int(j)) for j in np.flatnonzero(empty)]
        new_index = np.cumsum(keep) - 1
        self.rows.append(self.n_rows + new_index[row])
        self.cols.append(col)
        self.vals.append(val)
        self.lower.append(lower[keep])
        self.upper.append(upper[keep])
        kept = int(keep.sum())
        self.families.append((name, kept))
        self.n_rows += kept

    def matrix(self) -> sp.csr_matrix:
        if not self.rows:
            return sp.csr_matrix((0, self.n_cols))
        A = sp.csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                          shape=(self.n_rows, self.n_cols))
        A.sum_duplicates()
        A.eliminate_zeros()
        return A


@dataclass
class MatrixModel:
    """max c·x + offset  s.t.  row_lower ≤ A x ≤ row_upper, col_lower ≤ x ≤ col_upper, integer columns."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: sp.csr_matrix
    offset: float
    families: list[tuple[str, int]] = field(default_factory=list)
    trivially_infeasible: list = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns)."""
        return self.A.shape[0], self.A.shape[1], int(self.integer.sum())

    def to_highs(self):
        """A `highspy.Highs` holding this model (one `passModel`, output off)."""
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_ = self.A.shape[1]
        lp.num_row_ = self.A.shape[0]
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = float(self.offset)
        lp.col_cost_ = self.col_cost
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = np.where(np.isinf(self.row_lower), -highspy.kHighsInf, self.row_lower)
        lp.row_upper_ = np.where(np.isinf(self.row_upper), highspy.kHighsInf, self.row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = self.A.indptr
        lp.a_matrix_.index_ = self.A.indices
        lp.a_matrix_.value_ = self.A.data
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        columns = np.flatnonzero(self.integer).astype(np.int32)
        if len(columns):  # integrality as one array call (a list of HighsVarType enums costs ~1 µs each)
            h.changeColsIntegrality(len(columns), columns, np.ones(len(columns), dtype=np.uint8))
        return h


def assemble(inst: Instance) -> MatrixModel:
    """The model as a sparse matrix, every family that the instance switches on."""
    cells = inst.cells
    ci = cells["i"].to_numpy(np.int64)
    cr = cells["r"].to_numpy(np.int64)
    score = cells["score"].to_numpy(float)
    existing = cells["existing"].to_numpy(float)
    upper = cells["upper"].to_numpy(float)
    I, R, K = len(inst.clusters), len(inst.regions), len(inst.resources)
    n = len(ci)
    ex = np.flatnonzero(existing > 0)
    X = np.arange(n)
    Y = n + X
    D = 2 * n + np.arange(len(ex))
    n_cols = 2 * n + len(ex)
    T = inst.target
    rows = _Rows(n_cols)
    critical = np.flatnonzero(inst.critical)
    crank = np.full(I, -1)
    crank[critical] = np.arange(len(critical))
    in_crit = crank[ci] >= 0

    # target: Σ_r x_ir = T_i
    rows.add("target", I, ci, X, 1.0, T, T)
    # ceiling: Σ_i a_ik x_ir ≤ σ_rk cap_rk, rows (r, k) r-major
    a = inst.intensity[ci]                              # (n, K)
    cell_k, k_of = np.nonzero(a > 0)
    rows.add("ceiling", R * K, cr[cell_k] * K + k_of, X[cell_k], a[cell_k, k_of], -INF, inst.ceiling.ravel())
    # min_scale: x_ir − m_i y_ir ≥ 0 where m_i > 0
    ms = inst.min_scale[ci]
    on = np.flatnonzero(ms > 0)
    local = np.arange(len(on))
    rows.add("min_scale", len(on), np.concatenate([local, local]), np.concatenate([X[on], Y[on]]),
             np.concatenate([np.ones(len(on)), -ms[on]]), 0.0, INF)
    # link: x_ir − U_ir y_ir ≤ 0
    rows.add("link", n, np.concatenate([X, X]), np.concatenate([X, Y]), np.concatenate([np.ones(n), -upper]),
             -INF, 0.0)
    # max_sites: Σ_r y_ir ≤ max_sites_i
    rows.add("max_sites", I, ci, Y, 1.0, -INF, inst.max_sites.astype(float))
    # min_sites: Σ_r y_ir ≥ n_min, i ∈ C
    if inst.min_sites is not None:
        rows.add("min_sites", len(critical), crank[ci[in_crit]], Y[in_crit], 1.0, float(inst.min_sites), INF)
    # hinterland: Σ_{r∈H} x_ir ≥ η T_i, i ∈ C
    if inst.hinterland_share is not None:
        on = in_crit & inst.hinterland[cr]
        rows.add("hinterland", len(critical), crank[ci[on]], X[on], 1.0, inst.hinterland_share * T[critical], INF)
    # disruption: Σ_{r∉L_s} x_ir ≥ ρ T_i, rows (i, s) i-major
    if inst.disruption_survival is not None and inst.disruptions:
        lost = np.stack(list(inst.disruptions.values()))  # (S, R)
        S = len(lost)
        cc = np.flatnonzero(in_crit)
        s_of, j = np.nonzero(~lost[:, cr[cc]])           # (S, critical cells) that survive
        rows.add("disruption", len(critical) * S, crank[ci[cc[j]]] * S + s_of, X[cc[j]], 1.0,
                 np.repeat(inst.disruption_survival * T[critical], S), INF)
    # balance: Σ_{m(r)=m} Σ_i x_ir ≥ β_m Σ_i T_i
    if inst.balance:
        names = list(inst.balance)
        code = {m: b for b, m in enumerate(names)}
        cell_macro = np.array([code.get(m, -1) for m in inst.macro_region])[cr]
        on = cell_macro >= 0
        rows.add("balance", len(names), cell_macro[on], X[on], 1.0,
                 np.array([inst.balance[m] for m in names]) * float(T.sum()), INF)
    # keep_existing: x_ir ≥ k e_ir where e_ir > 0
    if inst.keep_existing > 0:
        rows.add("keep_existing", len(ex), np.arange(len(ex)), X[ex], 1.0, inst.keep_existing * existing[ex], INF)
    # lock_in: y_ir = 1 (a column bound), x_ir ≥ q
    col_lower = np.zeros(n_cols)
    if inst.lock_in:
        where = {cell: j for j, cell in enumerate(zip(cells["cluster"], cells["region"]))}
        at = np.array([where[(lock.cluster, lock.region)] for lock in inst.lock_in], dtype=np.int64)
        col_lower[Y[at]] = 1.0
        rows.add("lock_in", len(at), np.arange(len(at)), X[at], 1.0, [lock.min_output for lock in inst.lock_in], INF)
    # growth_pole: Σ_{r∈R_g} Σ_{i of category} x_ir ≥ share Σ_{i of category} T_i
    poles = {p.id: p for p in inst.growth_poles}
    if poles:
        row_of, col_of, lower = [], [], []
        for g, pole in enumerate(poles.values()):
            on = np.flatnonzero((inst.category[ci] == pole.category) & inst.strategies[pole.strategy][cr])
            row_of.append(np.full(len(on), g))
            col_of.append(X[on])
            lower.append(pole.share * float(T[inst.category == pole.category].sum()))
        rows.add("growth_pole", len(poles), np.concatenate(row_of), np.concatenate(col_of), 1.0, lower, INF)
    # relocation: d_ir + x_ir ≥ e_ir where e_ir > 0
    local = np.arange(len(ex))
    rows.add("relocation", len(ex), np.concatenate([local, local]), np.concatenate([D, X[ex]]), 1.0,
             existing[ex], INF)

    # objective: max Σ s x − φ Σ_{e=0} f y − κ Σ d − κ Σ_{not A} e
    cost = np.zeros(n_cols)
    cost[X] = score
    f = inst.fixed_cost[ci]
    new = (existing <= 0) & (f > 0)
    cost[Y[new]] = -inst.fixed_cost_weight * f[new]
    cost[D] = -inst.relocation_cost
    integer = np.zeros(n_cols, bool)
    integer[Y] = True
    col_upper = np.full(n_cols, INF)
    col_upper[Y] = 1.0
    return MatrixModel(col_cost=cost, col_lower=col_lower, col_upper=col_upper, integer=integer,
                       row_lower=np.concatenate(rows.lower), row_upper=np.concatenate(rows.upper),
                       A=rows.matrix(), offset=inst.constant, families=rows.families,
                       trivially_infeasible=rows.trivially_infeasible)


# --- linopy -----------------------------------------------------------------------------------

def build_linopy(inst: Instance):
    """The model in linopy: x, y, d on (cluster, region) with masks; one constraint per family."""
    import linopy
    import xarray as xr

    linopy.options["semantics"] = "v1"
    cells = inst.cells
    ci = cells["i"].to_numpy(np.int64)
    cr = cells["r"].to_numpy(np.int64)
    I, R = len(inst.clusters), len(inst.regions)
    coords = {"i": list(inst.clusters), "r": list(inst.regions)}

    def grid(values, fill=0.0, dtype=float) -> xr.DataArray:
        out = np.full((I, R), fill, dtype=dtype)
        out[ci, cr] = values
        return xr.DataArray(out, coords=coords, dims=("i", "r"))

    allowed = grid(True, False, bool)
    score = grid(cells["score"].to_numpy(float))
    upper = grid(cells["upper"].to_numpy(float))
    existing = grid(cells["existing"].to_numpy(float))
    has_existing = existing > 0
    T = xr.DataArray(inst.target, coords={"i": coords["i"]}, dims="i")
    count = allowed.sum("r")
    crit = [c for c, flag in zip(inst.clusters, inst.critical) if flag]

    m = linopy.Model()
    x = m.add_variables(lower=0.0, coords=[coords["i"], coords["r"]], dims=("i", "r"), name="x", mask=allowed)
    y_lower = np.zeros((I, R))
    if inst.lock_in:
        where = {cell: (i, r) for cell, i, r in zip(zip(cells["cluster"], cells["region"]), ci, cr)}
        for lock in inst.lock_in:
            y_lower[where[(lock.cluster, lock.region)]] = 1.0
    y = m.add_variables(lower=xr.DataArray(y_lower, coords=coords, dims=("i", "r")), upper=1.0,
                        coords=[coords["i"], coords["r"]], dims=("i", "r"), name="y", integer=True, mask=allowed)
    d = m.add_variables(lower=0.0, coords=[coords["i"], coords["r"]], dims=("i", "r"), name="d", mask=has_existing)

    m.add_constraints(x.sum("r") == T, name="target", mask=count > 0)
    a = xr.DataArray(inst.intensity, coords={"i": coords["i"], "k": list(inst.resources)}, dims=("i", "k"))
    used = (x.where(a > 0) * a).sum("i")
    cap = xr.DataArray(inst.ceiling, coords={"r": coords["r"], "k": list(inst.resources)}, dims=("r", "k"))
    m.add_constraints(used <= cap, name="ceiling", mask=(allowed & (a > 0)).any("i"))
    ms = xr.DataArray(inst.min_scale, coords={"i": coords["i"]}, dims="i")
    m.add_constraints(x - ms * y >= 0, name="min_scale", mask=allowed & (ms > 0))
    m.add_constraints(x - upper * y <= 0, name="link", mask=allowed)
    max_sites = xr.DataArray(inst.max_sites.astype(float), coords={"i": coords["i"]}, dims="i")
    m.add_constraints(y.sum("r") <= max_sites, name="max_sites", mask=count > 0)
    if crit and inst.min_sites is not None:
        m.add_constraints(y.sel(i=crit).sum("r") >= float(inst.min_sites), name="min_sites",
                          mask=count.sel(i=crit) > 0)
    if crit and inst.hinterland_share is not None:
        H = xr.DataArray(inst.hinterland, coords={"r": coords["r"]}, dims="r")
        m.add_constraints(x.sel(i=crit).where(H).sum("r") >= inst.hinterland_share * T.sel(i=crit),
                          name="hinterland", mask=(allowed.sel(i=crit) & H).any("r"))
    if crit and inst.disruption_survival is not None and inst.disruptions:
        survive = xr.DataArray(~np.stack(list(inst.disruptions.values())),
                               coords={"s": list(inst.disruptions), "r": coords["r"]}, dims=("s", "r"))
        lhs = x.sel(i=crit).where(survive).sum("r")
        m.add_constraints(lhs >= inst.disruption_survival * T.sel(i=crit), name="disruption",
                          mask=(allowed.sel(i=crit) & survive).any("r").transpose("i", "s"))
    if inst.balance:
        names = list(inst.balance)
        member = xr.DataArray(np.array([[mr == b for mr in inst.macro_region] for b in names]),
                              coords={"b": names, "r": coords["r"]}, dims=("b", "r"))
        share = xr.DataArray([inst.balance[b] for b in names], coords={"b": names}, dims="b")
        m.add_constraints(x.where(member).sum(["i", "r"]) >= share * float(inst.target.sum()), name="balance",
                          mask=(allowed & member).any(["i", "r"]))
    if inst.keep_existing > 0:
        m.add_constraints(x >= inst.keep_existing * existing, name="keep_existing", mask=has_existing)
    for n, lock in enumerate(inst.lock_in):  # one row each, in the scenario's order
        m.add_constraints(x.loc[lock.cluster, lock.region] >= lock.min_output, name=f"lock_in_{n}")
    poles = {p.id: p for p in inst.growth_poles}
    for g, pole in enumerate(poles.values()):
        member = xr.DataArray(np.outer(inst.category == pole.category, inst.strategies[pole.strategy]),
                              coords=coords, dims=("i", "r"))
        total = float(inst.target[inst.category == pole.category].sum())
        m.add_constraints(x.where(member).sum() >= pole.share * total, name=f"growth_pole_{g}")
    m.add_constraints(d + x >= existing, name="relocation", mask=has_existing)

    f = xr.DataArray(inst.fixed_cost, coords={"i": coords["i"]}, dims="i")
    fixed = (f * (~has_existing) * (f > 0) * inst.fixed_cost_weight)
    m.add_objective((score * x).sum() - (fixed * y).sum() - inst.relocation_cost * d.sum(), sense="max")
    return m


def linopy_to_highs(model, inst: Instance):
    """Hand a linopy model to HiGHS through linopy's direct API; add the objective constant."""
    h = model.to_highspy(set_names=False)
    h.setOptionValue("output_flag", False)
    h.changeObjectiveOffset(float(inst.constant))
    return h
