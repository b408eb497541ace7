"""The resilient network (docs/model.md#chains-corridors-and-backup): chains, corridors, backup and
recourse on small instances whose optimum is worked out by hand, real HiGHS solves.

Every family of the network has a test named after it (`test_every_network_family_is_tested`).
Flows are asserted only where they are unique; elsewhere the objective is.
"""

from __future__ import annotations

import json

import pytest

import model
from model.formulation import FAMILIES, formulate, to_pyomo
from model.instance import Instance
from model.run import Prepared, solve_prepared
from model.scenario import dataset_of
from conftest import DEFAULT_DATA, ROOT, assert_feasible, two_nodes, write_dataset, write_scenario

NETWORK_FAMILIES = (
    "chain_supply",
    "corridor_capacity",
    "backup_total",
    "backup_share",
    "node_output",
    "recourse_capacity",
    "recourse_survival",
    "recourse_supply",
    "recourse_corridor",
)


def solved(tmp_path, data, name="s", **keys) -> model.Result:
    result = model.solve(write_scenario(tmp_path / f"{name}.yaml", data, **keys))
    assert result.status == model.Status.OPTIMAL, result.message
    assert_feasible(result)
    return result


def status(tmp_path, data, **keys) -> model.Status:
    return model.solve(write_scenario(tmp_path / "s.yaml", data, **keys)).status


def flows_of(result) -> dict[tuple[str, str, str], float]:
    return {
        (c, a, b): f
        for c, a, b, f in zip(result.flows["cluster"], result.flows["from"], result.flows["to"], result.flows["flow"])
    }


def output_of(result) -> dict[tuple[str, str], float]:
    layout = result.layout
    return {(c, r): x for c, r, x in zip(layout["cluster"], layout["region"], layout["output"]) if x > 1e-9}


# --- chains and corridors -------------------------------------------------------------------


def test_chain_supply_ships_below_the_break_even_and_co_locates_above(tmp_path):
    # Shipping d's 5 units of u over 1,000 km costs 5·t. Co-locating makes 5 of u in r2 (score 1
    # instead of 3: −10) and opens a third site (−0.1): −10.1. Break-even t = 2.02.
    # t = 2.0: ship, 60 − 0.2 − 10 = 49.8; t = 2.1: co-locate, 60 − 10 − 0.3 = 49.7 (shipping: 49.3).
    ship = solved(tmp_path, two_nodes(tmp_path / "a", transport_cost=2.0))
    assert ship.objective == pytest.approx(49.8)
    assert flows_of(ship) == pytest.approx({("u", "r1", "r2"): 5.0})
    assert ship.objective_terms["transport"] == pytest.approx(-10.0)
    local = solved(tmp_path, two_nodes(tmp_path / "b", transport_cost=2.1))
    assert local.objective == pytest.approx(49.7)
    assert len(local.flows) == 0 and output_of(local) == pytest.approx(
        {("u", "r1"): 5, ("u", "r2"): 5, ("d", "r2"): 10}
    )
    # θ scales every transport cost: 2.1 × 0.5 ships again, at 60 − 0.2 − 5.25
    assert solved(
        tmp_path, two_nodes(tmp_path / "c", transport_cost=2.1), chains={"transport_cost_scale": 0.5}
    ).objective == pytest.approx(60 - 0.2 - 5.25)


def test_chain_supply_without_a_corridor_is_met_in_the_node(tmp_path):
    # no corridor: u must make d's 5 units in r2 itself, as when shipping is dear: 60 − 10 − 0.3
    data = two_nodes(tmp_path / "d", corridor=False)
    assert solved(tmp_path, data).objective == pytest.approx(49.7)


