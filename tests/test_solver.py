"""The solver runner: exact layouts and the LP-rounding strategy against the exact optimum."""
from __future__ import annotations

import pytest

import model
from conftest import ROOT, assert_feasible, write_scenario

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


def test_lp_rounding_with_every_family_active(tmp_path):
    from conftest import write_dataset
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": f"r{n}", "macro_region": ["east", "central", "west", "northeast"][n % 4],
                  "hinterland": n % 4 in (1, 2), "strategies": ["pole"] if n < 3 else []} for n in range(8)],
        clusters=[{"cluster": f"c{n}", "target": 10 + n, "critical": n < 2, "category": ["future", "traditional"][n % 2],
                   "min_scale": 1, "fixed_cost": 0.5, "max_sites": 4} for n in range(4)],
        resources=["land", "water"],
        intensity={(f"c{n}", k): 1 + 0.1 * n for n in range(4) for k in ("land", "water")},
        capacity={(f"r{n}", k): 9 + n for n in range(8) for k in ("land", "water")},
        suitability={(f"c{c}", f"r{r}"): 1 + ((c * 7 + r * 3) % 5) / 4 for c in range(4) for r in range(8)},
        existing={("c0", "r0"): 3, ("c2", "r5"): 2}, disruptions={"coast": ["r0", "r4"], "flood": ["r1", "r2"]})
    keys = dict(resilience={"concentration_cap": 0.5, "hinterland_share": 0.3, "disruption_survival": 0.5, "min_sites": 2},
                coordination={"balance": {"west": 0.2}, "keep_existing": 0.5},
                lock_in=[{"cluster": "c3", "region": "r7", "min_output": 2}],
                growth_poles=[{"strategy": "pole", "category": "future", "share": 0.3}],
                objective={"relocation_cost": 0.3})
    path = write_scenario(tmp_path / "s.yaml", data, **keys)
    exact = model.solve(path, **{"solver.strategy": "branch_and_bound"})
    rounded = model.solve(path, **{"solver.strategy": "lp_rounding", "solver.mip_gap": 0.05})
    assert exact.status == rounded.status == model.Status.OPTIMAL
    assert_feasible(exact)
    assert_feasible(rounded)
    assert rounded.objective >= exact.objective - rounded.gap * abs(rounded.objective) - 1e-6
    assert rounded.bound >= exact.objective - 1e-6
