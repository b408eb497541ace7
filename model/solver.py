"""Solving a Pyomo model with HiGHS through highspy.

The model's constraint families are sparse blocks already (`formulation.FamilyConstraint`); they
are stacked into one matrix with the few ordinary rows a workflow adds and handed to HiGHS in one
`passModel` call — no files, no expression walk over the families. HiGHS's many outcomes are
folded into our own `Status`; the best layout found at a time limit is kept and labelled
`feasible`. Shadow prices come from the LP with the binaries fixed at the solution.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import highspy
import numpy as np
import pyomo.environ as pyo

import model.pyomo_blocks  # noqa: F401 - before scipy: keeps Pyomo from importing scipy.stats with it
import scipy.sparse
from pyomo.common.gc_manager import PauseGC

from model.pyomo_blocks import FamilyConstraint, column_bounds, linear_rows, objective_of
from model.scenario import SolverOptions

INF = highspy.kHighsInf


class Status(str, Enum):
    """What a solve ended with (docs/run-folder.md#summaryjson)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a layout within the time limit, not proven optimal
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass
class Outcome:
    """A solve's status, objective, dual bound, gap and timings, whatever HiGHS said."""

    status: Status
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solve_seconds: float = 0.0
    message: str = ""
    col_value: np.ndarray | None = None
    row_dual: np.ndarray | None = None


@dataclass
class HighsModel:
    """A Pyomo model in matrix form, passed to a HiGHS instance.

    Row j belongs to constraint component `row_family[j]` under key `row_key[j]`; `columns[j]` is
    the Pyomo variable of column j. Bounds are ±inf where there is none.
    """

    matrix: scipy.sparse.csr_matrix
    cost: np.ndarray
    offset: float
    maximise: bool
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    row_family: np.ndarray
    row_key: list
    columns: list
    row_offset: np.ndarray | None = None
    row_sign: np.ndarray | None = None
    """Row j as docs/model.md states it is row_offset[j] + row_sign[j]·(row j), for families built in a
    compact form (`formulation.Rows.offset`); 0 and 1 elsewhere."""
    log: list[str] | None = None
    """HiGHS's log lines, once `keep_log()` asked for them."""
    handover_seconds: float = 0.0
    highs: highspy.Highs | None = field(repr=False, default=None)
    _position: dict[int, int] = field(repr=False, default_factory=dict)
    _restated: list[tuple] = field(repr=False, default_factory=list)

    def sites_fixed_matrix(self) -> scipy.sparse.csr_matrix:
        """The matrix of the LP with the sites fixed (shadow prices): `matrix` with the rows of the
        families that state them differently there (`Rows.sites_fixed`) replaced."""
        if not self._restated:
            return self.matrix
        pieces, done = [], 0
        for offset, restated, position, active in self._restated:
            A = restated if active is None else restated[active]
            pieces += [
                self.matrix[done:offset],
                scipy.sparse.csr_matrix(
                    (A.data, position[A.indices], A.indptr), shape=(A.shape[0], self.matrix.shape[1])
                ),
            ]
            done = offset + A.shape[0]
        return scipy.sparse.vstack(pieces + [self.matrix[done:]], format="csr")

    @classmethod
    def from_pyomo(cls, model: pyo.ConcreteModel) -> "HighsModel":
        """Every active constraint and the active objective, as one sparse matrix in one `passModel`.

        A `FamilyConstraint` is handed over as the sparse block it already is; any other (linear)
        constraint a workflow added is read row by row through Pyomo's standard representation.
        """
        started = time.perf_counter()
        with PauseGC():
            columns = _Columns()
            blocks: list[tuple] = []
            restated: list[tuple] = []  # (row offset, rows as stated with the sites fixed, column positions, active)
            lower, upper, family, keys = [], [], [], []
            offsets: list[np.ndarray] = []
            signs: list[np.ndarray] = []
            for component in model.component_objects(pyo.Constraint, active=True, descend_into=True):
                if isinstance(component, FamilyConstraint):
                    rows = component.rows
                    position = columns.positions(component.columns)
                    active = component.active_rows()
                    everything = active.all()
                    A = rows.matrix if everything else rows.matrix[active]
                    if rows.sites_fixed is not None:
                        restated.append(
                            (
                                sum(len(b[2]) - 1 for b in blocks),
                                rows.sites_fixed,
                                position,
                                None if everything else active,
                            )
                        )
                    blocks.append((A.data, position[A.indices], A.indptr))
                    lower.append(rows.lower[active])
                    upper.append(rows.upper[active])
                    family.append(np.full(int(active.sum()), component.local_name, dtype=object))
                    offsets.append(np.zeros(int(active.sum())) if rows.offset is None else rows.offset[active])
                    signs.append(np.full(int(active.sum()), float(rows.sign)))
                    keys += rows.keys if everything else [k for k, a in zip(rows.keys, active) if a]
                    continue
                for key, coefficients, variables, low, high in linear_rows(component):
                    blocks.append((coefficients, columns.positions(variables), np.array([0, len(variables)])))
                    lower.append([low])
                    upper.append([high])
                    family.append(np.array([component.local_name], dtype=object))
                    keys.append(key)
                    offsets.append(np.zeros(1))
                    signs.append(np.ones(1))
            maximise, cost_vars, cost_coefs, offset = objective_of(model)
            cost_columns = columns.positions(cost_vars)
            n = len(columns.vars)
            cost = np.zeros(n)
            np.add.at(cost, cost_columns, cost_coefs)
            col_lower, col_upper, integer = column_bounds(columns.vars)
            highs = cls(
                matrix=_stack(blocks, n),
                cost=cost,
                offset=float(offset),
                maximise=maximise,
                col_lower=col_lower,
                col_upper=col_upper,
                row_lower=np.concatenate(lower) if lower else np.zeros(0),
                row_upper=np.concatenate(upper) if upper else np.zeros(0),
                integer=integer,
                row_family=np.concatenate(family) if family else np.zeros(0, dtype=object),
                row_key=keys,
                columns=columns.vars,
                _restated=restated,
                row_offset=np.concatenate(offsets) if offsets else np.zeros(0),
                row_sign=np.concatenate(signs) if signs else np.zeros(0),
                _position=columns.position,
            )
            highs.highs = highs._passed()
        highs.handover_seconds = time.perf_counter() - started
        return highs

    def _passed(
        self,
        col_lower: np.ndarray | None = None,
        col_upper: np.ndarray | None = None,
        integer: bool = True,
        sites_fixed: bool = False,
        rows: np.ndarray | None = None,
    ) -> highspy.Highs:
        """A new HiGHS instance holding this model (one array `passModel`), optionally with other
        column bounds, with every integer column relaxed, stated as the LP with the sites fixed, or
        with only the rows where the boolean mask `rows` is true."""
        A = self.sites_fixed_matrix() if sites_fixed else self.matrix
        row_lower, row_upper = self.row_lower, self.row_upper
        if rows is not None:
            A, row_lower, row_upper = A[rows], row_lower[rows], row_upper[rows]
        h = _new_highs(self.log)
        h.passModel(
            A.shape[1],
            A.shape[0],
            A.nnz,
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMaximize if self.maximise else highspy.ObjSense.kMinimize),
            self.offset,
            self.cost,
            _finite(self.col_lower if col_lower is None else col_lower),
            _finite(self.col_upper if col_upper is None else col_upper),
            _finite(row_lower),
            _finite(row_upper),
            A.indptr.astype(np.int32, copy=False),
            A.indices.astype(np.int32, copy=False),
            A.data,
            (self.integer if integer else np.zeros_like(self.integer)).astype(np.int32),
        )
        return h

    def column_of(self, var) -> int:
        """The column of a Pyomo variable, −1 if it is in no row or objective (and so sits at 0)."""
        return self._position.get(id(var), -1)

    def columns_of(self, variables) -> np.ndarray:
        """The column of each Pyomo variable, −1 where one is in no row or objective."""
        position = self._position
        return np.fromiter((position.get(id(v), -1) for v in variables), dtype=np.int64, count=len(variables))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns) as handed to HiGHS."""
        return self.matrix.shape[0], self.matrix.shape[1], int(self.integer.sum())

    def solve(self, options: SolverOptions, start: np.ndarray | None = None) -> Outcome:
        """Branch and bound within the time limit; a start point (column values) may be given."""
        h = self.highs
        assert h is not None, "solve() needs a model handed over (HighsModel.from_pyomo)"
        apply_options(h, options)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(start)
            solution.value_valid = True
            h.setSolution(solution)
        started = time.perf_counter()
        run(h)
        seconds = time.perf_counter() - started
        return outcome_of(h, seconds, mip=bool(self.integer.any()))

    def keep_log(self) -> None:
        """From now on, HiGHS's log of every solve of this model goes to `log` (never to the console)."""
        if self.log is None:
            self.log = [f"HiGHS {highspy_version()} through highspy\n"]
            if self.highs is not None:
                _log_into(self.highs, self.log)

    def relaxed_lp(
        self,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
        time_limit: float | None = None,
        interior_point: bool = False,
        sites_fixed: bool = False,
        rows: np.ndarray | None = None,
    ) -> Outcome:
        """The LP with every integer column continuous, optionally with other column bounds (and, for
        shadow prices, with the rows stated as in the LP with the sites fixed), or with only the rows
        where the boolean mask `rows` is true (`row_dual` then covers those rows only)."""
        h = self._passed(lower, upper, integer=False, sites_fixed=sites_fixed, rows=rows)
        if time_limit is not None:
            h.setOptionValue("time_limit", max(float(time_limit), 1.0))
        if interior_point:
            h.setOptionValue("solver", "ipm")
        started = time.perf_counter()
        run(h)
        seconds = time.perf_counter() - started
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return Outcome(
                Status.INFEASIBLE if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible else Status.ERROR,
                solve_seconds=seconds,
                message=h.modelStatusToString(h.getModelStatus()),
            )
        solution = h.getSolution()
        objective = float(h.getInfo().objective_function_value)
        return Outcome(
            Status.OPTIMAL,
            objective=objective,
            bound=objective,
            gap=0.0,
            solve_seconds=seconds,
            col_value=np.asarray(solution.col_value, dtype=float),
            row_dual=np.asarray(solution.row_dual, dtype=float),
        )

    def with_integers_fixed(
        self, col_value: np.ndarray, time_limit: float | None = None, sites_fixed: bool = False
    ) -> Outcome:
        """The LP with the integer columns fixed at (rounded) `col_value`: continuous columns re-optimised."""
        lower, upper = self.col_lower.copy(), self.col_upper.copy()
        fixed = np.round(col_value[self.integer])
        lower[self.integer] = fixed
        upper[self.integer] = fixed
        return self.relaxed_lp(lower, upper, time_limit, sites_fixed=sites_fixed)

    def fixed_lp_duals(self, col_value: np.ndarray) -> np.ndarray:
        """Row duals (∂objective/∂right-hand side) of the LP with the integer columns fixed at `col_value`,
        its rows stated as the families state them for that LP (docs/model.md#shadow-prices)."""
        outcome = self.with_integers_fixed(col_value, sites_fixed=True)
        return outcome.row_dual if outcome.row_dual is not None else np.zeros(self.matrix.shape[0])

    def solve_from_rounding(
        self,
        options: SolverOptions,
        rounding: Callable[[np.ndarray], np.ndarray | None],
        left_out: np.ndarray | None = None,
        left_out_name: str = "the rows left out",
    ) -> Outcome:
        """LP relaxation → `rounding` of its columns to a site pattern → LP with the sites fixed → done if that
        layout is within the MIP gap of the relaxation's bound, else branch and bound started from it, if
        the time left is at least what the relaxation took (else the rounded layout is kept, `feasible`).

        `left_out` (a boolean mask over the rows, named `left_out_name`) names rows the relaxation leaves
        out: it is still a relaxation of the full model, so its bound stays valid, while the LP with the
        sites fixed has every row. If the rounded layout cannot meet those rows, the whole procedure runs
        again with every row in the time left, keeping the tighter bound of the two relaxations
        (docs/model.md#solve-strategies).

        The reported bound is always valid for the full model: the LP relaxation's objective, or the
        MIP's dual bound when branch and bound runs.
        """
        started = time.perf_counter()
        big = self.matrix.shape[1] > 20_000
        kept = None if left_out is None or not left_out.any() else ~left_out
        relaxation = self.relaxed_lp(time_limit=options.time_limit, interior_point=big, rows=kept)
        if relaxation.status == Status.INFEASIBLE:
            return Outcome(
                Status.INFEASIBLE,
                solve_seconds=time.perf_counter() - started,
                message="no layout satisfies every constraint (the LP relaxation is infeasible)",
            )
        start, layout, bound, gap = None, None, 0.0, 0.0
        pattern = rounding(relaxation.col_value) if relaxation.col_value is not None else None
        if pattern is not None and relaxation.objective is not None:
            layout = self.with_integers_fixed(pattern, time_limit=options.time_limit)
            if layout.status == Status.OPTIMAL and layout.objective is not None:
                start = layout.col_value
                bound = relaxation.objective
                gap = self._gap(layout.objective, bound)
                if gap <= options.mip_gap:
                    relaxed = (
                        "the LP relaxation bound"
                        if kept is None
                        else f"the bound of the LP relaxation without {left_out_name}"
                    )
                    return Outcome(
                        Status.OPTIMAL,
                        objective=layout.objective,
                        bound=bound,
                        gap=max(gap, 0.0),
                        solve_seconds=time.perf_counter() - started,
                        col_value=layout.col_value,
                        message=f"LP-rounding layout within the MIP gap of {relaxed}",
                    )
        if kept is not None and relaxation.status == Status.OPTIMAL and start is None:
            return self._again_with_every_row(options, rounding, started, relaxation.objective, left_out_name)
        remaining = options.time_limit - (time.perf_counter() - started)
        # HiGHS checks its time limit only between the phases of its root node, and the root LP alone costs
        # about what the relaxation did (scaled by the nonzeros it left out): starting now could overrun the
        # limit by minutes.
        kept_nnz = self.matrix.nnz if kept is None else int(np.diff(self.matrix.indptr)[kept].sum())
        root = relaxation.solve_seconds * self.matrix.nnz / max(kept_nnz, 1)
        if start is not None and layout is not None and remaining < root:
            return Outcome(
                Status.FEASIBLE,
                objective=layout.objective,
                bound=bound,
                gap=max(gap, 0.0),
                solve_seconds=time.perf_counter() - started,
                col_value=start,
                message="time limit: the LP-rounding layout is kept, with the LP relaxation as its bound "
                "(too little time left for branch and bound)",
            )
        outcome = self.solve(options.model_copy(update={"time_limit": max(remaining, 1.0)}), start=start)
        if relaxation.status != Status.OPTIMAL:
            outcome.message += f" (plain branch and bound: the LP relaxation ended with {relaxation.message})"
        if outcome.status == Status.ERROR and start is not None and layout is not None:
            # no better layout in time: keep the rounded one
            outcome = Outcome(
                Status.FEASIBLE,
                objective=layout.objective,
                bound=None,
                col_value=start,
                message="time limit reached; the LP-rounding layout is kept",
            )
        if outcome.status in (Status.OPTIMAL, Status.FEASIBLE) and relaxation.status == Status.OPTIMAL:
            self._tighten(outcome, relaxation.objective)
        outcome.solve_seconds = time.perf_counter() - started
        return outcome

    def _again_with_every_row(
        self,
        options: SolverOptions,
        rounding: Callable[[np.ndarray], np.ndarray | None],
        started: float,
        bound: float | None,
        left_out_name: str,
    ) -> Outcome:
        """`solve_from_rounding` with every row in the time left, after the layout rounded from a relaxation
        without some rows could not meet them; the tighter bound of both relaxations is kept."""
        remaining = options.time_limit - (time.perf_counter() - started)
        outcome = self.solve_from_rounding(options.model_copy(update={"time_limit": max(remaining, 1.0)}), rounding)
        if outcome.bound is not None and self._tighten(outcome, bound):
            if outcome.status == Status.FEASIBLE and outcome.gap is not None and outcome.gap <= options.mip_gap:
                outcome.status = Status.OPTIMAL
        outcome.message += f" (the layout rounded from the relaxation without {left_out_name} could not meet them)"
        outcome.solve_seconds = time.perf_counter() - started
        return outcome

    def _gap(self, objective: float, bound: float) -> float:
        """The relative gap of `objective` to `bound`, positive while the bound is better."""
        ahead = bound - objective if self.maximise else objective - bound
        return ahead / max(abs(objective), 1e-9)

    def _tighten(self, outcome: Outcome, bound: float | None) -> bool:
        """Set `outcome`'s bound to the tighter of its own and a finite `bound` (both valid for this model)
        and its gap to match; whether it did (there was an objective and such a bound)."""
        if outcome.objective is None or bound is None or not np.isfinite(bound):
            return False
        own = outcome.bound if outcome.bound is not None and np.isfinite(outcome.bound) else bound
        outcome.bound = min(own, bound) if self.maximise else max(own, bound)
        outcome.gap = abs(outcome.bound - outcome.objective) / max(abs(outcome.objective), 1e-9)
        return True