def test_corridor_capacity_forces_a_second_site(tmp_path):
    # capacity 3 on r1 → r2: 3 of d's 5 units shipped, u makes the other 2 in r2 (its second site):
    # u 8·3 + 2·1 = 26, d 30, three sites −0.3 → 55.7 (59.8 without the limit)
    result = solved(tmp_path, two_nodes(tmp_path / "d", capacity=3))
    assert result.objective == pytest.approx(55.7)
    assert output_of(result) == pytest.approx({("u", "r1"): 8, ("u", "r2"): 2, ("d", "r2"): 10})
    assert flows_of(result) == pytest.approx({("u", "r1", "r2"): 3.0})
    sites = result.layout.set_index(["cluster", "region"])["established"]
    assert sites[("u", "r1")] == 1 and sites[("u", "r2")] == 1
    row = result.constraints[result.constraints["family"] == "corridor_capacity"]
    assert set(row["key"]) == {("r1", "r2"), ("r2", "r1")}


def test_corridor_capacity_shrinking_never_raises_the_optimum(tmp_path):
    # metamorphic; by hand: capacity c ≥ 5 → 59.8, c < 5 → 60 − 2·(5 − c) − 0.3
    objectives = []
    for capacity in (None, 6, 5, 4, 2.5, 1, 0):
        objectives.append(solved(tmp_path, two_nodes(tmp_path / f"c{capacity}", capacity=capacity)).objective)
    assert all(a >= b - 1e-9 for a, b in zip(objectives, objectives[1:]))
    expected = [59.8, 59.8, 59.8, 57.7, 54.7, 51.7, 49.7]
    assert objectives == pytest.approx(expected)


def test_zero_transport_cost_on_a_connected_graph_gives_the_optimum_without_chains(tmp_path, every_family):
    # metamorphic: with t = 0 and no corridor capacity, flows are free, so chain_supply asks only
    # Σ_r x_ir ≥ Σ_j q_ij·Σ_r x_jr overall, which the targets meet (Σ_j q_ij·T_j ≤ T_i)
    scenario = model.load_scenario(every_family)
    plain = model.solve(scenario)
    data = dataset_of(scenario).folder
    chained = tmp_path / "chained"
    chained.mkdir()
    for path in data.glob("*.csv"):
        (chained / path.name).write_text(path.read_text())
    (chained / "chains.csv").write_text("upstream,downstream,per_unit\nc2,c0,0.5\nc3,c1,0.4\nc3,c2,0.2\n")
    line = [f"r{n},r{n + 1},{100 * (n + 1)}," for n in range(7)]
    (chained / "corridors.csv").write_text("node_a,node_b,distance_km,capacity\n" + "\n".join(line) + "\n")
    networked = model.solve(scenario.with_overrides({"data": str(chained)}))
    assert networked.status == plain.status == model.Status.OPTIMAL
    assert networked.objective == pytest.approx(plain.objective, rel=1e-9)
    assert networked.rows > plain.rows
    assert_feasible(networked)


# --- backup ----------------------------------------------------------------------------------


def keep_coast(folder, water_r2=12):
    """The tiny dataset (conftest) with a's 10 existing units in r1: keeping 80 % of them holds
    x_a,r1 ≥ 8, so at most 2 of a can sit outside the coast (r1, lost under `coast`)."""
    return write_dataset(
        folder,
        regions=[
            {"region": "r1", "macro_region": "east"},
            {"region": "r2", "macro_region": "central", "hinterland": True},
            {"region": "r3", "macro_region": "west", "hinterland": True},
        ],
        clusters=[{"cluster": "a", "target": 10, "critical": True}, {"cluster": "b", "target": 10}],
        resources=["water", "land"],
        intensity={("a", "water"): 1, ("b", "water"): 1, ("a", "land"): 0.1, ("b", "land"): 0.1},
        capacity={
            ("r1", "water"): 12,
            ("r2", "water"): water_r2,
            ("r3", "water"): 12,
            ("r1", "land"): 100,
            ("r2", "land"): 100,
            ("r3", "land"): 100,
        },
        suitability={("a", "r1"): 3, ("a", "r2"): 2, ("a", "r3"): 1, ("b", "r1"): 1, ("b", "r2"): 1, ("b", "r3"): 1},
        existing={("a", "r1"): 10},
        disruptions={"coast": ["r1"]},
    )


