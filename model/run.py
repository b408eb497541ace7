"""From a scenario to a `Result`: resolve the instance, build the model, hand it to HiGHS, read it back.

The steps are separate so that workflows (pareto, alternatives, diagnose) can add to the Pyomo
model between building and solving and still get a `Result` with the same tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from model.formulation import Formulation, formulate, objective_terms, to_pyomo
from model.instance import Instance
from model.results import Result, layout_tables, network_tables
from model.scenario import Scenario, dataset_of, load_scenario
from model.solver import HighsModel, Outcome, Status


@dataclass
class Prepared:
    """A scenario's instance and its built Pyomo model, with the seconds the build took."""

    scenario: Scenario
    instance: Instance
    model: pyo.ConcreteModel
    build_seconds: float
    phasing: Any = None
    """With `periods`: how the model's columns map to its periods (`model.periods.Phasing`); the
    instance is then the last period's (docs/model.md#periods)."""


def as_scenario(scenario: Scenario | str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """A validated scenario from a path or a scenario, with dotted-path overrides applied."""
    overrides = overrides or {}
    if isinstance(scenario, Scenario):
        return scenario.with_overrides(overrides) if overrides else scenario
    return load_scenario(scenario, **overrides)


def prepare(scenario: Scenario, edit: Callable[[Formulation, Instance], None] | None = None) -> Prepared:
    """The scenario's instance and Pyomo model; `edit` may change the formulation first (a workflow's
    extra rows, columns or objective), so that it too is built from arrays."""
    started = time.perf_counter()
    with PauseGC():  # hundreds of thousands of keys and Pyomo objects, none of them garbage
        if scenario.periods is not None:  # phased: `edit` applies to every period (docs/model.md#periods)
            from model.periods import formulate_scenario

            instance, formulation = formulate_scenario(scenario, dataset_of(scenario), edit)
        else:
            instance = Instance.of(scenario, dataset_of(scenario))
            formulation = formulate(instance)
            if edit is not None:
                edit(formulation, instance)
        model = to_pyomo(formulation)
    return Prepared(
        scenario, instance, model, time.perf_counter() - started, phasing=getattr(formulation, "phasing", None)
    )


def infeasible_rows_message(model: pyo.ConcreteModel) -> str:
    family, key, short = model.trivially_infeasible[0]
    return f"{family} {key} cannot be met by any allowed cell (short by {short:.4g}); run `layout diagnose`"


def solve_prepared(prepared: Prepared, start: np.ndarray | None = None, highs: HighsModel | None = None) -> Result:
    """Hand a prepared model to HiGHS, solve it, and read the layout and shadow prices back."""
    scenario, inst, model = prepared.scenario, prepared.instance, prepared.model
    if model.trivially_infeasible:
        return Result(
            scenario,
            Status.INFEASIBLE,
            message=infeasible_rows_message(model),
            build_seconds=prepared.build_seconds,
            instance=inst,
        )
    highs = highs or HighsModel.from_pyomo(model)
    rows, columns, integers = highs.shape
    outcome = solve_highs(prepared, highs, start)
    result = Result(
        scenario,
        outcome.status,
        message=outcome.message,
        objective=outcome.objective,
        bound=outcome.bound,
        gap=outcome.gap,
        build_seconds=prepared.build_seconds + highs.handover_seconds,
        handover_seconds=highs.handover_seconds,
        solve_seconds=outcome.solve_seconds,
        rows=rows,
        columns=columns,
        integer_columns=integers,
        solver_log="".join(highs.log) if highs.log is not None else None,
        instance=inst,
    )
    if not result.solved:
        return result
    # a variable in no row or objective sits at 0; `values` follows the formulation's columns
    assert outcome.col_value is not None, "a solved outcome has its column values"
    f = model.formulation
    values = np.append(outcome.col_value, 0.0)[highs.columns_of(model.formulation_columns)]
    x, y = group(f, values, "x"), group(f, values, "y")
    duals = highs.fixed_lp_duals(outcome.col_value)
    result.constraints = constraint_table(highs, duals, outcome.col_value)
    if prepared.phasing is not None:  # every table per period, each period's objective (docs/model.md#periods)
        from model.periods import period_tables

        result.tables, result.extra["periods"], result.objective_terms = period_tables(
            prepared.phasing, values, result.constraints
        )
        return result
    price = np.zeros((len(inst.regions), len(inst.resources)))
    ceilings = result.constraints[result.constraints["family"] == "ceiling"]
    if len(ceilings):
        rn = {r: n for n, r in enumerate(inst.regions)}
        kn = {k: n for n, k in enumerate(inst.resources)}
        price[[rn[key[0]] for key in ceilings["key"]], [kn[key[1]] for key in ceilings["key"]]] = ceilings[
            "shadow_price"
        ]
    backup = np.zeros(len(x))
    if inst.backup is not None:
        backup[inst.backup.cells] = group(f, values, "b")
    result.tables = layout_tables(inst, x, y, price, backup)
    result.tables |= network_tables(inst, x, backup, group(f, values, "f"))
    result.objective_terms = objective_terms(f, inst, values)
    return result


def group(f: Formulation, values: np.ndarray, name: str) -> np.ndarray:
    """The values of variable group `name` (empty if the formulation has none)."""
    if not any(v.name == name for v in f.variables):
        return np.zeros(0)
    start = f.start(name)
    return values[start : start + len(f.variable(name).index)]


LP_ROUNDING_ABOVE = 5_000
"""Models with more site variables than this are solved by LP rounding first (strategy `auto`)."""
RECOURSE_FAMILIES = ("node_output", "recourse_capacity", "recourse_survival", "recourse_supply", "recourse_corridor")
"""The rows that only recourse needs."""
RELAXATION_LEAVES_OUT = ("min_scale",) + RECOURSE_FAMILIES
"""The rows LP rounding leaves out of its relaxation, which stays a relaxation, so that its bound stays valid
(docs/model.md#solve-strategies). min_scale (x ≥ m·y) hardly binds in an LP, where y can sit at x/U; the
recourse rows of every disruption multiply the relaxation's solve time, while the rounded layout usually
meets them as it is. The LP with the sites fixed has every row."""


def solve_highs(prepared: Prepared, highs: HighsModel, start: np.ndarray | None = None) -> Outcome:
    """Solve a handed-over model with the scenario's `solver.strategy` (`auto`: LP rounding above
    `LP_ROUNDING_ABOVE` site variables unless a start point is given, else branch and bound)."""
    options = prepared.scenario.solver
    if options.log:
        highs.keep_log()
    strategy = options.strategy
    if strategy == "auto":
        strategy = "lp_rounding" if highs.shape[2] > LP_ROUNDING_ABOVE and start is None else "branch_and_bound"
    if strategy == "lp_rounding":
        left_out = np.isin(highs.row_family, RELAXATION_LEAVES_OUT)
        names = [
            name
            for name, families in (("min_scale", ("min_scale",)), ("recourse", RECOURSE_FAMILIES))
            if np.isin(highs.row_family, families).any()
        ]
        return highs.solve_from_rounding(
            options,
            lambda values: round_sites(prepared, highs, values),
            left_out=left_out if left_out.any() else None,
            left_out_name=f"the {' and '.join(names)} rows",
        )
    return highs.solve(options, start=start)


def cell_columns(prepared: Prepared, highs: HighsModel, variable: str) -> np.ndarray:
    """Column of `x` or `y` for every allowed cell, in `instance.cells` order; −1 where a variable is in no row."""
    var = getattr(prepared.model, variable)
    return np.array([highs.column_of(var[c]) for c in prepared.model.CELLS], dtype=int)


def round_sites(prepared: Prepared, highs: HighsModel, values: np.ndarray) -> np.ndarray | None:
    """A site pattern from an LP relaxation: per cluster, the cells it must keep (lock-ins, kept
    existing output), then the cells with the largest LP output and standby capacity, up to its sites
    cap and at least the minimum number of sites of a critical cluster."""
    if prepared.phasing is not None:
        from model.periods import round_sites as round_periods

        return round_periods(prepared, highs, values, choose_sites)
    inst = prepared.instance
    xcol, ycol = cell_columns(prepared, highs, "x"), cell_columns(prepared, highs, "y")
    held = np.where(xcol >= 0, values[xcol], 0.0)
    if inst.backup is not None:  # standby capacity needs its site too
        bcol = highs.columns_of([prepared.model.b[c] for c in prepared.model.BACKUP_CELLS])
        held[inst.backup.cells] += np.where(bcol >= 0, values[bcol], 0.0)
    y = choose_sites(inst, held)
    pattern = values.copy()
    present = ycol >= 0
    pattern[ycol[present]] = y[present]
    return pattern


def choose_sites(inst: Instance, x: np.ndarray) -> np.ndarray:
    """(cells,) bool: the sites `round_sites` chooses for the output and standby capacity `x` that an
    LP relaxation puts on each allowed cell."""
    cells = inst.cells[["i", "existing"]].copy()
    cells["x"] = x
    locked = {(l.cluster, l.region) for l in inst.lock_in}
    cells["forced"] = [cell in locked for cell in inst.cell_keys]
    cells["forced"] |= (inst.keep_existing * cells["existing"]) > 0
    cells = cells.sort_values(["i", "forced", "x"], ascending=[True, False, False], kind="stable")
    rank = cells.groupby("i").cumcount().to_numpy()
    i = cells["i"].to_numpy()
    wanted = cells["x"].to_numpy() > 1e-6 * np.maximum(inst.target[i], 1.0)
    if inst.min_sites is not None:
        wanted |= inst.critical[i] & (rank < inst.min_sites)
    chosen = cells["forced"].to_numpy() | (wanted & (rank < inst.max_sites[i]))
    y = np.zeros(len(cells), dtype=bool)
    y[cells.index.to_numpy()] = chosen
    return y


def constraint_table(highs: HighsModel, duals: np.ndarray, col_value: np.ndarray) -> pd.DataFrame:
    """Every row handed to HiGHS: family, key, sense, right-hand side, activity, slack and shadow price,
    each row as docs/model.md states it (a row built in a compact form is turned back: `Rows.offset`)."""
    offset, sign = highs.row_offset, highs.row_sign
    assert offset is not None and sign is not None, "the hand-over states every row's offset and sign"
    activity = offset + sign * (highs.matrix @ col_value)
    lower = np.where(sign > 0, offset + sign * highs.row_lower, offset + sign * highs.row_upper)
    upper = np.where(sign > 0, offset + sign * highs.row_upper, offset + sign * highs.row_lower)
    at_least = ~np.isfinite(upper)
    sense = np.where(lower == upper, "=", np.where(at_least, ">=", "<="))
    rhs = np.where(at_least, lower, upper)
    return pd.DataFrame(
        {
            "family": highs.row_family,
            "key": pd.Series(highs.row_key, dtype=object),
            "sense": sense,
            "rhs": rhs,
            "activity": activity,
            "slack": np.where(at_least, activity - rhs, rhs - activity),
            "shadow_price": sign * duals,
        }
    )


def solve(scenario: Scenario | str | Path, **overrides: Any) -> Result:
    """Solve a scenario (a path or a loaded `Scenario`), with optional dotted-path overrides."""
    scenario = as_scenario(scenario, overrides)
    return solve_prepared(prepare(scenario))
