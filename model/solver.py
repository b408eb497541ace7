"""Solving a Pyomo model with HiGHS, through Pyomo's standard-form compiler and highspy.

The model is compiled once to sparse matrices (`LinearStandardFormCompiler`) and handed to HiGHS
in one `passModel` call — no files, and about five times faster than the persistent interfaces
for a one-shot solve. HiGHS's many outcomes are folded into our own `Status`; the best layout
found at a time limit is kept and labelled `feasible`. Shadow prices come from the LP with the
binaries fixed at the solution.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable
from enum import Enum

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse  # noqa: F401 - imported here so that the first hand-over does not pay for it
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model.scenario import SolverOptions

INF = highspy.kHighsInf


class Status(str, Enum):
    """What a solve ended with (SPEC section 6)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"      # a layout within the time limit, not proven optimal
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
    """A Pyomo model compiled to matrix form and passed to a HiGHS instance.

    `rows[j]` is (constraint data, sense) with sense +1 (≤), −1 (≥) or 0 (=); `columns[j]` is the
    Pyomo variable of column j.
    """

    lp: highspy.HighsLp
    rows: list
    columns: list
    integer: np.ndarray
    handover_seconds: float
    highs: highspy.Highs = field(repr=False, default=None)
    _position: dict[int, int] | None = field(repr=False, default=None)

    @classmethod
    def from_pyomo(cls, model: pyo.ConcreteModel) -> "HighsModel":
        started = time.perf_counter()
        form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        columns = form.columns
        sense = np.array([s for _, s in form.rows], dtype=int)
        rhs = np.asarray(form.rhs, dtype=float)
        lp = highspy.HighsLp()
        lp.num_col_ = len(columns)
        lp.num_row_ = len(form.rows)
        maximise = form.objectives[0].sense == pyo.maximize if form.objectives else True
        lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        lp.offset_ = float(form.c_offset[0])
        lp.col_cost_ = np.asarray(form.c.toarray()[0], dtype=float) if len(columns) else np.zeros(0)
        lp.col_lower_ = np.array([-INF if v.lb is None else v.lb for v in columns], dtype=float)
        lp.col_upper_ = np.array([INF if v.ub is None else v.ub for v in columns], dtype=float)
        lp.row_lower_ = np.where(sense == 1, -INF, rhs)
        lp.row_upper_ = np.where(sense == -1, INF, rhs)
        A = form.A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr
        lp.a_matrix_.index_ = A.indices
        lp.a_matrix_.value_ = A.data
        integer = np.array([v.is_integer() for v in columns], dtype=bool)
        lp.integrality_ = [highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
                           for f in integer]
        highs = _new_highs()
        highs.passModel(lp)
        return cls(lp=lp, rows=form.rows, columns=columns, integer=integer,
                   handover_seconds=time.perf_counter() - started, highs=highs)

    def column_of(self, var) -> int:
        """The column of a Pyomo variable, −1 if it is in no row or objective (and so sits at 0)."""
        if self._position is None:
            self._position = {id(v): j for j, v in enumerate(self.columns)}
        return self._position.get(id(var), -1)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns) as handed to HiGHS."""
        return self.lp.num_row_, self.lp.num_col_, int(self.integer.sum())

    def solve(self, options: SolverOptions, start: np.ndarray | None = None) -> Outcome:
        """Branch and bound within the time limit; a start point (column values) may be given."""
        h = self.highs
        _apply(h, options)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(start)
            solution.value_valid = True
            h.setSolution(solution)
        started = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - started
        return _outcome(h, seconds, mip=bool(self.integer.any()))

    def relaxed_lp(self, lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                   time_limit: float | None = None, interior_point: bool = False) -> Outcome:
        """The LP with every integer column continuous, optionally with other column bounds."""
        lp = self.lp
        relaxed = highspy.HighsLp()
        for attr in ("num_col_", "num_row_", "sense_", "offset_", "col_cost_", "row_lower_", "row_upper_", "a_matrix_"):
            setattr(relaxed, attr, getattr(lp, attr))
        relaxed.col_lower_ = lp.col_lower_ if lower is None else lower
        relaxed.col_upper_ = lp.col_upper_ if upper is None else upper
        h = _new_highs()
        if time_limit is not None:
            h.setOptionValue("time_limit", max(float(time_limit), 1.0))
        if interior_point:
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "off")
        h.passModel(relaxed)
        started = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - started
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return Outcome(Status.INFEASIBLE if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible else Status.ERROR,
                           solve_seconds=seconds, message=h.modelStatusToString(h.getModelStatus()))
        solution = h.getSolution()
        objective = float(h.getInfo().objective_function_value)
        return Outcome(Status.OPTIMAL, objective=objective, bound=objective, gap=0.0, solve_seconds=seconds,
                       col_value=np.asarray(solution.col_value, dtype=float),
                       row_dual=np.asarray(solution.row_dual, dtype=float))

    def with_integers_fixed(self, col_value: np.ndarray, time_limit: float | None = None) -> Outcome:
        """The LP with the integer columns fixed at (rounded) `col_value`: continuous columns re-optimised."""
        lower = np.array(self.lp.col_lower_, dtype=float)
        upper = np.array(self.lp.col_upper_, dtype=float)
        fixed = np.round(col_value[self.integer])
        lower[self.integer] = fixed
        upper[self.integer] = fixed
        return self.relaxed_lp(lower, upper, time_limit)

    def fixed_lp_duals(self, col_value: np.ndarray) -> np.ndarray:
        """Row duals (∂objective/∂right-hand side) of the LP with the integer columns fixed at `col_value`."""
        outcome = self.with_integers_fixed(col_value)
        return outcome.row_dual if outcome.row_dual is not None else np.zeros(self.lp.num_row_)

    def solve_from_rounding(self, options: SolverOptions, rounding: Callable[[np.ndarray], np.ndarray | None]) -> Outcome:
        """LP relaxation → `rounding` of its columns to a site pattern → LP with the sites fixed → done if that
        layout is within the MIP gap of the relaxation's bound, else branch and bound started from it.

        The reported bound is always valid for the full model: the LP relaxation's objective, or the
        MIP's dual bound when branch and bound runs.
        """
        started = time.perf_counter()
        big = self.lp.num_col_ > 20_000
        relaxation = self.relaxed_lp(time_limit=options.time_limit, interior_point=big)
        if relaxation.status == Status.INFEASIBLE:
            return Outcome(Status.INFEASIBLE, solve_seconds=time.perf_counter() - started,
                           message="no layout satisfies every constraint (the LP relaxation is infeasible)")
        start = None
        pattern = rounding(relaxation.col_value) if relaxation.status == Status.OPTIMAL else None
        if pattern is not None:
            layout = self.with_integers_fixed(pattern, time_limit=options.time_limit)
            if layout.status == Status.OPTIMAL:
                start = layout.col_value
                bound = relaxation.objective
                gap = (bound - layout.objective) / max(abs(layout.objective), 1e-9) if self.lp.sense_ == highspy.ObjSense.kMaximize \
                    else (layout.objective - bound) / max(abs(layout.objective), 1e-9)
                if gap <= options.mip_gap:
                    return Outcome(Status.OPTIMAL, objective=layout.objective, bound=bound, gap=max(gap, 0.0),
                                   solve_seconds=time.perf_counter() - started, col_value=layout.col_value,
                                   message="LP-rounding layout within the MIP gap of the LP relaxation bound")
        remaining = options.time_limit - (time.perf_counter() - started)
        outcome = self.solve(options.model_copy(update={"time_limit": max(remaining, 1.0)}), start=start)
        if outcome.status == Status.ERROR and start is not None:  # no better layout in time: keep the rounded one
            outcome = Outcome(Status.FEASIBLE, objective=layout.objective, bound=None, col_value=start,
                              message="time limit reached; the LP-rounding layout is kept")
        if outcome.status in (Status.OPTIMAL, Status.FEASIBLE) and relaxation.status == Status.OPTIMAL:
            maximise = self.lp.sense_ == highspy.ObjSense.kMaximize
            bounds = [b for b in (outcome.bound, relaxation.objective) if b is not None and np.isfinite(b)]
            outcome.bound = min(bounds) if maximise else max(bounds)
            outcome.gap = abs(outcome.bound - outcome.objective) / max(abs(outcome.objective), 1e-9)
        outcome.solve_seconds = time.perf_counter() - started
        return outcome


def _new_highs() -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _apply(h: highspy.Highs, options: SolverOptions) -> None:
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))


def _outcome(h: highspy.Highs, seconds: float, mip: bool) -> Outcome:
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
        return Outcome(Status.ERROR, solve_seconds=seconds,
                       message="no feasible layout found within the time limit; raise solver.time_limit")
    else:
        return Outcome(Status.ERROR, solve_seconds=seconds, message=f"HiGHS ended with {h.modelStatusToString(status)}")
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if mip else objective
    gap = float(info.mip_gap) if mip else 0.0
    if not np.isfinite(gap):
        gap = None
    return Outcome(result, objective=objective, bound=bound, gap=gap, solve_seconds=seconds, message=message,
                   col_value=np.asarray(h.getSolution().col_value, dtype=float))
