"""Trade-off fronts by the epsilon-constraint method (SPEC section 6, `layout pareto`).

Against `resilience` the second objective is the worst surviving share,
min over critical i and active s of Σ_{r∉L_s} x_ir / T_i, maximised; against a resource it is
that resource's total use Σ_r Σ_i a_ik·x_ir, minimised. The front runs from the benefit-optimal
layout to the layout best in the second objective; each point maximises the benefit with the
second objective held at least as good as its epsilon. Dominated points are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model.errors import InputError
from model.results import Result, write_folder
from model.run import Prepared, as_scenario, prepare, solve_prepared
from model.scenario import Scenario



@dataclass
class Front:
    """The non-dominated points (table `front`) and every point's result."""

    front: pd.DataFrame
    results: dict[int, Result]

    def write(self, folder: str | Path) -> Path:
        files = {"front.csv": lambda p: self.front.to_csv(p, index=False)}
        for point, result in self.results.items():
            files[f"points/{point}"] = lambda p, r=result: r.write(p)
        return write_folder(folder, files)


def _second_objective(prepared: Prepared, against: str):
    """(expression to bound, sense of improvement) of the second objective on the model."""
    inst, m = prepared.instance, prepared.model
    if against == "resilience":
        critical = [n for n, c in enumerate(inst.critical) if c and inst.target[n] > 0]
        if not critical or not inst.disruptions:
            raise InputError(prepared.scenario.name, "pareto", "resilience needs critical clusters and active disruptions")
        return None, +1
    if against not in inst.resources:
        raise InputError(prepared.scenario.name, "pareto",
                         f"--against must be `resilience` or a resource ({', '.join(inst.resources)}), not {against!r}")
    k = inst.resources.index(against)
    a = dict(zip(inst.clusters, inst.intensity[:, k]))
    return sum(a[c[0]] * m.x[c] for c in m.CELLS if a[c[0]] > 0), -1


def _add_resilience_floor(m: pyo.ConcreteModel, inst, floor: pyo.Param) -> None:
    """Σ_{r∉L_s} x_ir ≥ floor·T_i for every critical i and active s."""
    keys = [(i, s) for n, i in enumerate(inst.clusters) if inst.critical[n] and inst.target[n] > 0 for s in inst.disruptions]
    T = dict(zip(inst.clusters, inst.target))
    region_no = {r: n for n, r in enumerate(inst.regions)}
    cells_of = inst.cells.groupby("cluster", sort=False)["region"].apply(list).to_dict()
    m.pareto_floor = pyo.Constraint(keys, rule=lambda _, i, s: sum(
        m.x[i, r] for r in cells_of.get(i, []) if not inst.disruptions[s][region_no[r]]) >= floor * T[i])


def _value(result: Result, against: str, inst) -> float:
    if against == "resilience":
        critical = result.resilience[result.resilience["critical"] & (inst.target > 0)]
        return float(critical["worst_surviving_share"].min())
    return float(result.resources.loc[result.resources["resource"] == against, "used"].sum())


def _extreme(scenario: Scenario, against: str) -> float:
    """The best value the second objective can reach on its own."""
    prepared = prepare(scenario)
    m, inst = prepared.model, prepared.instance
    expression, _ = _second_objective(prepared, against)
    m.objective.deactivate()
    if against == "resilience":
        m.z = pyo.Var(bounds=(0, 1))
        _add_resilience_floor(m, inst, m.z)
        m.second = pyo.Objective(expr=m.z, sense=pyo.maximize)
    else:
        m.second = pyo.Objective(expr=expression, sense=pyo.minimize)
    result = solve_prepared(prepared)
    if not result.solved:
        raise RuntimeError(f"the {against} extreme did not solve: {result.message}")
    return _value(result, against, inst)


def non_dominated(front: pd.DataFrame, maximise_value: bool) -> pd.DataFrame:
    """Rows no other row beats in both objective (higher) and value (higher or lower)."""
    solved = front[front["status"].isin(["optimal", "feasible"])]
    keep = []
    for n, row in solved.iterrows():
        better_value = solved["value"] >= row["value"] - 1e-9 if maximise_value else solved["value"] <= row["value"] + 1e-9
        better_objective = solved["objective"] >= row["objective"] - 1e-9
        strictly = (solved["objective"] > row["objective"] + 1e-6 * max(1, abs(row["objective"]))) | (
            (solved["value"] > row["value"] + 1e-9) if maximise_value else (solved["value"] < row["value"] - 1e-9))
        if not (better_value & better_objective & strictly).any():
            keep.append(n)
    return front.loc[keep].drop_duplicates(subset=["objective", "value"]).reset_index(drop=True)


def pareto(scenario: Scenario | str | Path, against: str = "resilience", points: int = 5) -> Front:
    """The epsilon-constraint front of benefit against resilience or a resource's total use."""
    scenario = as_scenario(scenario)
    if points < 2:
        raise InputError(scenario.name, "--points", "a front needs at least 2 points")
    prepared = prepare(scenario)
    expression, direction = _second_objective(prepared, against)
    optimum = solve_prepared(prepared)
    if not optimum.solved:
        raise InputError(scenario.name, None, f"the scenario itself is {optimum.status.value}; run `layout diagnose`")
    start = _value(optimum, against, prepared.instance)
    end = _extreme(scenario, against)
    epsilons = np.linspace(start, end, points)

    results: dict[int, Result] = {}
    rows = []
    for n, epsilon in enumerate(epsilons):
        if n == 0:
            result = optimum
        else:
            prepared = prepare(scenario)
            m = prepared.model
            if against == "resilience":
                _add_resilience_floor(m, prepared.instance, float(epsilon) - 1e-9)
            else:
                m.pareto_ceiling = pyo.Constraint(expr=_second_objective(prepared, against)[0] <= float(epsilon) * (1 + 1e-9))
            result = solve_prepared(prepared)
        value = _value(result, against, prepared.instance) if result.solved else np.nan
        rows.append({"point": n, "objective": result.objective, "against": against, "value": value,
                     "epsilon": float(epsilon), "status": result.status.value})
        results[n] = result
    table = pd.DataFrame(rows)
    front = non_dominated(table, maximise_value=direction > 0)
    return Front(front, {int(p): results[int(p)] for p in front["point"]})
