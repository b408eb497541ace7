"""Solving a Pyomo model with HiGHS through highspy.

The model's constraint families are sparse blocks already (`formulation.FamilyConstraint`); they
are stacked into one matrix with the few ordinary rows a workflow adds and handed to HiGHS in one
`passModel` call — no files, no expression walk over the families. HiGHS's many outcomes are folded into our own `Status`; the best layout
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
import scipy.sparse
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.standard_repn import generate_standard_repn

from model.formulation import FamilyConstraint

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
    """A Pyomo model in matrix form, passed to a HiGHS instance.

    Row j belongs to constraint component `row_family[j]` under key `row_key[j]`; `columns[j]` is
    the Pyomo variable of column j.
    """

    lp: highspy.HighsLp
    row_family: np.ndarray
    row_key: list
    columns: list
    integer: np.ndarray
    handover_seconds: float
    highs: highspy.Highs = field(repr=False, default=None)
    _position: dict[int, int] | None = field(repr=False, default=None)

    @classmethod
    def from_pyomo(cls, model: pyo.ConcreteModel) -> "HighsModel":
        """Every active constraint and the active objective, as one sparse matrix in one `passModel`.

        A `FamilyConstraint` is handed over as the sparse block it already is; any other (linear)
        constraint a workflow added is read row by row through Pyomo's standard representation.
        """
        started = time.perf_counter()
        with PauseGC():
            columns = _Columns()
            blocks, lower, upper, family, keys = [], [], [], [], []
            for component in model.component_objects(pyo.Constraint, active=True, descend_into=True):
                if isinstance(component, FamilyConstraint):
                    rows = component.rows
                    position = columns.positions(component._x)
                    active = np.fromiter((row._active for row in component._data), bool, len(rows))
                    A = rows.matrix if active.all() else rows.matrix[active]
                    blocks.append((A.data, position[A.indices], A.indptr))
                    lower.append(rows.lower[active])
                    upper.append(rows.upper[active])
                    family.append(np.full(int(active.sum()), component.local_name, dtype=object))
                    keys += rows.keys if active.all() else [k for k, a in zip(rows.keys, active) if a]
                    continue
                for key, row in component.items():
                    if not row.active:
                        continue
                    repn = generate_standard_repn(row.body, compute_values=True, quadratic=False)
                    if not repn.is_linear():
                        raise ValueError(f"constraint {row.name} is not linear")
                    blocks.append((np.asarray(repn.linear_coefs, dtype=float),
                                   columns.positions(repn.linear_vars), np.array([0, len(repn.linear_vars)])))
                    lower.append([_bound(row.lower, -INF) - repn.constant])
                    upper.append([_bound(row.upper, INF) - repn.constant])
                    family.append(np.array([component.local_name], dtype=object))
                    keys.append(key)
            maximise, cost_vars, cost_coefs, offset = _objective(model)
            cost_columns = columns.positions(cost_vars)
            n = len(columns.vars)
            A = scipy.sparse.vstack([scipy.sparse.csr_matrix(block, shape=(len(block[2]) - 1, n)) for block in blocks],
                                    format="csc") if blocks else scipy.sparse.csc_matrix((0, n))
            lp = highspy.HighsLp()
            lp.num_col_ = n
            lp.num_row_ = A.shape[0]
            lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
            lp.offset_ = float(offset)
            cost = np.zeros(n)
            np.add.at(cost, cost_columns, cost_coefs)
            lp.col_cost_ = cost
            lp.col_lower_, lp.col_upper_, integer = _column_bounds(columns.vars)
            lp.row_lower_ = np.concatenate(lower) if lower else np.zeros(0)
            lp.row_upper_ = np.concatenate(upper) if upper else np.zeros(0)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = A.indptr
            lp.a_matrix_.index_ = A.indices
            lp.a_matrix_.value_ = A.data
            lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous).tolist()
            highs = _new_highs()
            highs.passModel(lp)
        return cls(lp=lp, row_family=np.concatenate(family) if family else np.zeros(0, dtype=object), row_key=keys,
                   columns=columns.vars, integer=integer, handover_seconds=time.perf_counter() - started, highs=highs,
                   _position=columns.position)

    def column_of(self, var) -> int:
        """The column of a Pyomo variable, −1 if it is in no row or objective (and so sits at 0)."""
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


class _Columns:
    """The model's variables in order of first appearance, each one column."""

    def __init__(self):
        self.vars: list = []
        self.position: dict[int, int] = {}
        self._seen: dict[int, np.ndarray] = {}

    def positions(self, variables) -> np.ndarray:
        """Columns of `variables`, adding the new ones; a tuple shared by many blocks is mapped once."""
        known = self._seen.get(id(variables)) if isinstance(variables, tuple) else None
        if known is not None:
            return known
        position = self.position
        out = np.empty(len(variables), dtype=np.int32)
        for j, v in enumerate(variables):
            p = position.get(id(v))
            if p is None:
                p = position[id(v)] = len(self.vars)
                self.vars.append(v)
            out[j] = p
        if isinstance(variables, tuple):
            self._seen[id(variables)] = out
        return out


def _bound(bound, infinite: float) -> float:
    value = pyo.value(bound) if bound is not None else None
    return infinite if value is None else float(value)


def _objective(model: pyo.ConcreteModel) -> tuple[bool, list, np.ndarray, float]:
    """(maximise, variables, coefficients, constant) of the one active objective."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise ValueError(f"the model needs exactly one active objective, it has {len(objectives)}")
    objective = objectives[0]
    expr = objective.expr
    coefficients = None
    if isinstance(expr, LinearExpression):
        try:
            coefficients = np.asarray(expr.linear_coefs, dtype=float)
            variables, constant = expr.linear_vars, float(pyo.value(expr.constant))
        except TypeError:  # coefficients that are expressions (mutable parameters)
            coefficients = None
    if coefficients is None:
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if not repn.is_linear():
            raise ValueError(f"objective {objective.name} is not linear")
        variables, coefficients, constant = repn.linear_vars, np.asarray(repn.linear_coefs, dtype=float), repn.constant
    return objective.sense == pyo.maximize, list(variables), coefficients, float(constant)


def _column_bounds(variables: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds (±inf where none) and integrality of each variable."""
    n = len(variables)
    lower, upper = np.empty(n), np.empty(n)
    integer = np.empty(n, dtype=bool)
    is_integer: dict[int, bool] = {}
    for j, v in enumerate(variables):
        lb, ub = v.bounds
        lower[j] = -INF if lb is None else lb
        upper[j] = INF if ub is None else ub
        domain = v.domain
        flag = is_integer.get(id(domain))
        if flag is None:
            flag = is_integer[id(domain)] = v.is_integer()
        integer[j] = flag
    return lower, upper, integer


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