class _Columns:
    """The model's variables in order of first appearance, each one column."""

    def __init__(self) -> None:
        self.vars: list = []
        self.position: dict[int, int] = {}
        self._seen: dict[int, np.ndarray] = {}

    def positions(self, variables) -> np.ndarray:
        """Columns of `variables`, adding the new ones; a tuple shared by many blocks is mapped once."""
        known = self._seen.get(id(variables)) if isinstance(variables, tuple) else None
        if known is not None:
            return known
        ids = list(map(id, variables))
        position = self.position
        if not position and len(set(ids)) == len(ids):  # the model's own columns, all new
            position.update(zip(ids, range(len(ids))))
            self.vars.extend(variables)
            out = np.arange(len(ids), dtype=np.int32)
        else:
            out = np.empty(len(ids), dtype=np.int32)
            for j, (key, v) in enumerate(zip(ids, variables)):
                p = position.get(key)
                if p is None:
                    p = position[key] = len(self.vars)
                    self.vars.append(v)
                out[j] = p
        if isinstance(variables, tuple):
            self._seen[id(variables)] = out
        return out


def _stack(blocks: list[tuple], columns: int) -> scipy.sparse.csr_matrix:
    """CSR blocks (data, column positions, row pointers) on top of each other."""
    if not blocks:
        return scipy.sparse.csr_matrix((0, columns))
    return scipy.sparse.vstack(
        [scipy.sparse.csr_matrix(block, shape=(len(block[2]) - 1, columns)) for block in blocks], format="csr"
    )


