"""Near-optimal layouts that differ most from the optimum and from each other (`layout alternatives`).

Modelling to generate alternatives: keep the benefit within a slack of the optimum,
objective ≥ (1 − S)·optimum, and maximise the smallest Hamming distance, over the `established`
flags of the allowed cells, to the optimum and to every alternative found so far. The cells that
all of them establish are the robust core a planner can commit to.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model.errors import InputError
from model.results import Result, write_folder
from model.run import as_scenario, prepare, solve_prepared
from model.scenario import Scenario


@dataclass
class Alternatives:
    """The optimum (alternative 0), the alternatives, their distances and the robust core."""

    table: pd.DataFrame
    robust_core: pd.DataFrame
    results: dict[int, Result]

    def write(self, folder: str | Path) -> Path:
        files = {"alternatives.csv": lambda p: self.table.to_csv(p, index=False),
                 "robust_core.csv": lambda p: self.robust_core.to_csv(p, index=False)}
        for n, result in self.results.items():
            files[f"points/{'optimum' if n == 0 else f'alternative_{n}'}"] = lambda p, r=result: r.write(p)
        return write_folder(folder, files)


def established_cells(result: Result) -> set[tuple[str, str]]:
    """The cells with a site; in a phased run those of the last period, every site ever opened."""
    layout = _last_period(result.layout)
    chosen = layout[layout["established"] == 1]
    return set(zip(chosen["cluster"], chosen["region"]))


def alternatives(scenario: Scenario | str | Path, slack: float = 0.05, count: int = 3) -> Alternatives:
    """`count` layouts with benefit ≥ (1 − slack)·optimum, each as different as possible from all before it."""
    scenario = as_scenario(scenario)
    if not 0 <= slack <= 1:
        raise InputError(scenario.name, "--slack", f"must lie in [0, 1], not {slack}")
    if count < 1:
        raise InputError(scenario.name, "--count", "must be at least 1")
    optimum = solve_prepared(prepare(scenario))
    if not optimum.solved:
        raise InputError(scenario.name, None, f"the scenario itself is {optimum.status.value}; run `layout diagnose`")
    floor = optimum.objective - slack * abs(optimum.objective)
    found = [established_cells(optimum)]
    results = {0: optimum}
    for n in range(1, count + 1):
        prepared = prepare(scenario)
        m = prepared.model
        m.benefit_floor = pyo.Constraint(expr=m.objective.expr >= floor - 1e-7 * max(1.0, abs(floor)))
        m.objective.deactivate()
        m.distance = pyo.Var(within=pyo.NonNegativeReals)
        sites = _sites(prepared)
        m.differs = pyo.Constraint(range(len(found)), rule=lambda block, j, sites=sites: block.distance <= sum(
            (1 - y) if c in found[j] else y for c, y in sites))
        m.most_different = pyo.Objective(expr=m.distance, sense=pyo.maximize)
        result = solve_prepared(prepared)
        if not result.solved:
            break
        result.objective = _benefit(prepared, result)
        result.bound, result.gap = None, None
        found.append(established_cells(result))
        results[n] = result
    rows = []
    for n, cells in enumerate(found):
        others = [len(cells ^ other) for j, other in enumerate(found) if j != n and j > 0]
        rows.append({"alternative": n, "objective": results[n].objective, "distance_to_optimum": len(cells ^ found[0]),
                     "min_distance_to_others": min(others) if others else np.nan})
    core = set.intersection(*found)
    layouts = pd.concat([_last_period(r.layout).assign(alternative=n) for n, r in results.items()])
    in_core = layouts[[c in core for c in zip(layouts["cluster"], layouts["region"])]]
    robust = in_core.groupby(["cluster", "region"], as_index=False)["output"].agg(min_output="min", max_output="max")
    return Alternatives(pd.DataFrame(rows), robust, results)


def _sites(prepared) -> list[tuple[tuple[str, str], pyo.Var]]:
    """(cell, its site variable) for every allowed cell; with periods, the last period's sites."""
    if prepared.phasing is not None:
        from model.periods import last_sites
        return last_sites(prepared)
    return [(c, prepared.model.y[c]) for c in prepared.model.CELLS]


def _last_period(table: pd.DataFrame) -> pd.DataFrame:
    from model.periods import last_period
    return last_period(table)


def _benefit(prepared, result: Result) -> float:
    """The original objective at an alternative's layout: the sum of its objective terms (the planner's
    objective at its columns, docs/run-folder.md#summaryjson), or, for a result without them,
    Σ s·x − φ·Σ f·y(new) − κ·Σ max(e − x, 0) + constant; with periods, weighted over the periods as
    docs/model.md#periods-objective says."""
    if prepared.phasing is not None:
        from model.periods import objective_of
        return objective_of(result.extra["periods"])
    if result.objective_terms is not None:  # the planner's objective at the layout, every term included
        return float(sum(result.objective_terms.values()))
    inst = prepared.instance
    layout = result.layout
    cells = inst.cells.merge(layout, on=["cluster", "region"], how="left").fillna({"output": 0.0, "established": 0})
    new = cells["existing"] <= 0
    fixed = (inst.fixed_cost[cells["i"]] * cells["established"] * new).sum()
    relocated = np.maximum(cells["existing"] - cells["output"], 0).sum()
    return float((cells["score"] * cells["output"]).sum() - inst.fixed_cost_weight * fixed
                 - inst.relocation_cost * relocated + inst.constant)