GOALS = {"resilience": {"disruption_survival": 0.6}, "coordination": {"keep_existing": 0.8}}


def test_backup_turns_an_infeasible_disruption_goal_feasible_and_costs_in_the_objective(tmp_path):
    data = keep_coast(tmp_path / "d")
    # without backup: at most 2 of a survive the coast, 6 must: infeasible
    assert status(tmp_path, data, **GOALS) == model.Status.INFEASIBLE
    # with backup (cost 0.05) in the hinterland: a stays 10 in r1 (30), 6 units of standby in r2/r3
    # (−0.3), b 10 anywhere (10): 39.7
    result = solved(tmp_path, data, backup={"cost": 0.05, "resources": ["land"]}, **GOALS)
    assert result.objective == pytest.approx(39.7)
    assert result.objective_terms == pytest.approx(
        {"value": 40.0, "fixed_cost": 0.0, "relocation": 0.0, "transport": 0.0, "backup": -0.3}
    )
    assert sum(result.objective_terms.values()) == pytest.approx(result.objective)
    assert result.backup["backup"].sum() == pytest.approx(6)
    assert set(result.backup["region"]) <= {"r2", "r3"} and set(result.backup["cluster"]) == {"a"}
    a = result.resilience.set_index("cluster").loc["a"]
    assert a["worst_surviving_share"] == pytest.approx(0.6) and a["hinterland_share"] == pytest.approx(0)
    # standby lines occupy land (0.1 a unit) in the ceiling of backup.resources, not water
    used = result.resources.set_index(["region", "resource"])["used"]
    assert used.xs("land", level="resource").sum() == pytest.approx(0.1 * (10 + 10 + 6))
    assert used.xs("water", level="resource").sum() == pytest.approx(20)
    # backup.hinterland_only: false lets standby sit on the coast too, where it does not survive: same optimum
    assert solved(
        tmp_path, data, backup={"cost": 0.05, "resources": ["land"], "hinterland_only": False}, **GOALS
    ).objective == pytest.approx(39.7)


def test_backup_share(tmp_path):
    # at least 70 % of a's target held as standby: 7 units (−0.35) instead of the 6 the coast needs
    data = keep_coast(tmp_path / "d")
    result = solved(tmp_path, data, backup={"cost": 0.05, "share": 0.7, "resources": ["land"]}, **GOALS)
    assert result.objective == pytest.approx(39.65)
    assert result.backup["backup"].sum() == pytest.approx(7)
    # the share alone, without a disruption goal: 40 − 0.35
    assert solved(tmp_path, data, backup={"cost": 0.05, "share": 0.7, "resources": []}).objective == pytest.approx(
        39.65
    )


def test_backup_counts_against_the_cells_capacity(tmp_path):
    # r2's water 5 caps U_a,r2 = 5 (water is not a backup resource, yet x + b ≤ U·y): r2 holds at most
    # 5 of a's standby, r3 the remaining 1 — the optimum is still 39.7, and no cell holds more than U
    data = keep_coast(tmp_path / "d", water_r2=5)
    result = solved(tmp_path, data, backup={"cost": 0.05, "resources": ["land"]}, **GOALS)
    assert result.objective == pytest.approx(39.7)
    held = result.backup.set_index("region")["backup"]
    assert held.get("r2", 0.0) <= 5 + 1e-9 and held.sum() == pytest.approx(6)


