"""Near-optimal layouts that differ most from the optimum and from each other (`layout alternatives`).

Modelling to generate alternatives (docs/model.md#alternatives): keep the benefit — the model's whole
objective, value with diminishing returns less fixed cost, relocation, transport and backup — within a
slack of the optimum, objective ≥ (1 − S)·optimum, and maximise the smallest Hamming distance, over
the `established` flags of the allowed cells, to the optimum and to every alternative found so far.
Each alternative's sites are then kept and its output, flows and standby capacity solved again for the
benefit, so that the layout reported is the best one with those sites and its objective is its benefit.
The cells that all of them establish are the robust core a planner can commit to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from model.errors import InputError
from model.formulation import Formulation, Variables, to_pyomo
from model.instance import Instance
from model.results import Result, last_year, write_folder
from model.run import Prepared, as_scenario, prepare, solve_prepared
from model.scenario import Scenario, dataset_of


@dataclass
class Alternatives:
    """The optimum (alternative 0), the alternatives, their distances and the robust core."""

    table: pd.DataFrame
    robust_core: pd.DataFrame
    results: dict[int, Result]

    def write(self, folder: str | Path) -> Path:
        files: dict[str, Callable[[Path], Any]] = {
            "alternatives.csv": lambda p: self.table.to_csv(p, index=False),
            "robust_core.csv": lambda p: self.robust_core.to_csv(p, index=False),
        }
        for n, result in self.results.items():
            files[f"points/{'optimum' if n == 0 else f'alternative_{n}'}"] = result.write
        return write_folder(folder, files)


def established_cells(result: Result) -> set[tuple[str, str]]:
    """The cells with a site; in a phased run those of the last period, every site ever opened."""
    layout = last_year(result.layout)
    chosen = layout[layout["established"] == 1]
    return set(zip(chosen["cluster"], chosen["region"]))


def established_mask(inst: Instance, cells: set[tuple[str, str]]) -> np.ndarray:
    """(allowed cells,) bool in `inst.cells` order: the cell is in `cells`."""
    chosen = pd.MultiIndex.from_tuples(sorted(cells), names=["cluster", "region"]) if cells else []
    return pd.MultiIndex.from_frame(inst.cells[["cluster", "region"]]).isin(chosen)


def most_different(found: list[set[tuple[str, str]]], floor: float):
    """The edit of the alternatives model: row `benefit_floor`, the planner's objective ≥ floor; a
    column `distance`; rows `differs`, one per earlier layout j, distance ≤ Σ_{c∈F_j} (1 − y_c) +
    Σ_{c∉F_j} y_c, written distance + Σ_{c∈F_j} y_c − Σ_{c∉F_j} y_c ≤ |F_j|; and distance maximised."""

    def edit(f: Formulation, inst: Instance) -> None:
        benefit = f.benefit
        assert benefit is not None
        used = np.flatnonzero(benefit)
        f.add(
            "benefit_floor",
            ["benefit"],
            np.zeros(len(used), dtype=int),
            used,
            benefit[used],
            lower=floor - f.constant - 1e-7 * max(1.0, abs(floor)),
        )
        distance = f.add_variables(Variables("distance", ["distance"], False, np.zeros(1), np.full(1, np.inf)))[0]
        y = _site_columns(f, inst)
        n = len(y)
        members = np.array([established_mask(inst, cells) for cells in found]).reshape(len(found), n)
        rows = np.arange(len(found))
        f.add(
            "differs",
            list(range(len(found))),
            np.r_[rows, np.repeat(rows, n)],
            np.r_[np.full(len(found), distance), np.tile(y, len(found))],
            np.r_[np.ones(len(found)), np.where(members, 1.0, -1.0).ravel()],
            upper=members.sum(axis=1).astype(float),
        )
        cost = np.zeros(f.num_columns)
        cost[distance] = 1.0
        f.cost, f.constant, f.maximise = cost, 0.0, True

    return edit


def with_sites(cells: set[tuple[str, str]]):
    """The edit that keeps exactly the sites `cells` (y_ir fixed; in a phased model the last period's,
    the earlier periods open them when they choose), so that the planner's objective chooses the
    output, flows and standby capacity for them."""

    def edit(f: Formulation, inst: Instance) -> None:
        y = f.variable("y")
        at = _site_columns(f, inst) - f.start("y")
        chosen = established_mask(inst, cells).astype(float)
        y.lower[at], y.upper[at] = np.maximum(y.lower[at], chosen), np.minimum(y.upper[at], chosen)

    return edit


def alternatives(scenario: Scenario | str | Path, slack: float = 0.05, count: int = 3) -> Alternatives:
    """Up to `count` layouts with benefit ≥ (1 − slack)·optimum, each as different as possible from all
    before it; fewer when no other layout within the slack differs from every one before it."""
    scenario = as_scenario(scenario)
    if not 0 <= slack <= 1:
        raise InputError(scenario.name, "--slack", f"must lie in [0, 1], not {slack}")
    if count < 1:
        raise InputError(scenario.name, "--count", "must be at least 1")
    optimum = solve_prepared(prepare(scenario))
    if not optimum.solved:
        raise InputError(scenario.name, None, f"the scenario itself is {optimum.status.value}; run `layout diagnose`")
    best = optimum.objective
    assert best is not None
    floor = best - slack * abs(best)
    found = [established_cells(optimum)]
    results = {0: optimum}
    for n in range(1, count + 1):
        sites = solve_prepared(_prepare(scenario, most_different(found, floor)))
        cells = established_cells(sites) if sites.solved else set()
        if not sites.solved or min(len(cells ^ earlier) for earlier in found) == 0:
            break  # no layout within the slack differs from every one before it
        result = solve_prepared(_prepare(scenario, with_sites(cells)))
        if not result.solved:
            break
        result.bound, result.gap = None, None
        result.message = f"alternative {n}: the best layout with the sites that differ most from those before it"
        found.append(established_cells(result))
        results[n] = result
    rows = []
    for n, cells in enumerate(found):
        others = [len(cells ^ other) for j, other in enumerate(found) if j != n and j > 0]
        rows.append(
            {
                "alternative": n,
                "objective": results[n].objective,
                "distance_to_optimum": len(cells ^ found[0]),
                "min_distance_to_others": min(others) if others else np.nan,
            }
        )
    core = set.intersection(*found)
    layouts = pd.concat([last_year(r.layout).assign(alternative=n) for n, r in results.items()])
    in_core = layouts[[c in core for c in zip(layouts["cluster"], layouts["region"])]]
    robust = in_core.groupby(["cluster", "region"], as_index=False)["output"].agg(min_output="min", max_output="max")
    return Alternatives(pd.DataFrame(rows), robust, results)


def _site_columns(f: Formulation, inst: Instance) -> np.ndarray:
    """The columns of the sites alternatives compare, in `inst.cells` order: y_ir, or in a phased
    model the last period's y_irP, which are every site ever opened (persistence)."""
    phasing = getattr(f, "phasing", None)
    if phasing is not None:
        return phasing.cell_columns(phasing.last, "y")
    return f.start("y") + np.arange(len(inst.cells))


def _prepare(scenario: Scenario, edit: Callable[[Formulation, Instance], None]) -> Prepared:
    """`run.prepare` with `edit` applied to the whole model: in a phased model to the stacked periods
    (the floor on the phased objective, docs/model.md#periods-objective, and the last period's sites),
    not to each period apart."""
    if scenario.periods is None:
        return prepare(scenario, edit)
    from model.periods import formulate_scenario

    started = time.perf_counter()
    with PauseGC():
        instance, formulation = formulate_scenario(scenario, dataset_of(scenario))
        edit(formulation, instance)
        model = to_pyomo(formulation)
    return Prepared(
        scenario, instance, model, time.perf_counter() - started, phasing=getattr(formulation, "phasing", None)
    )
