"""Each constraint family binds on a tiny instance and moves the optimum to a value worked out by hand.

The `tiny` dataset (conftest): clusters a (critical, category future, target 10, scores r1 3 / r2 2 /
r3 1) and b (traditional, target 10, score 1 everywhere); one resource, water, intensity 1,
ceiling 12 in every region; r2 and r3 are hinterland, r2 is in strategy `pole`, disruption
`coast` loses r1. With no goal switched on the optimum is a: r1 10 (30) + b 10 (10) = 40.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

import model
from model.formulation import FAMILIES, build_model
from model.instance import Instance
from model.scenario import dataset_of
from conftest import write_dataset, write_scenario


def optimum(tmp_path, data, **keys) -> float:
    result = model.solve(write_scenario(tmp_path / "s.yaml", data, **keys))
    assert result.status == model.Status.OPTIMAL, result.message
    return result.objective


def test_no_goals(tmp_path, tiny):
    assert optimum(tmp_path, tiny) == pytest.approx(40)


def test_target(tmp_path, tiny):
    # a 5 in r1 (15) + b 5 (5)
    assert optimum(tmp_path, tiny, targets={"scale": 0.5}) == pytest.approx(20)
    # a 15: r1 12 (36) + r2 3 (6); b 10
    assert optimum(tmp_path, tiny, targets={"clusters": {"a": 1.5}}) == pytest.approx(52)


def test_ceiling_and_its_shadow_price(tmp_path, tiny):
    # r1 water 6: a r1 6 (18) + r2 4 (8); b 10. One more unit in r1 moves a unit of a from r2 to r1: +1.
    result = model.solve(write_scenario(tmp_path / "s.yaml", tiny, ceilings={"water": {"regions": {"r1": 0.5}}}))
    assert result.objective == pytest.approx(36)
    r1 = result.resources.set_index(["region", "resource"]).loc[("r1", "water")]
    assert r1["available"] == pytest.approx(6) and r1["utilization"] == pytest.approx(1)
    assert r1["shadow_price"] == pytest.approx(1)
    assert list(result.binding_ceilings()["region"]) == ["r1"]
    # a global scale applies to every region and multiplies the regional factor
    assert optimum(tmp_path, tiny, ceilings={"water": {"scale": 0.5, "regions": {"r1": 2.0}}}) == pytest.approx(
        # caps r1 12, r2 6, r3 6: a r1 10 (30); b r1 2 + 8 elsewhere (10)
        40
    )


def _shadow_prices(result, family: str) -> dict:
    rows = result.constraints[result.constraints["family"] == family]
    return dict(zip(rows["key"], rows["shadow_price"]))


@pytest.mark.parametrize(
    "capacity, price",
    [
        ({"r1": 6}, {("r1", "water"): 1.0}),  # a's link bound in r1 is 6, the very limit of the ceiling
        ({"r1": 4}, {("r1", "water"): 1.0}),  # 4: a r1 4 (12) + r2 6 (12) + b 10 (10); one more in r1 is +1
    ],
)
def test_link_does_not_take_the_shadow_price_of_a_ceiling_it_ties_with(tmp_path, capacity, price):
    # In the LP with the sites fixed, link reads x ≤ c·T·y and so never repeats the ceiling's limit:
    # the dual of the binding ceiling is the ceiling's, whatever path the simplex takes.
    result = model.solve(write_scenario(tmp_path / "s.yaml", _variant(tmp_path, capacity=capacity)))
    ceilings = _shadow_prices(result, "ceiling")
    for key, value in price.items():
        assert ceilings[key] == pytest.approx(value)
    assert all(abs(v) < 1e-9 for v in _shadow_prices(result, "link").values())


def test_two_tied_ceilings_share_the_price_and_link_takes_none(tmp_path):
    # water and land both 6 in r1, both intensity 1 for a and b: together they are worth +1 per unit more.
    data = write_dataset(
        tmp_path / "two",
        regions=[{"region": "r1"}, {"region": "r2", "macro_region": "central"}],
        clusters=[{"cluster": "a", "target": 10}],
        resources=["water", "land"],
        intensity={("a", "water"): 1, ("a", "land"): 1},
        capacity={("r1", "water"): 6, ("r1", "land"): 6, ("r2", "water"): 12, ("r2", "land"): 12},
        suitability={("a", "r1"): 3, ("a", "r2"): 2},
    )
    result = model.solve(write_scenario(tmp_path / "s.yaml", data))
    assert result.objective == pytest.approx(6 * 3 + 4 * 2)
    ceilings = _shadow_prices(result, "ceiling")
    assert ceilings[("r1", "water")] + ceilings[("r1", "land")] == pytest.approx(1)
    assert all(abs(v) < 1e-9 for v in _shadow_prices(result, "link").values())


def test_link_keeps_the_concentration_cap_in_the_lp_with_the_sites_fixed(tmp_path, tiny):
    # a critical, cap 0.6: r1 6 (18) + r2 4 (8); b 10. One more unit of cap (0.1·T = 1) moves a unit r2 → r1: +1.
    result = model.solve(write_scenario(tmp_path / "s.yaml", tiny, resilience={"concentration_cap": 0.6}))
    assert result.objective == pytest.approx(36)
    assert _shadow_prices(result, "link")[("a", "r1")] == pytest.approx(1)


def test_diminishing_returns(tmp_path, tiny):
    # h 0.3, g 0.6: the first 3 of a target of 10 in a region earn s, the rest 0.6·s.
    # a: 3 in r1 (9) and 3 in r2 (6), then r1's excess at 0.6·3 = 1.8 beats r2's 1.2 and r3's 1: 4 more
    # in r1 (7.2) → 22.2; b: 3 in each region (9) and the last unit at 0.6 → 9.6; in all 31.8.
    keys = {"coordination": {"diminishing_returns": {"share": 0.3, "factor": 0.6}}}
    result = model.solve(write_scenario(tmp_path / "s.yaml", tiny, **keys))
    assert result.objective == pytest.approx(31.8)
    a = result.layout.set_index(["cluster", "region"])["output"]["a"]
    assert a[a > 0].to_dict() == pytest.approx({"r1": 7, "r2": 3})
    # factor 1 and share 1 are the model without diminishing returns
    for off in ({"share": 0.3, "factor": 1.0}, {"share": 1.0, "factor": 0.6}):
        assert optimum(tmp_path, tiny, coordination={"diminishing_returns": off}) == pytest.approx(40)


def test_min_scale(tmp_path):
    data = _variant(tmp_path, clusters={"a": {"min_scale": 6}}, capacity={"r1": 7})
    # without min_scale: a r1 7 (21) + r2 3 (6) + b 10 = 37; with it a cannot split 7 + 3, so a sits in r2 alone
    assert optimum(tmp_path, _variant(tmp_path / "x", capacity={"r1": 7})) == pytest.approx(37)
    assert optimum(tmp_path, data) == pytest.approx(30)


def test_link_concentration_cap(tmp_path, tiny):
    # no region above 60 % of the critical a: r1 6 (18) + r2 4 (8); b 10
    assert optimum(tmp_path, tiny, resilience={"concentration_cap": 0.6}) == pytest.approx(36)


def test_link_bound_from_ceiling_blocks_cells_below_min_scale(tmp_path):
    # U for a in r1 is 2 (ceiling 2 / intensity 1) < min_scale 3: no site of a in r1
    data = _variant(tmp_path, clusters={"a": {"min_scale": 3}}, capacity={"r1": 2})
    assert optimum(tmp_path, data) == pytest.approx(20 + 10)


def test_max_sites_and_its_scale(tmp_path):
    data = _variant(tmp_path, clusters={"a": {"max_sites": 1}}, capacity={"r1": 7})
    assert optimum(tmp_path, data) == pytest.approx(30)  # a alone in r2 (20) + b 10
    scaled = _variant(tmp_path / "x", clusters={"a": {"max_sites": 3}}, capacity={"r1": 7})
    # ⌊3 × 0.5⌋ = 1
    assert optimum(tmp_path, scaled, coordination={"max_sites_scale": 0.5}) == pytest.approx(30)
    # max(1, ⌊3 × 0.1⌋) = 1, never 0
    assert optimum(tmp_path, scaled, coordination={"max_sites_scale": 0.1}) == pytest.approx(30)


def test_min_sites(tmp_path):
    data = _variant(tmp_path, clusters={"a": {"min_scale": 1, "fixed_cost": 1}})
    # one site: 30 − 1 + 10 = 39; two sites of at least 1: r1 9 (27) + r2 1 (2) − 2 + 10 = 37
    assert optimum(tmp_path, data) == pytest.approx(39)
    assert optimum(tmp_path, data, resilience={"min_sites": 2}) == pytest.approx(37)


def test_hinterland(tmp_path, tiny):
    # half of a in r2 + r3: r1 5 (15) + r2 5 (10); b 10
    assert optimum(tmp_path, tiny, resilience={"hinterland_share": 0.5}) == pytest.approx(35)


def test_disruption(tmp_path, tiny):
    # 60 % of a outside r1: r1 4 (12) + r2 6 (12); b 10
    assert optimum(tmp_path, tiny, resilience={"disruption_survival": 0.6}) == pytest.approx(34)
    # an empty list of active disruptions switches the family off
    assert optimum(tmp_path, tiny, resilience={"disruption_survival": 0.6, "disruptions": []}) == pytest.approx(40)


def test_goals_apply_to_critical_clusters_only(tmp_path):
    data = _variant(tmp_path, clusters={"a": {"critical": False}})
    keys = {
        "resilience": {"hinterland_share": 0.5, "disruption_survival": 0.6, "concentration_cap": 0.5, "min_sites": 3}
    }
    assert optimum(tmp_path, data, **keys) == pytest.approx(40)


def test_balance(tmp_path, tiny):
    # r3 (west) must hold 55 % of 20 = 11: b 10 + a 1 there; a r1 9 (27) + r3 1 (1) + b 10 = 38
    assert optimum(tmp_path, tiny, coordination={"balance": {"west": 0.55}}) == pytest.approx(38)


def test_keep_existing(tmp_path):
    data = _variant(tmp_path, existing={("a", "r3"): 5})
    assert optimum(tmp_path, data) == pytest.approx(40)
    # a keeps 80 % of 5 in r3: r1 6 (18) + r3 4 (4); b 10
    assert optimum(tmp_path, data, coordination={"keep_existing": 0.8}) == pytest.approx(32)


def test_lock_in(tmp_path, tiny):
    # a r1 7 (21) + r3 3 (3); b 10
    assert optimum(tmp_path, tiny, lock_in=[{"cluster": "a", "region": "r3", "min_output": 3}]) == pytest.approx(34)
    # without min_output the lock-in asks for the minimum scale: here the site and 2 units
    data = _variant(tmp_path, clusters={"a": {"min_scale": 2}})
    assert optimum(tmp_path, data, lock_in=[{"cluster": "a", "region": "r3"}]) == pytest.approx(24 + 2 + 10)


def test_lock_out(tmp_path, tiny):
    # a may not go to r1: r2 10 (20) + b 10
    assert optimum(tmp_path, tiny, lock_out=[{"cluster": "a", "region": "r1"}]) == pytest.approx(30)
    assert optimum(tmp_path, tiny, lock_out=[{"category": "future", "macro_region": "east"}]) == pytest.approx(30)
    # an omitted region side matches every region: b may go nowhere, its target cannot be met
    result = model.solve(write_scenario(tmp_path / "s.yaml", tiny, lock_out=[{"cluster": "b"}]))
    assert result.status == model.Status.INFEASIBLE


def test_growth_pole(tmp_path, tiny):
    # half of the future category (a) in strategy area `pole` (r2): r1 5 (15) + r2 5 (10); b 10
    assert optimum(
        tmp_path, tiny, growth_poles=[{"strategy": "pole", "category": "future", "share": 0.5}]
    ) == pytest.approx(35)


def test_relocation(tmp_path):
    data = _variant(tmp_path, existing={("b", "r1"): 4})
    # κ 0.5: keeping b's 4 in r1 displaces 2 of a (−2); moving 2 of it costs 1 → 40 − 1 = 39
    assert optimum(tmp_path, data, objective={"relocation_cost": 0.5}) == pytest.approx(39)
    # existing output in a locked-out cell is all relocated: the constant −0.5 × 4
    assert optimum(
        tmp_path, data, objective={"relocation_cost": 0.5}, lock_out=[{"cluster": "b", "region": "r1"}]
    ) == pytest.approx(38)


def test_fixed_cost_only_for_new_sites(tmp_path):
    data = _variant(tmp_path, clusters={"a": {"fixed_cost": 5}, "b": {"fixed_cost": 1}}, existing={("a", "r1"): 1})
    # a stays at its existing site r1 (no fixed cost); b opens one site (−1)
    assert optimum(tmp_path, data) == pytest.approx(39)
    assert optimum(tmp_path, data, objective={"fixed_cost_weight": 2.0}) == pytest.approx(38)


def test_every_family_is_tested():
    """The families of the resilient network have theirs in test_network.py (its own registry test)."""
    import test_network

    tested = {name[len("test_") :] for name in list(globals()) + dir(test_network) if name.startswith("test_")}
    for family in FAMILIES:
        assert any(t.startswith(family) for t in tested), f"constraint family {family} has no test of its own"


# --- an independent check by enumeration -------------------------------------------------------


def _variant(folder, clusters=None, capacity=None, existing=None):
    """The tiny dataset with some cluster columns, water ceilings or existing outputs changed."""
    base = {"a": {"target": 10, "critical": True, "category": "future"}, "b": {"target": 10, "category": "traditional"}}
    for c, change in (clusters or {}).items():
        base[c] |= change
    caps = {"r1": 12, "r2": 12, "r3": 12} | (capacity or {})
    return write_dataset(
        folder / "variant",
        regions=[
            {"region": "r1", "macro_region": "east"},
            {"region": "r2", "macro_region": "central", "hinterland": True, "strategies": ["pole"]},
            {"region": "r3", "macro_region": "west", "hinterland": True},
        ],
        clusters=[{"cluster": c} | v for c, v in base.items()],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={(r, "water"): v for r, v in caps.items()},
        suitability={("a", "r1"): 3, ("a", "r2"): 2, ("a", "r3"): 1, ("b", "r1"): 1, ("b", "r2"): 1, ("b", "r3"): 1},
        existing=existing,
        disruptions={"coast": ["r1"]},
    )


def _enumerate(tmp_path, data, keys) -> float:
    """The model of docs/model.md written out again as dense LPs, one per site pattern y, solved by scipy."""
    inst = Instance.of(
        model.load_scenario(write_scenario(tmp_path / "e.yaml", data, **keys)),
        dataset_of(model.load_scenario(tmp_path / "e.yaml")),
    )
    cells = list(zip(inst.cells["i"], inst.cells["r"]))
    n = len(cells)
    best = -np.inf
    for pattern in itertools.product((0, 1), repeat=n):
        y = np.array(pattern)
        lock = {(inst.clusters.index(l.cluster), inst.regions.index(l.region)): l.min_output for l in inst.lock_in}
        if any(y[cells.index(c)] == 0 for c in lock):
            continue
        if any(
            y[[k for k, c in enumerate(cells) if c[0] == i]].sum() > inst.max_sites[i]
            for i in range(len(inst.clusters))
        ):
            continue
        if inst.min_sites is not None and any(
            y[[k for k, c in enumerate(cells) if c[0] == i]].sum() < inst.min_sites
            for i in range(len(inst.clusters))
            if inst.critical[i]
        ):
            continue
        A_ub, b_ub, A_eq, b_eq = [], [], [], []
        for i in range(len(inst.clusters)):
            A_eq.append([1.0 if c[0] == i else 0.0 for c in cells])
            b_eq.append(inst.target[i])
        for r in range(len(inst.regions)):
            for k in range(len(inst.resources)):
                A_ub.append([inst.intensity[c[0], k] if c[1] == r else 0.0 for c in cells])
                b_ub.append(inst.ceiling[r, k])
        for i in range(len(inst.clusters)):
            if not inst.critical[i]:
                continue
            if inst.hinterland_share is not None:
                A_ub.append([-1.0 if c[0] == i and inst.hinterland[c[1]] else 0.0 for c in cells])
                b_ub.append(-inst.hinterland_share * inst.target[i])
            if inst.disruption_survival is not None:
                for lost in inst.disruptions.values():
                    A_ub.append([-1.0 if c[0] == i and not lost[c[1]] else 0.0 for c in cells])
                    b_ub.append(-inst.disruption_survival * inst.target[i])
        for macro, share in inst.balance.items():
            A_ub.append([-1.0 if inst.macro_region[c[1]] == macro else 0.0 for c in cells])
            b_ub.append(-share * inst.target.sum())
        bounds = []
        for k, (i, r) in enumerate(cells):
            c_i = inst.concentration_cap if inst.critical[i] and inst.concentration_cap is not None else 1.0
            U = min(
                [c_i * inst.target[i]]
                + [
                    inst.ceiling[r, kk] / inst.intensity[i, kk]
                    for kk in range(len(inst.resources))
                    if inst.intensity[i, kk] > 0
                ]
            )
            lo = inst.min_scale[i] * y[k]
            lo = max(lo, inst.keep_existing * inst.cells["existing"].iloc[k]) if inst.keep_existing > 0 else lo
            lo = max(lo, lock.get((i, r), 0.0))
            bounds.append((lo, U * y[k]))
        if any(lo > hi + 1e-9 for lo, hi in bounds):
            continue
        cost = -inst.cells["score"].to_numpy()
        lp = linprog(
            cost,
            A_ub=np.array(A_ub) if A_ub else None,
            b_ub=b_ub or None,
            A_eq=np.array(A_eq),
            b_eq=b_eq,
            bounds=bounds,
            method="highs",
        )
        if lp.status != 0:
            continue
        x = lp.x
        e = inst.cells["existing"].to_numpy()
        fixed = sum(inst.fixed_cost[c[0]] * y[k] for k, c in enumerate(cells) if e[k] == 0)
        relocated = np.maximum(e - x, 0).sum()
        best = max(best, -lp.fun - inst.fixed_cost_weight * fixed - inst.relocation_cost * relocated + inst.constant)
    return best


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"resilience": {"concentration_cap": 0.6, "hinterland_share": 0.3, "disruption_survival": 0.6, "min_sites": 2}},
        {"coordination": {"balance": {"west": 0.3}, "keep_existing": 0.5}, "objective": {"relocation_cost": 0.3}},
        {
            "lock_in": [{"cluster": "b", "region": "r1", "min_output": 2}],
            "objective": {"fixed_cost_weight": 2.0},
            "ceilings": {"water": {"scale": 0.9, "regions": {"r2": 0.5}}},
        },
    ],
)
def test_optimum_equals_enumeration(tmp_path, keys):
    data = _variant(
        tmp_path,
        clusters={"a": {"min_scale": 2, "fixed_cost": 1.5, "max_sites": 2}, "b": {"min_scale": 1, "fixed_cost": 0.5}},
        capacity={"r1": 9},
        existing={("b", "r3"): 3, ("a", "r2"): 2},
    )
    expected = _enumerate(tmp_path, data, keys)
    assert optimum(tmp_path, data, **keys) == pytest.approx(expected, abs=1e-6)


def test_variables_on_allowed_cells_only(tmp_path):
    data = write_dataset(
        tmp_path / "sparse",
        regions=[{"region": "r1"}, {"region": "r2"}],
        clusters=[{"cluster": "a", "target": 1}],
        resources=["land"],
        intensity={("a", "land"): 1},
        capacity={("r1", "land"): 5, ("r2", "land"): 5},
        suitability={("a", "r1"): 1},
    )
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", data))
    m = build_model(Instance.of(scenario, dataset_of(scenario)))
    assert list(m.x) == [("a", "r1")] and list(m.y) == [("a", "r1")]


def test_families_are_keyed_pyomo_components_that_pyomo_can_write(tmp_path, tiny):
    """`m.ceiling["r1", "water"]` is a row with the family's key and bound, and the model written by
    Pyomo's own LP writer solves, in HiGHS, to the optimum `model.solve` finds (40, by hand)."""
    import highspy

    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny))
    m = build_model(Instance.of(scenario, dataset_of(scenario)))
    row = m.ceiling["r1", "water"]
    assert row.index() == ("r1", "water") and row.upper == 12 and row.lower is None
    assert ("r2", "water") in m.ceiling and list(m.target) == ["a", "b"]
    assert m.target["a"].lower == m.target["a"].upper == 10
    m.write(str(tmp_path / "m.lp"), io_options={"symbolic_solver_labels": True})
    assert "ceiling(r1_water)" in (tmp_path / "m.lp").read_text()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(tmp_path / "m.lp"))
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(40)