def test_link_on_backup_cells_in_the_lp_with_sites_fixed(tmp_path):
    """x + b ≤ min(c_i·T_i, σ·cap/a over resources outside backup.resources)·y there: water (not a
    backup resource) still bounds the cell, land (one) is left to its ceiling; the LP with the sites
    fixed at the optimum has the optimum's objective."""
    data = keep_coast(tmp_path / "d", water_r2=5)
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", data, backup={"resources": ["land"]}, **GOALS))
    inst = Instance.of(scenario, dataset_of(scenario))
    f = formulate(inst)
    link = f.family("link")
    row = link.keys.index(("a", "r2"))
    y = f.start("y") + inst.cell_keys.index(("a", "r2"))
    assert link.matrix[row, y] == pytest.approx(-5) and link.sites_fixed[row, y] == pytest.approx(-5)
    assert link.sites_fixed[
        link.keys.index(("a", "r3")), f.start("y") + inst.cell_keys.index(("a", "r3"))
    ] == pytest.approx(-10)  # c·T_i: land, a backup resource, is left to its ceiling
    from model.solver import HighsModel

    prepared = Prepared(scenario, inst, to_pyomo(f), 0.0)
    highs = HighsModel.from_pyomo(prepared.model)
    outcome = highs.solve(scenario.solver)
    fixed = highs.with_integers_fixed(outcome.col_value, sites_fixed=True)
    assert fixed.objective == pytest.approx(outcome.objective)


def test_backup_total_makes_compact_disruption_rows_equal_the_literal_ones(tmp_path, every_family):
    # Σ_{r∉L_s} (x + b) ≥ ρ·T  ⟺  Σ_{r∈L_s} (x + b) − B ≤ (1 − ρ)·T with B = Σ_r b (backup_total)
    scenario = model.load_scenario(every_family).with_overrides(
        {"backup": {"cost": 0.05, "share": 0.1, "resources": ["land"]}, "resilience.disruption_survival": 0.8}
    )
    compact, literal = both_forms(scenario)
    assert compact.objective == pytest.approx(literal.objective, rel=1e-9)
    f = formulate(Instance.of(scenario, dataset_of(scenario)))
    assert f.family("backup_total") is not None and f.family("backup_total").lower.tolist() == [0.0, 0.0]


# --- compact disruption rows -------------------------------------------------------------------


def both_forms(scenario) -> tuple[model.Result, model.Result]:
    """The scenario solved with the compact rows and with the rows written over the surviving cells."""
    out = []
    for literal in (False, True):
        inst = Instance.of(scenario, dataset_of(scenario))
        result = solve_prepared(Prepared(scenario, inst, to_pyomo(formulate(inst, literal=literal)), 0.0))
        assert result.status == model.Status.OPTIMAL, result.message
        out.append(result)
    return out[0], out[1]


def test_compact_disruption_rows_give_the_literal_optimum(every_family):
    scenario = model.load_scenario(every_family)
    compact, literal = both_forms(scenario)
    assert compact.objective == pytest.approx(literal.objective, rel=1e-9)
    inst = Instance.of(scenario, dataset_of(scenario))
    short, long = formulate(inst).family("disruption"), formulate(inst, literal=True).family("disruption")
    assert short.keys == long.keys and short.matrix.nnz < long.matrix.nnz
    # the constraint table states the compact rows as the literal ones: activity Σ_{r∉L_s} x, limit ρ·T
    rows = compact.constraints[compact.constraints["family"] == "disruption"].set_index("key")
    stated = literal.constraints[literal.constraints["family"] == "disruption"].set_index("key")
    assert (rows["sense"] == ">=").all()
    assert rows["rhs"].to_numpy() == pytest.approx(stated.loc[rows.index, "rhs"].to_numpy())
    assert rows["activity"].to_numpy() == pytest.approx(stated.loc[rows.index, "activity"].to_numpy(), abs=1e-6)


def test_compact_disruption_rows_on_the_default_baseline():
    # without its network the baseline is the model of the sections before chains: the same rows and
    # columns in both forms, fewer nonzeros in the compact one, the same optimum (each within its 1e-4 gap)
    scenario = model.load_scenario(ROOT / "scenarios" / "baseline.yaml", **{"chains.enabled": False})
    compact, literal = both_forms(scenario)
    assert compact.objective == pytest.approx(literal.objective, rel=2e-4)
    assert (compact.rows, compact.columns, compact.integer_columns) == (
        literal.rows,
        literal.columns,
        literal.integer_columns,
    )
    inst = Instance.of(scenario, dataset_of(scenario))
    sizes = {literal: sum(r.matrix.nnz for r in formulate(inst, literal=literal).families) for literal in (False, True)}
    assert sizes[False] < sizes[True]


