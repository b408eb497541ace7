"""The solver runner: exact layouts and the LP-rounding strategy against the exact optimum."""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

import model
from conftest import ROOT, assert_feasible, write_scenario
from model.run import prepare, round_sites, solve_prepared
from model.solver import HighsModel

BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def exact():
    return model.solve(BASELINE, **{"solver.strategy": "branch_and_bound"})


def test_exact_layout_satisfies_every_family(exact):
    assert exact.status == model.Status.OPTIMAL
    assert_feasible(exact)


@pytest.mark.parametrize("gap", [0.01, 0.001])
def test_lp_rounding_is_within_its_reported_gap_of_the_exact_optimum(exact, gap):
    result = model.solve(BASELINE, **{"solver.strategy": "lp_rounding", "solver.mip_gap": gap})
    assert result.status == model.Status.OPTIMAL
    assert_feasible(result)
    # the bound is valid for the full model and the reported gap holds against the true optimum
    assert result.bound >= exact.objective - 1e-6 * abs(exact.objective)
    assert result.objective >= exact.objective * (1 - result.gap) - 1e-6 * abs(exact.objective)
    assert result.gap <= gap + 1e-9


def test_lp_rounding_with_every_family_active(every_family):
    path = every_family
    exact = model.solve(path, **{"solver.strategy": "branch_and_bound"})
    rounded = model.solve(path, **{"solver.strategy": "lp_rounding", "solver.mip_gap": 0.05})
    assert exact.status == rounded.status == model.Status.OPTIMAL
    assert_feasible(exact)
    assert_feasible(rounded)
    assert rounded.objective >= exact.objective - rounded.gap * abs(rounded.objective) - 1e-6
    assert rounded.bound >= exact.objective - 1e-6


def test_handover_hands_highs_what_pyomo_compiles(every_family):
    """The direct hand-over of family blocks, an added ordinary row and a deactivated row gives the
    matrix, bounds and costs of Pyomo's own standard-form compiler, row by row and column by column."""
    m = prepare(model.load_scenario(every_family)).model
    m.extra = pyo.Constraint(expr=m.x["c0", "r1"] + 2 * m.y["c1", "r2"] <= 5)
    m.ceiling["r3", "water"].deactivate()
    ours = HighsModel.from_pyomo(m)
    form = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)

    row_of = {(family, key): j for j, (family, key) in enumerate(zip(ours.row_family, ours.row_key))}
    rows = [row_of[con.parent_component().local_name, con.index()] for con, _ in form.rows]
    assert sorted(rows) == list(range(ours.matrix.shape[0]))  # the same rows, nothing more
    assert ("ceiling", ("r3", "water")) not in row_of and ("extra", None) in row_of
    columns = [ours.column_of(v) for v in form.columns]
    assert min(columns) >= 0
    np.testing.assert_array_equal(ours.matrix.toarray()[np.ix_(rows, columns)], form.A.toarray())
    sense = np.array([s for _, s in form.rows])
    rhs = np.asarray(form.rhs, dtype=float)
    np.testing.assert_array_equal(np.where(sense == 1, np.inf, ours.row_lower[rows]), np.where(sense == 1, np.inf, rhs))
    np.testing.assert_array_equal(
        np.where(sense == -1, -np.inf, ours.row_upper[rows]), np.where(sense == -1, -np.inf, rhs)
    )
    np.testing.assert_array_equal(ours.cost[columns], form.c.toarray()[0])
    assert ours.offset == pytest.approx(form.c_offset[0])
    np.testing.assert_array_equal(ours.integer[columns], [v.is_integer() for v in form.columns])


def test_fixed_variable_is_held_at_its_value(tmp_path, tiny):
    # y[a, r1] fixed at 0: a moves to r2 (score 2) → 20, b stays at 10 → 30 instead of 40
    prepared = prepare(model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny)))
    prepared.model.y["a", "r1"].fix(0)
    held = solve_prepared(prepared)
    assert held.status == model.Status.OPTIMAL
    assert held.objective == pytest.approx(30)
    assert ("a", "r1") not in set(zip(held.layout["cluster"], held.layout["region"]))


def test_rounded_layout_is_kept_when_no_time_is_left(every_family):
    """Branch and bound does not start when less time is left than the relaxation took: the rounded
    layout comes back as `feasible`, with the LP relaxation as its bound."""
    prepared = prepare(model.load_scenario(every_family, **{"solver.time_limit": 1, "solver.mip_gap": 0}))
    highs = HighsModel.from_pyomo(prepared.model)

    def slow_rounding(values):
        time.sleep(1.05)
        return round_sites(prepared, highs, values)

    outcome = highs.solve_from_rounding(prepared.scenario.solver, slow_rounding)
    assert outcome.status == model.Status.FEASIBLE and "LP-rounding layout is kept" in outcome.message
    assert outcome.bound > outcome.objective
    assert outcome.gap == pytest.approx((outcome.bound - outcome.objective) / abs(outcome.objective))
    exact = model.solve(every_family)
    assert outcome.objective <= exact.objective + 1e-6 <= outcome.bound + 2e-6


def test_objective_set_in_pyomo_replaces_the_built_one(tmp_path, tiny):
    m = prepare(model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny))).model
    assert HighsModel.from_pyomo(m).cost.sum() > 1
    m.objective.expr = m.x["b", "r3"]
    h = HighsModel.from_pyomo(m)
    assert h.cost[h.column_of(m.x["b", "r3"])] == 1 and h.cost.sum() == 1 and h.offset == 0
