"""The model of docs/model.md assembled without Pyomo: as a raw highspy matrix, and in linopy.

Both are written from the spec, not from `model/formulation.py`; they read only the resolved
numbers of `model.instance.Instance` (targets, ceilings, cells with U, critical, hinterland,
disruptions, …). Rows come family by family in the spec's order, each family's rows in the order
of its keys, and columns are x, y, d over the allowed cells — the order in which the project's
Pyomo model reaches HiGHS — so that all forms hand HiGHS the same matrix and their solves can be
compared one to one.

- `assemble(inst)` → `MatrixModel`: numpy arrays and a scipy CSR matrix, built with vectorised
  numpy only (the physical limit of building); `MatrixModel.to_highs()` hands it over in one
  `passModel` (plus one `changeColsIntegrality`). `assemble_periods(instances, …)` stacks one
  `assemble` per period into the phased model of docs/model.md#periods; `resolve` and
  `assemble_scenario` pick the one or the other for a scenario.
- `build_linopy(inst)` → `linopy.Model`; `linopy_to_highs(model, inst)` hands it over with
  `to_highspy()` (linopy's direct API) and adds the objective constant, which linopy does not pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from model.instance import Instance
from model.periods import instances_by_period, weights_of

INF = np.inf


def covers(form: str, instances: list[Instance]) -> bool:
    """Whether `form` states every family the instances (one, or one per period) switch on: the linopy
    form has no resilient network (chains, corridors, backup, recourse) and no periods; the matrix form
    has them all."""
    return form != "linopy" or (len(instances) == 1 and instances[0].network is None and instances[0].backup is None)


def resolve(scenario, dataset) -> list[Instance]:
    """The resolved numbers the forms are built from: the scenario's instance, or one per period."""
    base = Instance.of(scenario, dataset)
    return [base] if scenario.periods is None else instances_by_period(scenario, dataset, base)


def assemble_scenario(scenario, instances: list[Instance]) -> MatrixModel:
    """`assemble` of the one instance, or `assemble_periods` over the scenario's periods."""
    periods = scenario.periods
    if periods is None:
        return assemble(instances[0])
    return assemble_periods(instances, weights_of(periods), periods.decline_limit)


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
        A = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rows, self.n_cols),
        )
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
    groups: list[tuple[str, int]] = field(default_factory=list)
    """(variable, columns) of every column group in column order: x, y, d, f, b, B, p, g, X."""

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


def _recourse_sets(inst: Instance) -> dict:
    """The index sets of docs/model.md#recourse, from the instance's numbers: I* (`members`), U ∩ I*
    (`suppliers`), per (s, i ∈ I*, n) the surviving and lost allowed cells, which p exist, which arcs s
    cuts, and where recourse_capacity is written against the node total X_in (docs/model.md#size)."""
    net = inst.network
    cells = inst.cells
    ci, cr = cells["i"].to_numpy(np.int64), cells["r"].to_numpy(np.int64)
    N, I = len(inst.nodes), len(inst.clusters)
    lost = np.stack([inst.disruptions[s] for s in inst.disruptions])  # (S, R)
    S = len(lost)
    members = np.flatnonzero(net.chain_members)
    mrank = np.full(I, -1)
    mrank[members] = np.arange(len(members))
    member_cells = np.flatnonzero(mrank[ci] >= 0)
    key = mrank[ci[member_cells]] * N + inst.node[cr[member_cells]]  # (i ∈ I*, n) of each cell
    n_keys = len(members) * N
    onehot = sp.csr_matrix(
        (np.ones(len(member_cells)), (np.arange(len(member_cells)), key)), shape=(len(member_cells), n_keys)
    )
    cell_lost = lost[:, cr[member_cells]]  # (S, member cells)
    surviving = np.asarray((~cell_lost).astype(float) @ onehot)  # (S, keys): allowed cells left
    total = np.asarray(onehot.sum(axis=0)).ravel()
    has_p = surviving > 0
    # a node stands while any of its regions does; an arc is cut when either end node falls
    regions_in = np.bincount(inst.node, minlength=N)
    node_lost = np.stack([np.bincount(inst.node, weights=row.astype(float), minlength=N) >= regions_in for row in lost])
    cut = node_lost[:, net.arc_from] | node_lost[:, net.arc_to]  # (S, A)
    # against the node total where that row is shorter: 1 + lost + 1 nonzeros instead of 1 + surviving
    compact = has_p & (total - surviving + 1 < surviving)
    p_s, p_key = np.nonzero(has_p)  # p order: s, i ∈ I*, n
    p_at = np.full((S, n_keys), -1)
    p_at[p_s, p_key] = np.arange(len(p_s))
    totals = np.flatnonzero(compact.any(axis=0))
    total_at = np.full(n_keys, -1)
    total_at[totals] = np.arange(len(totals))
    upstream = np.flatnonzero((net.per_unit > 0).any(axis=1))
    suppliers = upstream[mrank[upstream] >= 0]
    g_s, g_rank, g_arc = np.nonzero(np.broadcast_to(~cut[:, None, :], (S, len(suppliers), len(net.arc_from))))
    return dict(
        S=S,
        N=N,
        members=members,
        mrank=mrank,
        member_cells=member_cells,
        key=key,
        cell_lost=cell_lost,
        p_s=p_s,
        p_key=p_key,
        p_at=p_at,
        compact=compact,
        totals=totals,
        total_at=total_at,
        suppliers=suppliers,
        g_s=g_s,
        g_rank=g_rank,
        g_arc=g_arc,
    )