def test_a_cluster_with_every_cell_lost_is_trivially_infeasible(tmp_path, tiny):
    # a may not go to r2 or r3: nothing of a survives the coast, said without calling HiGHS
    result = model.solve(
        write_scenario(
            tmp_path / "s.yaml",
            tiny,
            resilience={"disruption_survival": 0.6},
            lock_out=[{"cluster": "a", "region": "r2"}, {"cluster": "a", "region": "r3"}],
        )
    )
    assert result.status == model.Status.INFEASIBLE and "disruption ('a', 'coast')" in result.message


# --- recourse --------------------------------------------------------------------------------


def coast_chain(folder, u_in_r2=0.0, u_critical=False):
    """r1 (coast, lost under `coast`) and r2 (hinterland), a corridor between them; u feeds the
    critical d with q = 0.5. u scores 3 in r1 and `u_in_r2` in r2 (0: it cannot go there); d
    scores 1 in r1, 2 in r2. Targets 10. Unconstrained: u 10 in r1 (30), d 10 in r2 (20) = 50."""
    suitability = {("u", "r1"): 3, ("d", "r1"): 1, ("d", "r2"): 2}
    if u_in_r2:
        suitability[("u", "r2")] = u_in_r2
    return write_dataset(
        folder,
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[
            {"cluster": "u", "target": 10, "critical": u_critical},
            {"cluster": "d", "target": 10, "critical": True},
        ],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 100, ("r2", "land"): 100},
        suitability=suitability,
        disruptions={"coast": ["r1"]},
        chains={("u", "d"): 0.5},
        corridors={("r1", "r2"): 1000},
    )


RECOURSE = {"resilience": {"disruption_survival": 0.6}, "chains": {"recourse": True}}


def test_recourse_survival_fails_when_the_only_supplier_is_lost(tmp_path):
    # d survives the coast (all of it sits in r2), but its 0.5 × 6 units of u come only from r1
    data = coast_chain(tmp_path / "d")
    plain = solved(tmp_path, data, resilience={"disruption_survival": 0.6})
    assert plain.objective == pytest.approx(50) and flows_of(plain) == pytest.approx({("u", "r1", "r2"): 5})
    assert status(tmp_path, data, **RECOURSE) == model.Status.INFEASIBLE


def test_recourse_supply_holds_with_a_second_upstream_site_in_the_hinterland(tmp_path):
    # u may go to r2 (score 1): under the coast d keeps 6 in r2 and needs 3 of u there, which u makes
    # in r2 itself (the corridor is cut with r1): u r1 7 (21) + r2 3 (3), d 20 → 44
    result = solved(tmp_path, coast_chain(tmp_path / "d", u_in_r2=1), **RECOURSE)
    assert result.objective == pytest.approx(44)
    assert output_of(result) == pytest.approx({("u", "r1"): 7, ("u", "r2"): 3, ("d", "r2"): 10})
    recourse = result.recourse.set_index(["disruption", "cluster"])
    assert recourse.loc[("coast", "u")].to_dict() == pytest.approx({"surviving": 3, "required": 3, "cut_arcs": 2})
    assert recourse.loc[("coast", "d")].to_dict() == pytest.approx({"surviving": 10, "required": 6, "cut_arcs": 2})