def _finite(bounds: np.ndarray) -> np.ndarray:
    """Bounds with ±inf as HiGHS's infinity."""
    return np.clip(np.asarray(bounds, dtype=float), -INF, INF)


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    """File descriptor 1 points to the null device meanwhile: HiGHS prints its banner from C++ while a
    `Highs` object is constructed, before any option can be set."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output at all: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _new_highs(log: list[str] | None = None) -> highspy.Highs:
    """A HiGHS instance that prints nothing; with `log`, its log lines are appended there."""
    with _stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if log is not None:
        _log_into(h, log)
    return h


def highspy_version() -> str:
    from importlib.metadata import version

    return version("highspy")


def _log_into(h: highspy.Highs, log: list[str]) -> None:
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", False)
    h.cbLogging += lambda event: log.append(event.message)


_scheduler_threads: list[int] = []
"""The thread count HiGHS's task scheduler was started with in this process (empty: not started)."""


def run(h: highspy.Highs) -> None:
    """`h.run()`. HiGHS keeps one task scheduler per process, started by the first run with that run's
    `threads` (0: HiGHS's default); a later run that asks for another number of threads fails with
    status Not Set. The scheduler is restarted before such a run: an LP relaxation with the default
    threads, then branch and bound with the scenario's, must both run."""
    value = h.getOptionValue("threads")  # (status, value) in recent highspy, the value alone before
    threads = int(value[1] if isinstance(value, tuple) else value)
    if _scheduler_threads and threads != _scheduler_threads[0] and threads != 0:
        highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads.clear()
    if not _scheduler_threads:
        _scheduler_threads.append(threads)
    h.run()


