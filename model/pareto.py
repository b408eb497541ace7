"""Trade-off fronts by the epsilon-constraint method (`layout pareto`, docs/model.md#pareto).

Against `resilience` the second objective is the worst surviving share,
min over critical i and active s of Σ_{r∉L_s} (x_ir + b_ir) / T_i (b where backup exists), maximised, with
recourse (where the scenario has it) asked to deliver the same share of every critical chain; against a resource it is
that resource's total use Σ_r Σ_i a_ik·x_ir, minimised. The front runs from the benefit-optimal
layout to the layout best in the second objective; each point maximises the benefit with the
second objective held at least as good as its epsilon. Dominated points are dropped.

With periods (docs/model.md#workflows-over-periods) the epsilon rows hold in every period:
resilience is the worst share over the periods too, and a resource's value is the largest total
use of one period.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from model.errors import InputError
from model.formulation import Formulation, Variables
from model.instance import Instance
from model.results import Result, resilience_of, write_folder
from model.run import as_scenario, prepare, solve, solve_prepared
from model.scenario import Scenario, dataset_of


@dataclass
class Front:
    """The non-dominated points (table `front`) and every point's result."""

    front: pd.DataFrame
    results: dict[int, Result]

    def write(self, folder: str | Path) -> Path:
        files: dict[str, Callable[[Path], Any]] = {"front.csv": lambda p: self.front.to_csv(p, index=False)}
        for point, result in self.results.items():
            files[f"points/{point}"] = result.write
        return write_folder(folder, files)


def _direction(scenario: Scenario, inst: Instance, against: str) -> int:
    """+1 if the second objective is maximised (resilience), −1 if minimised (a resource's use)."""
    if against == "resilience":
        if not (inst.critical & (inst.target > 0)).any() or not inst.disruptions:
            raise InputError(scenario.name, "pareto", "resilience needs critical clusters and active disruptions")
        return +1
    if against not in inst.resources:
        raise InputError(
            scenario.name,
            "pareto",
            f"--against must be `resilience` or a resource ({', '.join(inst.resources)}), not {against!r}",
        )
    return -1


def _resource_use(f: Formulation, inst: Instance, resource: str) -> np.ndarray:
    """Σ_r Σ_i a_ik·x_ir as coefficients over the formulation's columns."""
    use = np.zeros(f.num_columns)
    use[f.start("x") + np.arange(len(inst.cells))] = inst.intensity[
        inst.cells["i"].to_numpy(), inst.resources.index(resource)
    ]
    return use


def _value(result: Result, against: str) -> float:
    """The second objective of a solved layout; with periods the worst over the periods (resilience:
    the lowest share, a resource: the largest total use of a period, which each period's row bounds)."""
    if against == "resilience":
        return resilience_of(result.resilience)
    used = result.resources.loc[result.resources["resource"] == against]
    if "period" in used.columns:
        return float(used.groupby("period")["used"].sum().max())
    return float(used["used"].sum())


def _extreme(scenario: Scenario, against: str) -> float:
    """The best value the second objective can reach on its own: the largest worst surviving share z
    (the disruption rows become Σ_{r∉L_s} (x_ir + b_ir) − T_i·z ≥ 0, standby capacity b counted), or
    the smallest use of the resource.

    The disruption rows are built in a compact form whose stated row is offset + sign·(row)
    (docs/model.md#size), so −T_i·z enters the built row as −sign·T_i·z. With recourse the
    recourse_survival rows ask the same z (Σ_n p_ins − T_i·z ≥ 0), as every point of the front
    asks ρ = ε of both (docs/model.md#pareto)."""

    def second_objective(f: Formulation, inst: Instance) -> None:
        if against == "resilience":
            z = f.add_variables(Variables("worst_surviving_share", [0], False, np.zeros(1), np.ones(1)))
            target = dict(zip(inst.clusters, inst.target))
            for family in ("disruption", "recourse_survival"):
                rows = f.family(family)
                if rows is not None:
                    rows.add_column(z[0], -rows.sign * np.array([target[cluster] for cluster, _ in rows.keys]))
            cost = np.zeros(f.num_columns)
            cost[z] = 1.0
        else:
            cost = _resource_use(f, inst, against)
        f.cost, f.constant, f.maximise = cost, 0.0, against == "resilience"

    base = scenario.with_overrides({"resilience.disruption_survival": 0.0}) if against == "resilience" else scenario
    result = solve_prepared(prepare(base, second_objective))
    if not result.solved:
        raise RuntimeError(f"the {against} extreme did not solve: {result.message}")
    return _value(result, against)


def _held_at(scenario: Scenario, against: str, epsilon: float) -> Result:
    """The benefit optimum with the second objective at least as good as `epsilon`: a disruption
    survival share of ε, or Σ_{r,i} a_ik·x_ir ≤ ε."""
    if against == "resilience":
        floor = max(epsilon - 1e-9, scenario.resilience.disruption_survival or 0.0)
        return solve(scenario.with_overrides({"resilience.disruption_survival": floor}))

    def cap(f: Formulation, inst: Instance) -> None:
        use = _resource_use(f, inst, against)
        used = np.flatnonzero(use)
        f.add("pareto_ceiling", [against], np.zeros(len(used), dtype=int), used, use[used], upper=epsilon * (1 + 1e-9))

    return solve_prepared(prepare(scenario, cap))


def non_dominated(front: pd.DataFrame, maximise_value: bool) -> pd.DataFrame:
    """Rows no other row beats in both objective (higher) and value (higher or lower)."""
    solved = front[front["status"].isin(["optimal", "feasible"])]
    keep = []
    for n, row in solved.iterrows():
        better_value = (
            solved["value"] >= row["value"] - 1e-9 if maximise_value else solved["value"] <= row["value"] + 1e-9
        )
        better_objective = solved["objective"] >= row["objective"] - 1e-9
        strictly = (solved["objective"] > row["objective"] + 1e-6 * max(1, abs(row["objective"]))) | (
            (solved["value"] > row["value"] + 1e-9) if maximise_value else (solved["value"] < row["value"] - 1e-9)
        )
        if not (better_value & better_objective & strictly).any():
            keep.append(n)
    return front.loc[keep].drop_duplicates(subset=["objective", "value"]).reset_index(drop=True)


def pareto(scenario: Scenario | str | Path, against: str = "resilience", points: int = 5) -> Front:
    """The epsilon-constraint front of benefit against resilience or a resource's total use."""
    scenario = as_scenario(scenario)
    if points < 2:
        raise InputError(scenario.name, "--points", "a front needs at least 2 points")
    direction = _direction(scenario, Instance.of(scenario, dataset_of(scenario)), against)
    optimum = solve(scenario)
    if not optimum.solved:
        raise InputError(scenario.name, None, f"the scenario itself is {optimum.status.value}; run `layout diagnose`")
    epsilons = np.linspace(_value(optimum, against), _extreme(scenario, against), points)

    results: dict[int, Result] = {}
    rows = []
    for n, epsilon in enumerate(epsilons):
        result = optimum if n == 0 else _held_at(scenario, against, float(epsilon))
        value = _value(result, against) if result.solved else np.nan
        rows.append(
            {
                "point": n,
                "objective": result.objective,
                "against": against,
                "value": value,
                "epsilon": float(epsilon),
                "status": result.status.value,
            }
        )
        results[n] = result
    table = pd.DataFrame(rows)
    front = non_dominated(table, maximise_value=direction > 0)
    return Front(front, {int(p): results[int(p)] for p in front["point"]})