def test_recourse_capacity_counts_backup(tmp_path):
    # u critical with backup: the disruption goal asks 6 of u to survive, standby in r2 (−0.3) is
    # cheaper than making it there (−12); that standby also feeds d's 3 under recourse: 50 − 0.3
    data = coast_chain(tmp_path / "d", u_in_r2=1, u_critical=True)
    result = solved(tmp_path, data, backup={"cost": 0.05, "resources": []}, **RECOURSE)
    assert result.objective == pytest.approx(49.7)
    assert result.backup.set_index(["cluster", "region"])["backup"].to_dict() == pytest.approx({("u", "r2"): 6})
    assert result.recourse.set_index(["disruption", "cluster"]).loc[("coast", "u"), "required"] == pytest.approx(6)


def hub(folder, bypass_capacity):
    """Nodes a (u only), b (a hub nobody can host), c (the critical d only), e (a bypass); u feeds d
    with q = 0.5, transport cost 1 per unit per 1,000 km. Corridors a–b, b–c of 300 km, a–e, e–c of
    500 km (e–c with `bypass_capacity`). Disruption `hub` loses b: a–b and b–c are cut."""
    return write_dataset(
        folder,
        regions=[{"region": r} for r in "abce"],
        clusters=[
            {"cluster": "u", "target": 10, "transport_cost": 1.0},
            {"cluster": "d", "target": 10, "critical": True},
        ],
        resources=["land"],
        intensity={},
        capacity={(r, "land"): 100 for r in "abce"},
        suitability={("u", "a"): 1, ("d", "c"): 1},
        disruptions={"hub": ["b"]},
        chains={("u", "d"): 0.5},
        corridors={("a", "b"): 300, ("b", "c"): 300, ("a", "e"): 500, ("e", "c"): (500, bypass_capacity)},
    )


def test_recourse_corridor_reroutes_around_a_cut_arc(tmp_path):
    # Normal flows take the short way a → b → c (600 km: cost 5 × 0.6 = 3): 10 + 10 − 3 = 17.
    # Under `hub`, 0.5 × 6 = 3 of u must reach c the long way, a → e → c: a bypass of capacity 4 holds,
    # one of 2 does not (recourse has no cost, so the optimum does not move).
    result = solved(tmp_path, hub(tmp_path / "wide", 4), **RECOURSE)
    assert result.objective == pytest.approx(17)
    assert flows_of(result) == pytest.approx({("u", "a", "b"): 5, ("u", "b", "c"): 5})
    assert set(result.recourse["cut_arcs"]) == {4}
    assert status(tmp_path, hub(tmp_path / "narrow", 2), **RECOURSE) == model.Status.INFEASIBLE
    assert (
        status(tmp_path, hub(tmp_path / "narrow", 2), resilience={"disruption_survival": 0.6}) == model.Status.OPTIMAL
    )


def counties(folder):
    """Two nodes of four regions each (east e1..e4, west w1..w4); `quake` loses w1 only. u (upstream of
    the critical d, q = 0.5) scores 1 everywhere; d may go to the west only, scoring 3 in w1 and 1 in
    w2..w4. No ceiling binds; a 400 km corridor east–west, transport cost 0."""
    regions = [{"region": f"e{n}", "node": "east"} for n in range(1, 5)]
    regions += [{"region": f"w{n}", "node": "west", "hinterland": True} for n in range(1, 5)]
    ids = [r["region"] for r in regions]
    suitability = {("u", r): 1.0 for r in ids} | {("d", f"w{n}"): s for n, s in zip(range(1, 5), (3, 1, 1, 1))}
    return write_dataset(
        folder,
        regions=regions,
        clusters=[{"cluster": "u", "target": 10}, {"cluster": "d", "target": 10, "critical": True}],
        resources=["land"],
        intensity={},
        capacity={(r, "land"): 100 for r in ids},
        suitability=suitability,
        disruptions={"quake": ["w1"]},
        chains={("u", "d"): 0.5},
        corridors={("east", "west"): 400},
    )