def apply_options(h: highspy.Highs, options: SolverOptions) -> None:
    """The scenario's time limit, MIP gap, threads and seed on a HiGHS instance."""
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))


def outcome_of(h: highspy.Highs, seconds: float, mip: bool) -> Outcome:
    """What a HiGHS run ended with, in our `Status`, with objective, bound, gap and the solution."""
    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    M = highspy.HighsModelStatus
    if status in (M.kInfeasible, M.kUnboundedOrInfeasible):
        return Outcome(Status.INFEASIBLE, solve_seconds=seconds, message="no layout satisfies every constraint")
    if status == M.kOptimal:
        result = Status.OPTIMAL
        message = "optimal within the MIP gap" if mip else "optimal"
    elif status in (M.kTimeLimit, M.kIterationLimit, M.kSolutionLimit, M.kInterrupt) and has_solution:
        result = Status.FEASIBLE
        message = f"stopped at the {h.modelStatusToString(status).lower()}; best layout found is kept"
    elif status in (M.kTimeLimit, M.kIterationLimit, M.kInterrupt):
        return Outcome(
            Status.ERROR,
            solve_seconds=seconds,
            message="no feasible layout found within the time limit; raise solver.time_limit",
        )
    else:
        return Outcome(Status.ERROR, solve_seconds=seconds, message=f"HiGHS ended with {h.modelStatusToString(status)}")
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if mip else objective
    gap: float | None = float(info.mip_gap) if mip else 0.0
    if gap is not None and not np.isfinite(gap):
        gap = None
    return Outcome(
        result,
        objective=objective,
        bound=bound,
        gap=gap,
        solve_seconds=seconds,
        message=message,
        col_value=np.asarray(h.getSolution().col_value, dtype=float),
    )
