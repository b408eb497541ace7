"""Phasing over the Plan (docs/model.md#periods): each family across periods moves a tiny optimum
to a value worked out by hand; one year is the one-period model; identical periods give the
one-period optimum; bad `periods` keys exit 2 naming the key path; an infeasible phasing is
diagnosed in words.

Every hand-worked optimum below is unique (minimum scales or fixed costs rule out sites at zero
output), unless the test reads only what all optima share.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import model
from model.cli import main
from model.diagnose import diagnose
from model.instance import Instance
from model.periods import PERIOD_FAMILIES, formulate_periods, instances_by_period, objective_of
from model.run import prepare
from model.scenario import dataset_of
from conftest import write_dataset, write_scenario

EAST_WEST = [{"region": "east", "macro_region": "east"}, {"region": "west", "macro_region": "west", "hinterland": True}]


def two_regions(
    folder, *, target=10, min_scale=0, fixed_cost=0, existing=None, capacity=(10, 100), score=(1, 0.5), resource="water"
):
    """One cluster `a` in two regions, east and west, using one unit of one resource per unit of output."""
    return write_dataset(
        folder,
        regions=EAST_WEST,
        clusters=[{"cluster": "a", "target": target, "min_scale": min_scale, "fixed_cost": fixed_cost}],
        resources=[resource],
        intensity={("a", resource): 1},
        capacity={("east", resource): capacity[0], ("west", resource): capacity[1]},
        suitability={("a", "east"): score[0], ("a", "west"): score[1]},
        existing=existing,
    )


def solved(path) -> model.Result:
    result = model.solve(path)
    assert result.status == model.Status.OPTIMAL, result.message
    return result


def output(result, region: str, year: int) -> float:
    layout = result.layout
    rows = layout[(layout["region"] == region) & (layout["period"] == year)]
    return float(rows["output"].sum())


def established(result, year: int) -> set[tuple[str, str]]:
    layout = result.layout
    rows = layout[(layout["period"] == year) & (layout["established"] == 1)]
    return set(zip(rows["cluster"], rows["region"]))


def opened(result) -> dict[tuple[str, str], int]:
    layout = result.layout.drop_duplicates(["cluster", "region"])
    return {(c, r): int(y) for c, r, y in zip(layout["cluster"], layout["region"], layout["opened"]) if pd.notna(y)}


# --- the numbers of each period --------------------------------------------------------------------


def test_targets_move_from_all_existing_output_and_link_bounds_follow_the_period(tmp_path):
    # a: D = 10, existing 2 in east and 2 in north, which cannot host it (score 0): Ē = 4 counts both.
    # progress 0.5, 1 → T = 4 + 6·0.5 = 7, then 10. Water ×0.5 in 2030: east holds 6·0.5 = 3.
    data = write_dataset(
        tmp_path / "d",
        regions=EAST_WEST + [{"region": "north", "macro_region": "northeast"}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}],
        resources=["water"],
        intensity={("a", "water"): 1},
        capacity={("east", "water"): 6, ("west", "water"): 100, ("north", "water"): 100},
        suitability={("a", "east"): 1, ("a", "west"): 1},
        existing={("a", "east"): 2, ("a", "north"): 2},
    )
    scenario = model.load_scenario(
        write_scenario(
            tmp_path / "s.yaml",
            data,
            resilience={"concentration_cap": 0.5},
            periods={"years": [2026, 2030], "progress": [0.5, 1.0], "ceilings": {"water": [1.0, 0.5]}},
        )
    )
    first, last = instances_by_period(scenario, dataset_of(scenario))
    assert first.target == pytest.approx([7.0]) and last.target == pytest.approx([10.0])
    assert last.ceiling[0, 0] == pytest.approx(3.0) and first.ceiling[0, 0] == pytest.approx(6.0)
    # U = min(c·T_ip, σ·cap·μ / a): 2026 east min(3.5, 6) = 3.5, 2030 east min(5, 3) = 3; cap = c·T_ip
    assert first.cells.set_index("region").loc["east", "upper"] == pytest.approx(3.5)
    assert last.cells.set_index("region").loc["east", "upper"] == pytest.approx(3.0)
    assert list(last.cells["cap"]) == pytest.approx([5.0, 5.0]) and list(first.cells["cap"]) == pytest.approx(
        [3.5, 3.5]
    )


def test_default_progress_and_weights_are_evenly_spaced(tmp_path):
    # D = 9, no existing output: T = 3, 6, 9 (p/P); weights 1/3 each; one region, score 1 → objective (3+6+9)/3 = 6
    data = two_regions(tmp_path / "d", target=9, capacity=(100, 0))
    result = solved(write_scenario(tmp_path / "s.yaml", data, periods={"years": [2026, 2028, 2030]}))
    assert [output(result, "east", y) for y in (2026, 2028, 2030)] == pytest.approx([3, 6, 9])
    assert result.objective == pytest.approx(6)
    assert [p["weight"] for p in result.summary()["periods"]] == pytest.approx([1 / 3] * 3)
    assert result.resilience.groupby("period")["target"].sum().tolist() == pytest.approx([3, 6, 9])


# --- each family across periods, on tiny instances worked out by hand ----------------------------------


def test_a_site_opens_in_the_second_period_when_the_first_target_does_not_need_it(tmp_path):
    # a: D = 10, existing 4 in east, min scale 3, fixed cost 1; east holds 7 of water, west scores 0.5.
    # progress 0.5, 1 → T = 7, 10. 2026: east 7 (a west site would have to make 3 at half the value).
    # 2030: east 7, west 3 (opens). Objective 0.5·7 + 0.5·(7 + 1.5) − 1 (west, new, paid once) = 6.75.
    data = two_regions(tmp_path / "d", min_scale=3, fixed_cost=1, existing={("a", "east"): 4}, capacity=(7, 100))
    result = solved(write_scenario(tmp_path / "s.yaml", data, periods={"years": [2026, 2030]}))
    assert result.objective == pytest.approx(6.75)
    assert (output(result, "east", 2026), output(result, "west", 2026)) == pytest.approx((7, 0))
    assert (output(result, "east", 2030), output(result, "west", 2030)) == pytest.approx((7, 3))
    assert opened(result) == {("a", "east"): 2026, ("a", "west"): 2030}
    periods = result.summary()["periods"]
    assert [p["opened_sites"] for p in periods] == [1, 1] and [p["fixed_cost"] for p in periods] == pytest.approx(
        [0, -1]
    )
    assert objective_of(periods) == pytest.approx(result.objective)


def test_decline_keeps_the_eastern_cell_producing_and_opens_the_western_site_earlier(tmp_path):
    # a: D = Ē = 10 (all existing, in east) → T = 10 in every period. East scores 1, west 0.5 (min scale 1,
    # fixed cost 1). East's carbon ceiling falls to 0.3 of 10 in 2030.
    # Without a decline limit: east 10, 10, 3; west opens in 2030 with 7. Objective (10 + 10 + 6.5)/3 − 1 = 7.8333.
    # δ = 0.5: east may fall at most by half a period, so 2028 holds at most 2·3 = 6 → east 10, 6, 3 and west
    # opens in 2028 with 4, then 7. Objective (10 + 8 + 6.5)/3 − 1 = 7.1667.
    data = two_regions(tmp_path / "d", min_scale=1, fixed_cost=1, existing={("a", "east"): 10}, resource="carbon")
    periods = {"years": [2026, 2028, 2030], "ceilings": {"carbon": [1.0, 1.0, 0.3]}}
    free = solved(write_scenario(tmp_path / "free.yaml", data, periods=periods))
    assert free.objective == pytest.approx(26.5 / 3 - 1)
    assert [output(free, "east", y) for y in (2026, 2028, 2030)] == pytest.approx([10, 10, 3])
    assert opened(free)[("a", "west")] == 2030
    held = solved(write_scenario(tmp_path / "held.yaml", data, periods=periods | {"decline_limit": 0.5}))
    assert held.objective == pytest.approx(24.5 / 3 - 1)
    assert [output(held, "east", y) for y in (2026, 2028, 2030)] == pytest.approx([10, 6, 3])
    assert [output(held, "west", y) for y in (2026, 2028, 2030)] == pytest.approx([0, 4, 7])
    assert opened(held) == {("a", "east"): 2026, ("a", "west"): 2028}
    decline = held.constraints[held.constraints["family"] == "decline"]
    assert set(decline["key"]) == {
        ("a", "east", 2026),
        ("a", "east", 2028),
        ("a", "west", 2028),
        ("a", "east", 2030),
        ("a", "west", 2030),
    }
    binding = decline[decline["slack"].abs() < 1e-6]
    assert ("a", "east", 2030) in set(binding["key"])  # 3 = 0.5·6


def test_an_existing_cell_below_its_minimum_scale_has_no_first_decline_row(tmp_path):
    # east holds 2 of water but a's minimum scale is 3: U = 2 < m, so east's 5 of existing output is relocated
    data = two_regions(tmp_path / "d", min_scale=3, existing={("a", "east"): 5}, capacity=(2, 100))
    result = solved(
        write_scenario(
            tmp_path / "s.yaml",
            data,
            objective={"relocation_cost": 0.1},
            periods={"years": [2026, 2030], "decline_limit": 0.2},
        )
    )
    decline = result.constraints[result.constraints["family"] == "decline"]
    assert ("a", "east", 2026) not in set(decline["key"])
    assert output(result, "east", 2026) == 0 and output(result, "west", 2026) == pytest.approx(7.5)


def tightening_water(tmp_path) -> Path:
    """T = 10 in 2026 and 2030 (progress 1, weights ½), east scores 2 and holds 10 of water, then 6
    (ceilings by period 1, 0.6); west scores 1 and holds 20."""
    return write_scenario(
        tmp_path / "s.yaml",
        two_regions(tmp_path / "d", score=(2, 1), capacity=(10, 20)),
        periods={"years": [2026, 2030], "progress": [1, 1], "weights": [0.5, 0.5], "ceilings": {"water": [1.0, 0.6]}},
    )


def test_a_ceiling_that_tightens_by_period_moves_output(tmp_path):
    # a: T = 10 in both periods (progress 1), east scores 2 and holds 10 of water, then 6; west scores 1.
    # 2026: east 10 (20); 2030: east 6, west 4 (16). Weights ½: objective 18. One more unit of east's water
    # in 2030 moves a unit from west to east: worth ½·(2 − 1) = 0.5.
    result = solved(tightening_water(tmp_path))
    assert result.objective == pytest.approx(18)
    assert (output(result, "east", 2026), output(result, "west", 2026)) == pytest.approx((10, 0))
    assert (output(result, "east", 2030), output(result, "west", 2030)) == pytest.approx((6, 4))
    resources = result.resources.set_index(["region", "period"])
    assert resources.loc[("east", 2026), "available"] == pytest.approx(10)
    assert resources.loc[("east", 2030), "available"] == pytest.approx(6)
    assert resources.loc[("east", 2030), "shadow_price"] == pytest.approx(0.5)


def test_persistence_keeps_every_site_it_established(tmp_path):
    # a: T = 10, min scale 3, fixed cost 1; east scores 2 and holds 5 of water in 2026, 10 in 2030; west scores 1.
    # 2026 needs both: east 5, west 5 (15). In 2030 east could take all 10, but west's site stays and must make
    # its minimum scale: east 7, west 3 (17). Objective ½·15 + ½·17 − 2 = 14.
    data = two_regions(tmp_path / "d", min_scale=3, fixed_cost=1, score=(2, 1))
    result = solved(
        write_scenario(
            tmp_path / "s.yaml",
            data,
            periods={"years": [2026, 2030], "progress": [1, 1], "ceilings": {"water": [0.5, 1.0]}},
        )
    )
    assert result.objective == pytest.approx(14)
    assert established(result, 2026) <= established(result, 2030) == {("a", "east"), ("a", "west")}
    assert (output(result, "east", 2030), output(result, "west", 2030)) == pytest.approx((7, 3))
    persistence = result.constraints[result.constraints["family"] == "persistence"]
    assert set(persistence["key"]) == {("a", "east", 2030), ("a", "west", 2030)}


def test_fixed_cost_is_counted_once_per_site(tmp_path):
    # one new site (fixed cost 4) making 10 at score 1 in three periods: weights ⅓ → 10 − 4 = 6, not 10 − 12;
    # weights 1, 1, 1 → 30 − 4 = 26
    data = two_regions(tmp_path / "d", fixed_cost=4, min_scale=1, capacity=(100, 0))
    years = {"years": [2026, 2028, 2030], "progress": [1, 1, 1]}
    result = solved(write_scenario(tmp_path / "s.yaml", data, periods=years))
    assert result.objective == pytest.approx(6)
    assert [p["fixed_cost"] for p in result.summary()["periods"]] == pytest.approx([-4, 0, 0])
    heavy = solved(write_scenario(tmp_path / "w.yaml", data, periods=years | {"weights": [1, 1, 1]}))
    assert heavy.objective == pytest.approx(26)


def test_every_family_across_periods_is_tested():
    tested = {name[len("test_") :] for name in globals() if name.startswith("test_")}
    for family in PERIOD_FAMILIES:
        assert any(family in t for t in tested), f"family {family} has no test of its own"


# --- metamorphic: one year is the one-period model; identical periods give its optimum -----------------


def test_one_year_is_exactly_the_one_period_model(tmp_path, every_family):
    plain = model.load_scenario(every_family)
    phased = plain.with_overrides({"periods": {"years": [2030]}})
    a, b = prepare(plain), prepare(phased)
    ra, rb = model.solve(plain), model.solve(phased)
    assert (ra.rows, ra.columns, ra.integer_columns) == (rb.rows, rb.columns, rb.integer_columns)
    assert rb.objective == pytest.approx(ra.objective, rel=1e-9)
    count = lambda result: result.constraints.groupby("family").size().to_dict()  # noqa: E731
    assert count(ra) == count(rb)
    assert {k + (2030,) if isinstance(k, tuple) else (k, 2030) for k in ra.constraints["key"]} == set(
        rb.constraints["key"]
    )
    assert len(list(a.model.component_data_objects(model_constraint()))) == len(
        list(b.model.component_data_objects(model_constraint()))
    )
    layout_a = ra.layout.set_index(["cluster", "region"])["output"]
    layout_b = rb.layout.set_index(["cluster", "region"])["output"]
    assert layout_b.to_dict() == pytest.approx(layout_a.to_dict())


def model_constraint():
    import pyomo.environ as pyo

    return pyo.Constraint


def unique_optimum(folder):
    """a (critical, m 2, fixed cost 1) and b (m 1, fixed cost 0.5), targets 10, water ceilings of 12; scores
    a 3/2/1, b 1/1.2/0.8 in r1/r2/r3; half of a must survive losing r1.

    With sites a: r1, r2 and b: r1, r2 the output is a2 = 5, b2 = 7 (40 − a2 + 0.2·b2 under a2 ≥ 5,
    a2 + b2 ≤ 12): a r1 5, r2 5; b r1 3, r2 7; objective 36.4 − 3 = 33.4, and no other site set comes close.
    """
    data = write_dataset(
        folder,
        regions=[
            {"region": "r1"},
            {"region": "r2", "macro_region": "central"},
            {"region": "r3", "macro_region": "west"},
        ],
        clusters=[
            {"cluster": "a", "target": 10, "critical": True, "min_scale": 2, "fixed_cost": 1},
            {"cluster": "b", "target": 10, "min_scale": 1, "fixed_cost": 0.5},
        ],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={(r, "water"): 12 for r in ("r1", "r2", "r3")},
        suitability={
            ("a", "r1"): 3,
            ("a", "r2"): 2,
            ("a", "r3"): 1,
            ("b", "r1"): 1,
            ("b", "r2"): 1.2,
            ("b", "r3"): 0.8,
        },
        disruptions={"coast": ["r1"]},
    )
    return write_scenario(folder.parent / "unique.yaml", data, resilience={"disruption_survival": 0.5})


def test_identical_periods_give_the_one_period_optimum_and_layout_in_every_year(tmp_path):
    path = unique_optimum(tmp_path / "d")
    one = solved(path)
    assert one.objective == pytest.approx(33.4)
    three = solved(
        write_scenario(
            tmp_path / "three.yaml",
            tmp_path / "d",
            resilience={"disruption_survival": 0.5},
            periods={"years": [2026, 2028, 2030], "progress": [1, 1, 1]},
        )
    )
    assert three.objective == pytest.approx(one.objective)
    expected = one.layout.set_index(["cluster", "region"])[["output", "established"]]
    for year in (2026, 2028, 2030):
        mine = three.layout[three.layout["period"] == year].set_index(["cluster", "region"])[["output", "established"]]
        pd.testing.assert_frame_equal(mine.sort_index(), expected.sort_index(), check_exact=False, atol=1e-6)
    for period in three.summary()["periods"]:
        assert period["objective"] == pytest.approx(36.4)


def test_stacking_keeps_the_families_of_every_period_and_keys_carry_the_year(tmp_path, every_family):
    scenario = model.load_scenario(every_family)
    inst = Instance.of(scenario, dataset_of(scenario))
    f = formulate_periods([inst, inst], [2026, 2030], [0.5, 0.5], 0.1)
    from model.formulation import formulate

    single = formulate(inst)
    for rows in single.families:
        stacked = f.family(rows.family)
        assert len(stacked) == 2 * len(rows)
        assert stacked.keys[0] == (rows.keys[0] + (2026,) if isinstance(rows.keys[0], tuple) else (rows.keys[0], 2026))
        assert stacked.keys[-1][-1] == 2030
    assert f.num_columns == 2 * single.num_columns
    assert [v.name for v in f.variables] == [v.name for v in single.variables]
    assert f.variable("x").index[: len(inst.cells)] == [c + (2026,) for c in inst.cell_keys]
    assert len(f.family("persistence")) == len(inst.cells)
    assert f.family("link").sites_fixed is not None  # the LP that prices the ceilings keeps its own link rows


# --- a phased run folder, the command line and the workflows ------------------------------------------


def test_solve_prints_one_line_per_period_and_writes_the_period_column(tmp_path, capsys):
    data = two_regions(tmp_path / "d", min_scale=3, fixed_cost=1, existing={("a", "east"): 4}, capacity=(7, 100))
    out = tmp_path / "run"
    assert (
        main(
            [
                "solve",
                str(write_scenario(tmp_path / "s.yaml", data, periods={"years": [2026, 2030]})),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.strip().startswith(("2026 ", "2030 "))]
    assert len(lines) == 2 and "1 opened" in lines[1]
    for name in ("layout", "regions", "resources", "resilience"):
        assert "period" in pd.read_csv(out / f"{name}.csv").columns
    layout = pd.read_csv(out / "layout.csv")
    assert list(layout.columns) == ["cluster", "region", "output", "established", "share_of_target", "period", "opened"]
    summary = json.loads((out / "summary.json").read_text())
    assert [p["year"] for p in summary["periods"]] == [2026, 2030]
    back = model.Result.read(out)
    assert objective_of(back.summary()["periods"]) == pytest.approx(summary["objective"])
    assert main(["validate", str(tmp_path / "s.yaml")]) == 0 and "2 periods" in capsys.readouterr().out


def test_compare_speaks_per_period(tmp_path):
    data = two_regions(tmp_path / "d", min_scale=1, fixed_cost=1, existing={("a", "east"): 10}, resource="carbon")
    periods = {"years": [2026, 2028, 2030], "ceilings": {"carbon": [1.0, 1.0, 0.3]}}
    free = solved(write_scenario(tmp_path / "free.yaml", data, periods=periods))
    held = solved(write_scenario(tmp_path / "held.yaml", data, periods=periods | {"decline_limit": 0.5}))
    from model.compare import compare

    comparison = compare(free, held)
    changes = comparison.changes.set_index(["cluster", "region", "period"])
    assert changes.loc[("a", "east", 2028), "delta"] == pytest.approx(-4)
    assert changes.loc[("a", "west", 2028), "established_b"] == 1
    assert [p["year"] for p in comparison.summary["periods"]] == [2026, 2028, 2030]
    assert comparison.summary["periods"][1]["opened_sites"] == 1 and comparison.summary["opened_sites"] == 0
    flat = solved(write_scenario(tmp_path / "flat.yaml", data))
    against = compare(flat, held).changes
    assert set(against["period"]) == {2026, 2028, 2030}


def test_alternatives_and_sweep_on_a_phased_run(tmp_path):
    path = unique_optimum(tmp_path / "d")
    phased = model.load_scenario(path).with_overrides({"periods": {"years": [2026, 2030], "progress": [1, 1]}})
    from model.alternatives import alternatives

    found = alternatives(phased, slack=0.2, count=1)
    assert found.table.loc[0, "objective"] == pytest.approx(33.4)
    assert found.table.loc[1, "objective"] >= 0.8 * 33.4 - 1e-6
    assert found.table.loc[1, "distance_to_optimum"] >= 1
    assert set(zip(found.robust_core["cluster"], found.robust_core["region"])) <= {
        ("a", "r1"),
        ("a", "r2"),
        ("b", "r1"),
        ("b", "r2"),
    }
    from model.sweep import sweep

    table = sweep(phased, {"periods.decline_limit": [None, 0.5]}, out=tmp_path / "sweep")
    assert list(table["status"]) == ["optimal", "optimal"] and table["objective"].tolist() == pytest.approx(
        [33.4, 33.4]
    )


def test_pareto_against_a_resource_on_a_phased_run(tmp_path):
    # intensities do not depend on the region: the use of water in each period is fixed by its target,
    # and the front is the optimum alone
    path = unique_optimum(tmp_path / "d")
    phased = model.load_scenario(path).with_overrides({"periods": {"years": [2026, 2030]}})
    from model.pareto import pareto

    front = pareto(phased, against="water", points=2).front
    assert front["value"].tolist() == pytest.approx([20.0])


def test_lp_rounding_gives_a_layout_that_keeps_every_site(tmp_path):
    path = unique_optimum(tmp_path / "d")
    result = solved(
        write_scenario(
            tmp_path / "r.yaml",
            tmp_path / "d",
            resilience={"disruption_survival": 0.5},
            solver={"strategy": "lp_rounding"},
            periods={"years": [2026, 2030], "progress": [0.5, 1]},
        )
    )
    assert established(result, 2026) <= established(result, 2030)
    exact = solved(
        write_scenario(
            tmp_path / "b.yaml",
            tmp_path / "d",
            resilience={"disruption_survival": 0.5},
            periods={"years": [2026, 2030], "progress": [0.5, 1]},
        )
    )
    assert result.objective == pytest.approx(exact.objective, rel=1e-3)
    del path


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "periods, needle",
    [
        ({"years": [2030, 2026]}, "periods.years: the years must be strictly increasing"),
        ({"years": []}, "periods.years"),
        ({"years": ["2026"]}, "periods.years.0"),
        ({"years": [2026.5]}, "periods.years.0"),
        ({}, "periods.years: this key is required"),
        ({"years": [2026, 2030], "progress": [0.5]}, "periods.progress: needs one entry per year"),
        ({"years": [2026, 2030], "progress": [0.5, 1.5]}, "periods.progress.1"),
        ({"years": [2026, 2030], "weights": [0.2, 0.3, 0.5]}, "periods.weights: needs one entry per year"),
        ({"years": [2026, 2030], "weights": [-0.1, 1.0]}, "periods.weights.0"),
        ({"years": [2026, 2030], "ceilings": {"carbon": [1.0, 0.9]}}, "periods.ceilings.carbon: unknown resource"),
        ({"years": [2026, 2030], "ceilings": {"water": [1.0]}}, "periods.ceilings.water: needs one entry per year"),
        ({"years": [2026, 2030], "ceilings": {"water": [1.0, -0.5]}}, "periods.ceilings.water.1"),
        ({"years": [2026, 2030], "decline_limit": 1.5}, "periods.decline_limit"),
        ({"years": [2026, 2030], "decline": 0.2}, "periods.decline: unknown key"),
        (2026, "periods"),
    ],
)
def test_bad_periods_exit_2_naming_the_key(tmp_path, tiny, capsys, periods, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"data": str(tiny), "periods": periods}))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(path) in err and len(err.strip().splitlines()) == 1


# --- diagnose --------------------------------------------------------------------------------------


def test_an_infeasible_phasing_is_diagnosed_as_a_ceiling_tightening_faster_than_output_may_decline(tmp_path):
    # a: all 10 of its existing output in hebei (T = 10 each period). Hebei's carbon ceiling of 10 falls to 2
    # in 2030, but with δ = 0.5 hebei must make at least 5 in 2026 and 2.5 in 2030: 0.5 too much.
    # Either the ceiling gives 0.5 in 2030 (+25 %), or hebei's output falls 0.5 more than allowed in 2030.
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "hebei"}, {"region": "gansu", "macro_region": "west"}],
        clusters=[{"cluster": "steel", "target": 10}],
        resources=["carbon"],
        intensity={("steel", "carbon"): 1},
        capacity={("hebei", "carbon"): 10, ("gansu", "carbon"): 100},
        suitability={("steel", "hebei"): 1, ("steel", "gansu"): 0.5},
        existing={("steel", "hebei"): 10},
    )
    path = write_scenario(
        tmp_path / "s.yaml",
        data,
        periods={"years": [2026, 2030], "ceilings": {"carbon": [1.0, 0.2]}, "decline_limit": 0.5},
    )
    assert model.solve(path).status == model.Status.INFEASIBLE
    diagnosis = diagnose(path)
    assert not diagnosis.feasible
    table = diagnosis.diagnosis
    assert "period" in table.columns and set(table["period"]) == {2030}
    assert table["shortfall"].sum() == pytest.approx(0.5)
    assert set(table["family"]) <= {"ceiling", "decline"}
    text = "\n".join(diagnosis.sentences)
    assert "carbon in hebei tightens faster than existing output may decline" in text
    story = next(s for s in diagnosis.sentences if "tightens faster" in s)
    assert "2030: 0.5 unit short of the 2 available (+25.0 %)" in story
    assert "steel in hebei 0.5 10^8 yuan in 2030" in story


def test_a_feasible_phasing_reports_binding_rows_with_their_year(tmp_path):
    diagnosis = diagnose(tightening_water(tmp_path))
    assert diagnosis.feasible
    row = diagnosis.binding[(diagnosis.binding["family"] == "ceiling") & (diagnosis.binding["period"] == 2030)].iloc[0]
    assert row["region"] == "east" and row["shadow_price"] == pytest.approx(0.5)


# --- the shipped scenario --------------------------------------------------------------------------


def test_the_phasing_scenario_is_valid_and_its_periods_tighten(capsys):
    from conftest import ROOT

    path = ROOT / "scenarios" / "phasing_2026_2030.yaml"
    assert main(["validate", str(path)]) == 0
    scenario = model.load_scenario(path)
    assert scenario.periods.years == [2026, 2028, 2030] and scenario.periods.decline_limit is not None
    instances = instances_by_period(scenario, dataset_of(scenario))
    carbon = instances[0].resources.index("carbon")
    assert instances[-1].ceiling[:, carbon].sum() < instances[0].ceiling[:, carbon].sum()
    assert np.all(np.diff([inst.target.sum() for inst in instances]) > 0)


# --- periods with the resilient network --------------------------------------------------------------


def test_one_year_with_chains_backup_and_recourse_is_the_one_period_model(tmp_path):
    from test_network import RECOURSE, coast_chain

    data = coast_chain(tmp_path / "d", u_in_r2=1, u_critical=True)
    keys = dict(backup={"cost": 0.05, "resources": []}, **RECOURSE)
    one = solved(write_scenario(tmp_path / "one.yaml", data, **keys))
    year = solved(write_scenario(tmp_path / "year.yaml", data, periods={"years": [2030]}, **keys))
    assert (year.rows, year.columns, year.integer_columns) == (one.rows, one.columns, one.integer_columns)
    assert year.objective == pytest.approx(one.objective) == pytest.approx(49.7)
    assert year.objective_terms == pytest.approx(one.objective_terms)
    for name in ("flows", "backup", "recourse"):
        assert "period" in year.tables[name].columns and set(year.tables[name]["period"]) == {2030}
    assert year.backup["backup"].sum() == pytest.approx(one.backup["backup"].sum()) == pytest.approx(6)
    # the compact disruption rows are stated as the survival they stand for, year or not
    stated = lambda r: r.constraints[r.constraints["family"] == "disruption"][["rhs", "activity"]].to_numpy()  # noqa: E731
    assert stated(year) == pytest.approx(stated(one))


def test_identical_periods_with_backup_and_recourse_hold_the_same_standby_every_year(tmp_path):
    from test_network import RECOURSE, coast_chain

    data = coast_chain(tmp_path / "d", u_in_r2=1, u_critical=True)
    result = solved(
        write_scenario(
            tmp_path / "s.yaml",
            data,
            backup={"cost": 0.05, "resources": []},
            periods={"years": [2026, 2030], "progress": [1, 1]},
            **RECOURSE,
        )
    )
    assert result.objective == pytest.approx(49.7)
    assert result.backup.groupby("period")["backup"].sum().to_dict() == pytest.approx({2026: 6, 2030: 6})
    recourse = result.recourse.set_index(["period", "disruption", "cluster"])["required"]
    assert recourse.loc[(2026, "coast", "u")] == pytest.approx(6) and recourse.loc[
        (2030, "coast", "u")
    ] == pytest.approx(6)
    terms = result.objective_terms
    assert terms["backup"] == pytest.approx(-0.3) and sum(terms.values()) == pytest.approx(result.objective)
    assert result.summary()["network"]["backup"] == pytest.approx(6)  # the last year's


def test_chain_supply_is_checked_in_every_period(tmp_path, capsys):
    # d's existing 30 exceeds its target 10: halfway, T_d = 20 needs 0.5·20 = 10 of u, whose target is then 5
    from test_network import two_nodes

    data = two_nodes(tmp_path / "d")
    (data / "existing.csv").write_text("cluster,region,output\nd,r2,30\n")
    path = write_scenario(tmp_path / "s.yaml", data, periods={"years": [2026, 2030], "progress": [0.5, 1.0]})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "chain supply impossible in 2026" in err and "downstream of u need" in err
    assert main(["validate", str(write_scenario(tmp_path / "ok.yaml", data, periods={"years": [2030]}))]) == 0