def test_node_output_writes_recourse_capacity_against_node_totals(tmp_path):
    # A recourse_capacity row goes against the node total X_in when that has fewer nonzeros: in the
    # west 1 of 4 regions is lost (X − x_w1: 2 nonzeros, literal x_w2 + x_w3 + x_w4: 3), in the east
    # none (X: 1 against 4). By hand: 60 % of d must survive outside w1, so d keeps 4 in w1 (12) and
    # 6 in w2..w4 (6); its 3 units of u under the quake come from anywhere in the west or over the
    # corridor; u scores 1 everywhere (10): 28 — in both forms.
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", counties(tmp_path / "d"), **RECOURSE))
    inst = Instance.of(scenario, dataset_of(scenario))
    compact, literal = formulate(inst), formulate(inst, literal=True)
    assert compact.family("node_output").keys == [("u", "east"), ("u", "west"), ("d", "west")]
    assert literal.family("node_output") is None
    assert compact.family("recourse_capacity").keys == literal.family("recourse_capacity").keys
    assert compact.family("recourse_capacity").matrix.nnz < literal.family("recourse_capacity").matrix.nnz
    a, b = both_forms(scenario)
    assert a.objective == pytest.approx(28) and b.objective == pytest.approx(28)
    assert_feasible(a)


def test_every_network_family_is_tested():
    tested = {name[len("test_") :] for name in globals() if name.startswith("test_")}
    assert set(NETWORK_FAMILIES) <= set(FAMILIES)
    for family in NETWORK_FAMILIES:
        assert any(t.startswith(family) for t in tested), f"constraint family {family} has no test of its own"


# --- without a network the model is today's ------------------------------------------------------


def test_without_network_and_backup_the_model_has_no_network_rows(tmp_path, every_family):
    scenario = model.load_scenario(every_family)
    f = formulate(Instance.of(scenario, dataset_of(scenario)))
    assert not {rows.family for rows in f.families} & set(NETWORK_FAMILIES)
    assert [v.name for v in f.variables] == ["x", "y", "d", "excess"]
    # chains.enabled: false ignores chains.csv and corridors.csv
    data = two_nodes(tmp_path / "d")
    off = model.load_scenario(write_scenario(tmp_path / "off.yaml", data, chains={"enabled": False}))
    assert Instance.of(off, dataset_of(off)).network is None
    assert model.solve(off).objective == pytest.approx(59.8)


# --- run folder --------------------------------------------------------------------------------


def test_run_folder_has_flows_backup_recourse_and_objective_terms(tmp_path):
    data = coast_chain(tmp_path / "d", u_in_r2=1, u_critical=True)
    result = solved(tmp_path, data, backup={"cost": 0.05, "resources": []}, **RECOURSE)
    out = result.write(tmp_path / "run")
    for name, columns in (
        ("flows", ["cluster", "from", "to", "flow", "distance_km"]),
        ("backup", ["cluster", "region", "backup"]),
        ("recourse", ["disruption", "cluster", "surviving", "required", "cut_arcs"]),
    ):
        assert (out / f"{name}.csv").read_text().splitlines()[0] == ",".join(columns)
    summary = json.loads((out / "summary.json").read_text())
    terms = summary["objective_terms"]
    assert set(terms) == {"value", "fixed_cost", "relocation", "transport", "backup"}
    assert sum(terms.values()) == pytest.approx(summary["objective"])
    assert summary["network"]["backup"] == pytest.approx(6)
    back = model.Result.read(out)
    assert back.objective_terms == pytest.approx(terms) and back.backup["backup"].sum() == pytest.approx(6)
    assert back.recourse is not None and back.flows is not None


def test_objective_terms_without_network_sum_to_the_objective(tmp_path, every_family):
    result = model.solve(every_family)
    terms = result.objective_terms
    assert terms["transport"] == 0 and terms["backup"] == 0 and terms["relocation"] < 0
    assert sum(terms.values()) == pytest.approx(result.objective)
    assert result.flows is None and result.backup is None and result.recourse is None