def assemble(inst: Instance) -> MatrixModel:
    """The model as a sparse matrix, every family that the instance switches on (docs/model.md), the
    disruption and recourse_capacity rows in their compact forms (docs/model.md#size).

    Columns: x, y, d on the allowed cells; then, as the instance has them, f (upstream cluster × arc),
    b (backup cells), B (critical clusters), p, g and the node totals X (docs/model.md#recourse).
    """
    cells = inst.cells
    ci = cells["i"].to_numpy(np.int64)
    cr = cells["r"].to_numpy(np.int64)
    score = cells["score"].to_numpy(float)
    existing = cells["existing"].to_numpy(float)
    upper = cells["upper"].to_numpy(float)
    I, R, K = len(inst.clusters), len(inst.regions), len(inst.resources)
    n = len(ci)
    if inst.diminishing_returns is not None and inst.diminishing_returns[1] < 1:
        raise NotImplementedError("diminishing_returns is not in the matrix form")
    ex = np.flatnonzero(existing > 0)
    net, backup = inst.network, inst.backup
    resilient = inst.disruption_survival is not None and bool(inst.disruptions)
    rho = inst.disruption_survival
    T = inst.target
    critical = np.flatnonzero(inst.critical)
    crank = np.full(I, -1)
    crank[critical] = np.arange(len(critical))
    in_crit = crank[ci] >= 0
    names = list(inst.disruptions)
    S = len(names)

    # --- columns
    n_cols = 0
    groups: list[tuple[str, int]] = []

    def columns(count: int, name: str) -> np.ndarray:
        nonlocal n_cols
        out = n_cols + np.arange(count)
        n_cols += count
        groups.append((name, count))
        return out

    X, Y, D = columns(n, "x"), columns(n, "y"), columns(len(ex), "d")
    upstream = np.flatnonzero((net.per_unit > 0).any(axis=1)) if net is not None else np.zeros(0, np.int64)
    A = len(net.arc_from) if net is not None else 0
    F = columns(len(upstream) * A, "f")  # f_ia: upstream-major, then arc
    urank = np.full(I, -1)
    urank[upstream] = np.arange(len(upstream))
    held_at = np.full(n, -1)  # column of b_ir on each backup cell
    Bk = Btot = np.zeros(0, np.int64)
    if backup is not None:
        Bk = columns(len(backup.cells), "b")
        held_at[backup.cells] = Bk
        if resilient:
            Btot = columns(len(critical), "B")
    rc = _recourse_sets(inst) if net is not None and net.recourse and resilient else None
    P = G = XN = np.zeros(0, np.int64)
    if rc is not None:
        P, G, XN = columns(len(rc["p_s"]), "p"), columns(len(rc["g_s"]), "g"), columns(len(rc["totals"]), "X")

    def held(cell: np.ndarray, row: np.ndarray, sign: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """sign·(x_ir + b_ir) of each cell[j] in row[j] (b on backup cells only)."""
        has = held_at[cell] >= 0
        return (
            np.concatenate([row, row[has]]),
            np.concatenate([X[cell], held_at[cell[has]]]),
            np.full(len(cell) + int(has.sum()), sign),
        )

    rows = _Rows(n_cols)
    # target: Σ_r x_ir = T_i
    rows.add("target", I, ci, X, 1.0, T, T)
    # ceiling: Σ_i a_ik x_ir (+ Σ a_ik b_ir, k ∈ backup.resources) ≤ σ_rk cap_rk, rows (r, k) r-major
    a = inst.intensity[ci]  # (n, K)
    cell_k, k_of = np.nonzero(a > 0)
    row, col, val = cr[cell_k] * K + k_of, X[cell_k], a[cell_k, k_of]
    if backup is not None:
        bc, bk = np.nonzero((a[backup.cells] > 0) & backup.resources[None, :])
        cell = backup.cells[bc]
        row, col, val = np.r_[row, cr[cell] * K + bk], np.r_[col, held_at[cell]], np.r_[val, a[cell, bk]]
    rows.add("ceiling", R * K, row, col, val, -INF, inst.ceiling.ravel())
    # min_scale: x_ir − m_i y_ir ≥ 0 where m_i > 0
    ms = inst.min_scale[ci]
    on = np.flatnonzero(ms > 0)
    local = np.arange(len(on))
    rows.add(
        "min_scale",
        len(on),
        np.concatenate([local, local]),
        np.concatenate([X[on], Y[on]]),
        np.concatenate([np.ones(len(on)), -ms[on]]),
        0.0,
        INF,
    )
    # link: x_ir (+ b_ir on backup cells) − U_ir y_ir ≤ 0
    local = np.arange(n)
    row, col, val = np.concatenate([local, local]), np.concatenate([X, Y]), np.concatenate([np.ones(n), -upper])
    if backup is not None:
        row, col, val = np.r_[row, backup.cells], np.r_[col, Bk], np.r_[val, np.ones(len(Bk))]
    rows.add("link", n, row, col, val, -INF, 0.0)
    # max_sites: Σ_r y_ir ≤ max_sites_i
    rows.add("max_sites", I, ci, Y, 1.0, -INF, inst.max_sites.astype(float))
    # min_sites: Σ_r y_ir ≥ n_min, i ∈ C
    if inst.min_sites is not None:
        rows.add("min_sites", len(critical), crank[ci[in_crit]], Y[in_crit], 1.0, float(inst.min_sites), INF)
    # hinterland: Σ_{r∈H} x_ir ≥ η T_i, i ∈ C
    if inst.hinterland_share is not None:
        on = in_crit & inst.hinterland[cr]
        rows.add("hinterland", len(critical), crank[ci[on]], X[on], 1.0, inst.hinterland_share * T[critical], INF)
    # disruption, compact (docs/model.md#size): Σ_{r∈L_s} (x_ir + b_ir) − B_i ≤ (1 − ρ) T_i, rows (i, s) i-major;
    # a row without a lost cell always holds, a cluster with no allowed cell outside L_s cannot hold it
    if resilient:
        lost = np.stack([inst.disruptions[s] for s in names])  # (S, R)
        cc = np.flatnonzero(in_crit)
        row_of = crank[ci[cc]] * S  # + s
        s_sv, j_sv = np.nonzero(~lost[:, cr[cc]])
        hopeless = np.bincount(row_of[j_sv] + s_sv, minlength=len(critical) * S) == 0
        s_of, j = np.nonzero(lost[:, cr[cc]])
        keep = ~hopeless[row_of[j] + s_of]
        row, col, val = held(cc[j[keep]], (row_of[j] + s_of)[keep])
        if len(Btot):
            hit = np.unique(row)
            row, col, val = np.r_[row, hit], np.r_[col, Btot[hit // S]], np.r_[val, -np.ones(len(hit))]
        rows.add("disruption", len(critical) * S, row, col, val, -INF, np.repeat((1 - rho) * T[critical], S))
    # balance: Σ_{m(r)=m} Σ_i x_ir ≥ β_m Σ_i T_i
    if inst.balance:
        names_b = list(inst.balance)
        code = {m: b for b, m in enumerate(names_b)}
        cell_macro = np.array([code.get(m, -1) for m in inst.macro_region])[cr]
        on = cell_macro >= 0
        rows.add(
            "balance",
            len(names_b),
            cell_macro[on],
            X[on],
            1.0,
            np.array([inst.balance[m] for m in names_b]) * float(T.sum()),
            INF,
        )
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
    rows.add("relocation", len(ex), np.concatenate([local, local]), np.concatenate([D, X[ex]]), 1.0, existing[ex], INF)

    if net is not None:
        N = len(inst.nodes)
        node = inst.node[cr]
        f_up, f_arc = np.repeat(np.arange(len(upstream)), A), np.tile(np.arange(A), len(upstream))
        # chain_supply: Σ_{r∈R_n} x_ir + Σ_{a into n} f_ia − Σ_{a out of n} f_ia − Σ_j q_ij Σ_{r∈R_n} x_jr ≥ 0,
        # rows (i ∈ U, n)
        made = np.flatnonzero(urank[ci] >= 0)
        q_i, q_j = np.nonzero(net.per_unit[upstream] > 0)  # pairs (position in U, downstream j)
        pair_cells = [np.flatnonzero(ci == j) for j in q_j]
        used = np.concatenate(pair_cells) if pair_cells else np.zeros(0, np.int64)
        used_pair = np.repeat(np.arange(len(q_j)), [len(c) for c in pair_cells])
        rows.add(
            "chain_supply",
            len(upstream) * N,
            np.concatenate(
                [
                    urank[ci[made]] * N + node[made],
                    q_i[used_pair] * N + node[used],
                    f_up * N + net.arc_to[f_arc],
                    f_up * N + net.arc_from[f_arc],
                ]
            ),
            np.concatenate([X[made], X[used], F, F]),
            np.concatenate(
                [
                    np.ones(len(made)),
                    -net.per_unit[upstream[q_i[used_pair]], q_j[used_pair]],
                    np.ones(len(F)),
                    -np.ones(len(F)),
                ]
            ),
            0.0,
            INF,
        )
        # corridor_capacity: Σ_{i∈U} f_ia ≤ cap_a, arcs with a capacity
        limited = np.flatnonzero(np.isfinite(net.capacity))
        position = np.full(A, -1)
        position[limited] = np.arange(len(limited))
        on = position[f_arc] >= 0
        rows.add("corridor_capacity", len(limited), position[f_arc[on]], F[on], 1.0, -INF, net.capacity[limited])
    if backup is not None:
        b_rank = crank[ci[backup.cells]]
        # backup_total: B_i − Σ_r b_ir = 0, i ∈ C
        if len(Btot):
            rows.add(
                "backup_total",
                len(critical),
                np.r_[np.arange(len(critical)), b_rank],
                np.r_[Btot, Bk],
                np.r_[np.ones(len(critical)), -np.ones(len(Bk))],
                0.0,
                0.0,
            )
        # backup_share: Σ_r b_ir ≥ share T_i, i ∈ C
        if backup.share is not None:
            rows.add("backup_share", len(critical), b_rank, Bk, 1.0, backup.share * T[critical], INF)
    if rc is not None:
        N, S = rc["N"], rc["S"]
        mc, key, cell_lost, p_at = rc["member_cells"], rc["key"], rc["cell_lost"], rc["p_at"]
        # node_output: X_in − Σ_{r∈R_n} (x_ir + b_ir) = 0 where some recourse_capacity row uses X_in
        e = np.flatnonzero(rc["total_at"][key] >= 0)
        row, col, val = held(mc[e], rc["total_at"][key[e]], -1.0)
        nt = len(rc["totals"])
        rows.add("node_output", nt, np.r_[np.arange(nt), row], np.r_[XN, col], np.r_[np.ones(nt), val], 0.0, 0.0)
        # recourse_capacity: p_ins − Σ_{r∈R_n∖L_s} (x_ir + b_ir) ≤ 0, or p_ins − X_in + Σ_{r∈R_n∩L_s} (x_ir + b_ir) ≤ 0
        s, j = np.nonzero(p_at[:, key] >= 0)
        compact = rc["compact"][s, key[j]]
        lost_here = cell_lost[s, j]
        p_row = p_at[s, key[j]]
        r1, c1, v1 = held(mc[j[~compact & ~lost_here]], p_row[~compact & ~lost_here], -1.0)
        r2, c2, v2 = held(mc[j[compact & lost_here]], p_row[compact & lost_here], 1.0)
        n_p = len(P)
        with_total = np.flatnonzero(rc["compact"][rc["p_s"], rc["p_key"]])
        rows.add(
            "recourse_capacity",
            n_p,
            np.r_[np.arange(n_p), r1, r2, with_total],
            np.r_[P, c1, c2, XN[rc["total_at"][rc["p_key"][with_total]]]],
            np.r_[np.ones(n_p), v1, v2, -np.ones(len(with_total))],
            -INF,
            0.0,
        )
        # recourse_survival: Σ_n p_ins ≥ ρ T_i, rows (i ∈ C, s)
        p_cluster = rc["members"][rc["p_key"] // N]
        chosen = np.flatnonzero(crank[p_cluster] >= 0)
        rows.add(
            "recourse_survival",
            len(critical) * S,
            crank[p_cluster[chosen]] * S + rc["p_s"][chosen],
            P[chosen],
            1.0,
            np.repeat(rho * T[critical], S),
            INF,
        )
        # recourse_supply: p_ins + Σ_{a into n} g_ias − Σ_{a out of n} g_ias − Σ_{j∈I*} q_ij p_jns ≥ 0,
        # rows (s, i ∈ U ∩ I*, n)
        suppliers, Gn = rc["suppliers"], len(rc["suppliers"])
        srank = np.full(I, -1)
        srank[suppliers] = np.arange(Gn)
        p_node = rc["p_key"] % N
        mine = np.flatnonzero(srank[p_cluster] >= 0)
        q = np.where(net.chain_members[:, None] & net.chain_members[None, :], net.per_unit, 0.0)
        e_p, e_i = np.nonzero(q[:, p_cluster].T > 0)  # p of a downstream j, its upstream i
        rows.add(
            "recourse_supply",
            S * Gn * N,
            np.concatenate(
                [
                    (rc["p_s"][mine] * Gn + srank[p_cluster[mine]]) * N + p_node[mine],
                    (rc["p_s"][e_p] * Gn + srank[e_i]) * N + p_node[e_p],
                    (rc["g_s"] * Gn + rc["g_rank"]) * N + net.arc_to[rc["g_arc"]],
                    (rc["g_s"] * Gn + rc["g_rank"]) * N + net.arc_from[rc["g_arc"]],
                ]
            ),
            np.concatenate([P[mine], P[e_p], G, G]),
            np.concatenate([np.ones(len(mine)), -q[e_i, p_cluster[e_p]], np.ones(len(G)), -np.ones(len(G))]),
            0.0,
            INF,
        )
        # recourse_corridor: Σ_i g_ias ≤ cap_a, arcs with a capacity that s leaves open, rows (s, a)
        on = np.isfinite(net.capacity[rc["g_arc"]])
        rows.add(
            "recourse_corridor", S * A, (rc["g_s"] * A + rc["g_arc"])[on], G[on], 1.0, -INF, np.tile(net.capacity, S)
        )

    # objective: max Σ s x − φ Σ_{e=0} f y − κ Σ d − κ Σ_{not A} e − θ Σ t_i (dist_a / 1000) f_ia − cost Σ b
    cost = np.zeros(n_cols)
    cost[X] = score
    f = inst.fixed_cost[ci]
    new = (existing <= 0) & (f > 0)
    cost[Y[new]] = -inst.fixed_cost_weight * f[new]
    cost[D] = -inst.relocation_cost
    if len(F):
        cost[F] = -net.transport[upstream[f_up]] * net.distance[f_arc] / 1000.0
    if backup is not None:
        cost[Bk] = -backup.cost
    integer = np.zeros(n_cols, bool)
    integer[Y] = True
    col_upper = np.full(n_cols, INF)
    col_upper[Y] = 1.0
    return MatrixModel(
        col_cost=cost,
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        row_lower=np.concatenate(rows.lower),
        row_upper=np.concatenate(rows.upper),
        A=rows.matrix(),
        offset=inst.constant,
        families=rows.families,
        trivially_infeasible=rows.trivially_infeasible,
        groups=groups,
    )


def assemble_periods(instances: list[Instance], weights: np.ndarray, decline_limit: float | None = None) -> MatrixModel:
    """The phased model of docs/model.md#periods as a sparse matrix: every period's model by `assemble`
    (from its own instance: T_ip, σ_rkp, U_irp), then stacked as the project stacks them — columns
    group-major (every period's x, then every period's y, …), rows family-major (every period's target
    rows, then every period's ceiling rows, …) — then persistence and decline, and the objective over
    periods: Σ_p w_p·(period p's objective without fixed cost) plus the last period's fixed cost, once."""
    blocks = [assemble(inst) for inst in instances]
    P = len(blocks)
    names = list(dict.fromkeys(name for b in blocks for name, _ in b.groups))
    size = np.array([[dict(b.groups).get(name, 0) for name in names] for b in blocks])  # (P, groups)
    first = np.r_[0, np.cumsum(size.T.ravel())[:-1]].reshape(len(names), P).T  # (P, groups): stacked start
    n_cols = int(size.sum())
    columns = []  # per period: the stacked column of each of its columns
    for p, b in enumerate(blocks):
        group = [names.index(name) for name, _ in b.groups]
        counts = np.array([count for _, count in b.groups], dtype=np.int64)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        columns.append(np.repeat(first[p, group], counts) + within)

    def at(p: int, name: str) -> np.ndarray:
        g = names.index(name)
        return first[p, g] + np.arange(size[p, g])

    # rows: each period's family blocks, family-major
    parts: dict[str, list[tuple[int, int, int]]] = {}  # family → (period, first row, rows)
    for p, b in enumerate(blocks):
        row = 0
        for family, count in b.families:
            parts.setdefault(family, []).append((p, row, count))
            row += count
    pieces, lower, upper, families = [], [], [], []
    for family, spans in parts.items():
        for p, row, count in spans:
            block = blocks[p].A[row : row + count]
            pieces.append(sp.csr_matrix((block.data, columns[p][block.indices], block.indptr), shape=(count, n_cols)))
            lower.append(blocks[p].row_lower[row : row + count])
            upper.append(blocks[p].row_upper[row : row + count])
        families.append((family, sum(count for _, _, count in spans)))
    # persistence: y_irp − y_ir,p−1 ≥ 0 on A, p ≥ 2
    n = len(instances[0].cells)
    if P > 1:
        rows = np.arange(n * (P - 1))  # period-major: p = 2's cells, then p = 3's, …
        now = np.concatenate([at(p, "y") for p in range(1, P)])
        before = np.concatenate([at(p - 1, "y") for p in range(1, P)])
        pieces.append(
            sp.csr_matrix(
                (np.r_[np.ones(len(rows)), -np.ones(len(rows))], (np.r_[rows, rows], np.r_[now, before])),
                shape=(len(rows), n_cols),
            )
        )
        lower.append(np.zeros(len(rows)))
        upper.append(np.full(len(rows), INF))
        families.append(("persistence", len(rows)))
    # decline: x_ir1 ≥ (1 − δ) e_ir where e_ir > 0 and U_ir1 ≥ m_i; x_irp − (1 − δ) x_ir,p−1 ≥ 0 on A, p ≥ 2
    if decline_limit is not None:
        keep = 1.0 - decline_limit
        cells = instances[0].cells
        existing = cells["existing"].to_numpy(float)
        start = np.flatnonzero(
            (existing > 0) & (cells["upper"].to_numpy(float) >= instances[0].min_scale[cells["i"].to_numpy(np.int64)])
        )
        m, later_rows = len(start), n * (P - 1)
        rows = m + np.arange(later_rows)
        now = np.concatenate([at(p, "x") for p in range(1, P)] + [np.zeros(0, np.int64)])
        before = np.concatenate([at(p - 1, "x") for p in range(1, P)] + [np.zeros(0, np.int64)])
        pieces.append(
            sp.csr_matrix(
                (
                    np.r_[np.ones(m + later_rows), -keep * np.ones(later_rows)],
                    (np.r_[np.arange(m), rows, rows], np.r_[at(0, "x")[start], now, before]),
                ),
                shape=(m + later_rows, n_cols),
            )
        )
        lower.append(np.r_[keep * existing[start], np.zeros(later_rows)])
        upper.append(np.full(m + later_rows, INF))
        families.append(("decline", m + later_rows))
    # objective over periods; bounds and integrality carried to the stacked columns
    cost, col_lower, col_upper = np.zeros(n_cols), np.zeros(n_cols), np.zeros(n_cols)
    integer = np.zeros(n_cols, bool)
    y = n + np.arange(n)  # every period's own columns start x, y (`assemble`)
    for p, b in enumerate(blocks):
        own = b.col_cost.copy()
        own[y] = 0.0
        cost[columns[p]] += weights[p] * own
        col_lower[columns[p]], col_upper[columns[p]], integer[columns[p]] = b.col_lower, b.col_upper, b.integer
    cost[columns[-1][y]] += blocks[-1].col_cost[y]
    A = sp.vstack(pieces, format="csr")
    A.sort_indices()
    return MatrixModel(
        col_cost=cost,
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        row_lower=np.concatenate(lower),
        row_upper=np.concatenate(upper),
        A=A,
        offset=float(sum(w * b.offset for w, b in zip(weights, blocks))),
        families=families,
        trivially_infeasible=[t for b in blocks for t in b.trivially_infeasible],
        groups=[(name, int(size[:, g].sum())) for g, name in enumerate(names)],
    )


# --- linopy -----------------------------------------------------------------------------------


def build_linopy(inst: Instance):
    """The model in linopy: x, y, d on (cluster, region) with masks; one constraint per family."""
    import linopy
    import xarray as xr

    if inst.network is not None or inst.backup is not None:
        raise NotImplementedError("the resilient network (chains, backup, recourse) is not in the linopy form")
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
    y = m.add_variables(
        lower=xr.DataArray(y_lower, coords=coords, dims=("i", "r")),
        upper=1.0,
        coords=[coords["i"], coords["r"]],
        dims=("i", "r"),
        name="y",
        integer=True,
        mask=allowed,
    )
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
        m.add_constraints(y.sel(i=crit).sum("r") >= float(inst.min_sites), name="min_sites", mask=count.sel(i=crit) > 0)
    if crit and inst.hinterland_share is not None:
        H = xr.DataArray(inst.hinterland, coords={"r": coords["r"]}, dims="r")
        m.add_constraints(
            x.sel(i=crit).where(H).sum("r") >= inst.hinterland_share * T.sel(i=crit),
            name="hinterland",
            mask=(allowed.sel(i=crit) & H).any("r"),
        )
    if crit and inst.disruption_survival is not None and inst.disruptions:
        # compact (docs/model.md#size): Σ_{r∈L_s} x_ir ≤ (1 − ρ) T_i, where i has lost and surviving cells
        lost = xr.DataArray(
            np.stack(list(inst.disruptions.values())),
            coords={"s": list(inst.disruptions), "r": coords["r"]},
            dims=("s", "r"),
        )
        lhs = x.sel(i=crit).where(lost).sum("r")
        hit = (allowed.sel(i=crit) & lost).any("r") & (allowed.sel(i=crit) & ~lost).any("r")
        m.add_constraints(
            lhs <= (1 - inst.disruption_survival) * T.sel(i=crit), name="disruption", mask=hit.transpose("i", "s")
        )
    if inst.balance:
        names = list(inst.balance)
        member = xr.DataArray(
            np.array([[mr == b for mr in inst.macro_region] for b in names]),
            coords={"b": names, "r": coords["r"]},
            dims=("b", "r"),
        )
        share = xr.DataArray([inst.balance[b] for b in names], coords={"b": names}, dims="b")
        m.add_constraints(
            x.where(member).sum(["i", "r"]) >= share * float(inst.target.sum()),
            name="balance",
            mask=(allowed & member).any(["i", "r"]),
        )
    if inst.keep_existing > 0:
        m.add_constraints(x >= inst.keep_existing * existing, name="keep_existing", mask=has_existing)
    for n, lock in enumerate(inst.lock_in):  # one row each, in the scenario's order
        m.add_constraints(x.loc[lock.cluster, lock.region] >= lock.min_output, name=f"lock_in_{n}")
    poles = {p.id: p for p in inst.growth_poles}
    for g, pole in enumerate(poles.values()):
        member = xr.DataArray(
            np.outer(inst.category == pole.category, inst.strategies[pole.strategy]), coords=coords, dims=("i", "r")
        )
        total = float(inst.target[inst.category == pole.category].sum())
        m.add_constraints(x.where(member).sum() >= pole.share * total, name=f"growth_pole_{g}")
    m.add_constraints(d + x >= existing, name="relocation", mask=has_existing)

    f = xr.DataArray(inst.fixed_cost, coords={"i": coords["i"]}, dims="i")
    fixed = f * (~has_existing) * (f > 0) * inst.fixed_cost_weight
    m.add_objective((score * x).sum() - (fixed * y).sum() - inst.relocation_cost * d.sum(), sense="max")
    return m


def linopy_to_highs(model, inst: Instance):
    """Hand a linopy model to HiGHS through linopy's direct API; add the objective constant."""
    h = model.to_highspy(set_names=False)
    h.setOptionValue("output_flag", False)
    h.changeObjectiveOffset(float(inst.constant))
    return h