def test_solve_prints_a_network_line(tmp_path, capsys):
    from model.cli import main

    scenario = write_scenario(tmp_path / "s.yaml", two_nodes(tmp_path / "d", transport_cost=1.0))
    assert main(["solve", str(scenario), "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    assert "network: 1 arc carry 5.0 over 1,000 km on average, transport cost 5.0" in printed


# --- diagnose ---------------------------------------------------------------------------------


def test_diagnose_relaxes_corridor_capacity_backup_share_and_recourse_survival(tmp_path):
    from model.diagnose import diagnose

    # u only in r1, d only in r2, a corridor of capacity 1: d's need of 5 cannot reach it; chain_supply
    # stays hard, so the corridor gives 4
    found = diagnose(write_scenario(tmp_path / "a.yaml", two_nodes(tmp_path / "a", capacity=1, apart=True)))
    rows = found.diagnosis.set_index("family")
    assert list(rows.index) == ["corridor_capacity"] and rows.loc["corridor_capacity", "shortfall"] == pytest.approx(4)
    assert rows.loc["corridor_capacity", "region"] == "r1->r2"
    # recourse with the only supplier on the coast: nothing of d's chain survives, recourse_survival gives 6
    found = diagnose(write_scenario(tmp_path / "b.yaml", coast_chain(tmp_path / "b"), **RECOURSE))
    rows = found.diagnosis.set_index("family")
    assert list(rows.index) == ["recourse_survival"] and rows.loc["recourse_survival", "shortfall"] == pytest.approx(6)
    assert rows.loc["recourse_survival", "disruption"] == "coast"
    # a backup share nobody can hold: a cannot go to the hinterland at all
    data = write_dataset(
        tmp_path / "c",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 100, ("r2", "land"): 100},
        suitability={("a", "r1"): 1},
    )
    found = diagnose(write_scenario(tmp_path / "c.yaml", data, backup={"share": 0.5, "resources": []}))
    assert found.diagnosis["family"].tolist() == ["backup_share"]
    assert found.diagnosis["shortfall"].iloc[0] == pytest.approx(5)


def test_diagnose_states_compact_disruption_rows_as_survival(tmp_path):
    from model.diagnose import diagnose

    # a (critical, target 10) fits 3 outside the coast (r2's water 3), 6 must survive. The disruption
    # goal gives 3 (weight 3 / (0.6·10) = 0.5) rather than r2's water (3 / 3 = 1). With --relax-targets
    # a target shortfall would satisfy a compact row that counted T_i as produced (3 / 10 = 0.3, cheaper);
    # it must not: the row still asks 6 of what is produced.
    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}, {"cluster": "b", "target": 10}],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={("r1", "water"): 20, ("r2", "water"): 3},
        suitability={("a", "r1"): 3, ("a", "r2"): 2, ("b", "r1"): 1, ("b", "r2"): 1},
        disruptions={"coast": ["r1"]},
    )
    for relax in (False, True):
        found = diagnose(
            write_scenario(tmp_path / "s.yaml", data, resilience={"disruption_survival": 0.6}), relax_targets=relax
        )
        assert found.diagnosis["family"].tolist() == ["disruption"], found.sentences
        assert found.diagnosis["shortfall"].iloc[0] == pytest.approx(3)
        assert "short of the 6 that must survive" in "\n".join(found.sentences)


def test_shipped_resilient_network_scenario():
    path = ROOT / "scenarios" / "resilient_network.yaml"
    scenario = model.load_scenario(path)
    assert scenario.backup is not None and scenario.backup.share and scenario.chains.recourse
    assert scenario.resilience.disruptions == ["eastern_seaboard_blockade"]
    if not dataset_of(scenario).has_network:
        pytest.skip("the default dataset has no chains.csv and corridors.csv yet")
    result = model.solve(scenario)
    assert result.status == model.Status.OPTIMAL, result.message
    assert_feasible(result)
    assert result.recourse is not None and len(result.backup)
    assert DEFAULT_DATA.is_dir()
