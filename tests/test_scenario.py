"""Scenario files: neutral values, extends, overrides, the resolved scenario, and clear errors."""

from __future__ import annotations

import pytest
import yaml

import model
from model.errors import InputError
from model.scenario import parse_assignment
from conftest import write_scenario


def test_absent_keys_take_neutral_values(tmp_path, tiny):
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny))
    assert scenario.targets.scale == 1 and scenario.targets.clusters == {}
    assert scenario.resilience.concentration_cap is None and scenario.resilience.hinterland_share is None
    assert scenario.resilience.disruption_survival is None and scenario.resilience.min_sites is None
    assert scenario.resilience.disruptions == "all"
    assert scenario.coordination.keep_existing == 0 and scenario.coordination.balance == {}
    assert scenario.coordination.max_sites_scale == 1
    assert scenario.objective.fixed_cost_weight == 1 and scenario.objective.relocation_cost == 0
    assert not scenario.lock_in and not scenario.lock_out and not scenario.growth_poles


def test_name_defaults_to_file_stem(tmp_path, tiny):
    path = tmp_path / "my_case.yaml"
    path.write_text(f"data: {tiny}\n")
    assert model.load_scenario(path).name == "my_case"


def test_extends_merges_key_by_key_and_data_is_relative_to_its_file(tmp_path, tiny):
    (tmp_path / "parent").mkdir()
    parent = tmp_path / "parent" / "base.yaml"
    parent.write_text(
        yaml.safe_dump(
            {
                "name": "base",
                "data": "../tiny",
                "resilience": {"hinterland_share": 0.3, "min_sites": 2},
                "ceilings": {"water": {"scale": 0.9}},
            }
        )
    )
    child = tmp_path / "child.yaml"
    child.write_text(
        yaml.safe_dump(
            {
                "name": "child",
                "extends": "parent/base.yaml",
                "resilience": {"hinterland_share": 0.4},
                "ceilings": {"water": {"regions": {"r1": 0.5}}},
            }
        )
    )
    scenario = model.load_scenario(child)
    assert scenario.name == "child"
    assert scenario.resilience.hinterland_share == 0.4 and scenario.resilience.min_sites == 2
    assert scenario.ceilings["water"].scale == 0.9 and scenario.ceilings["water"].regions == {"r1": 0.5}
    assert scenario.data == str(tiny.resolve())
    assert scenario.resolved()["extends"] is None


def test_overrides_by_dotted_path(tmp_path, tiny):
    path = write_scenario(tmp_path / "s.yaml", tiny)
    scenario = model.load_scenario(path, **{"ceilings.water.scale": 0.8, "resilience__min_sites": 3})
    assert scenario.ceilings["water"].scale == 0.8 and scenario.resilience.min_sites == 3
    again = scenario.with_overrides({"targets.scale": 2.0})
    assert again.targets.scale == 2.0 and again.ceilings["water"].scale == 0.8
    assert parse_assignment("ceilings.water.scale=0.8") == ("ceilings.water.scale", 0.8)
    assert parse_assignment("resilience.hinterland_share=null") == ("resilience.hinterland_share", None)
    assert parse_assignment("resilience.disruptions=[coast]") == ("resilience.disruptions", ["coast"])


def test_resolved_scenario_spells_out_every_key_and_loads_again(tmp_path, tiny):
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny))
    resolved = scenario.resolved()
    assert set(resolved) == {
        "name",
        "description",
        "extends",
        "data",
        "targets",
        "ceilings",
        "resilience",
        "coordination",
        "lock_in",
        "lock_out",
        "growth_poles",
        "objective",
        "chains",
        "backup",
        "periods",
        "solver",
        "sweep",
    }
    assert resolved["ceilings"] == {"water": {"scale": 1.0, "regions": {}}}
    (tmp_path / "again.yaml").write_text(scenario.resolved_yaml())
    assert model.load_scenario(tmp_path / "again.yaml").sha256() == scenario.sha256()


@pytest.mark.parametrize(
    "keys, where",
    [
        ({"resilience": {"hinterland_shar": 0.3}}, "resilience.hinterland_shar"),
        ({"resilience": {"hinterland_share": 1.3}}, "resilience.hinterland_share"),
        ({"resilience": {"hinterland_share": "high"}}, "resilience.hinterland_share"),
        ({"coordination": {"balance": {"west": -0.1}}}, "coordination.balance.west"),
        ({"targets": {"clusters": {"nope": 1.2}}}, "targets.clusters.nope"),
        ({"ceilings": {"wtr": {"scale": 0.5}}}, "ceilings.wtr"),
        ({"ceilings": {"water": {"regions": {"r9": 0.5}}}}, "ceilings.water.regions.r9"),
        ({"resilience": {"disruptions": ["flood"]}}, "resilience.disruptions.0"),
        ({"resilience": {"disruptions": "some"}}, "resilience.disruptions"),
        ({"lock_in": [{"cluster": "a", "region": "r1", "extra": 1}]}, "lock_in.0.extra"),
        ({"lock_out": [{"cluster": "a", "category": "future"}]}, "lock_out.0"),
        ({"lock_in": [{"cluster": "a", "region": "r1"}], "lock_out": [{"cluster": "a"}]}, "lock_in.0"),
        ({"growth_poles": [{"strategy": "nowhere", "category": "future", "share": 0.2}]}, "growth_poles.0.strategy"),
        ({"solver": {"threads": 0}}, "solver.threads"),
        ({"solver": {"log": "yes"}}, "solver.log"),
        (
            {"coordination": {"diminishing_returns": {"share": 0, "factor": 0.5}}},
            "coordination.diminishing_returns.share",
        ),
        (
            {"coordination": {"diminishing_returns": {"share": 0.3, "factor": 1.5}}},
            "coordination.diminishing_returns.factor",
        ),
        ({"coordination": {"diminishing_returns": {"share": 0.3}}}, "coordination.diminishing_returns.factor"),
        ({"min_sites": 3}, "min_sites"),
    ],
)
def test_errors_name_file_and_key(tmp_path, tiny, keys, where):
    path = write_scenario(tmp_path / "bad.yaml", tiny, **keys)
    with pytest.raises(InputError) as error:
        model.load_scenario(path)
    assert str(path.resolve()) in str(error.value) and where in str(error.value)


def test_lock_in_on_a_cell_that_cannot_host(tmp_path, tiny):
    from conftest import write_dataset

    data = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}, {"region": "r2"}],
        clusters=[{"cluster": "a", "target": 1}],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 1, ("r2", "land"): 1},
        suitability={("a", "r1"): 1},
    )
    with pytest.raises(InputError, match="suitability score there is 0"):
        model.load_scenario(write_scenario(tmp_path / "s.yaml", data, lock_in=[{"cluster": "a", "region": "r2"}]))


def test_yaml_problems(tmp_path, tiny):
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"name: x\ndata: {tiny}\nresilience: {{hinterland_share: 0.3\n")
    with pytest.raises(InputError, match="not valid YAML"):
        model.load_scenario(broken)
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(f"name: !!python/object/apply:os.system ['echo hi']\ndata: {tiny}\n")
    with pytest.raises(InputError, match="not valid YAML"):
        model.load_scenario(tagged)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="mapping"):
        model.load_scenario(listing)
    with pytest.raises(InputError, match="does not exist"):
        model.load_scenario(tmp_path / "missing.yaml")


def test_extends_errors(tmp_path, tiny):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\n")
    b.write_text("extends: a.yaml\n")
    with pytest.raises(InputError, match="cycle"):
        model.load_scenario(a)
    child = tmp_path / "child.yaml"
    child.write_text("extends: nowhere.yaml\n")
    with pytest.raises(InputError, match="does not exist"):
        model.load_scenario(child)


def test_missing_dataset_folder(tmp_path):
    path = write_scenario(tmp_path / "s.yaml", tmp_path / "no_such_folder")
    with pytest.raises(InputError, match="data: dataset folder .* does not exist"):
        model.load_scenario(path)


def test_conflicting_overrides(tmp_path, tiny):
    path = write_scenario(tmp_path / "s.yaml", tiny)
    with pytest.raises(InputError, match="two overrides"):
        model.load_scenario(path, **{"ceilings.water": {"scale": 1}, "ceilings.water.scale": 0.5})
    with pytest.raises(InputError, match="--set resilience.hinterland_share"):
        model.load_scenario(path, **{"resilience.hinterland_share": 2})


# --- chains and backup (docs/scenario.md#chains, docs/scenario.md#backup) -------------------------


def _networked(tmp_path, per_unit=0.5):
    """The tiny dataset with a chain a → b (q = per_unit) and a corridor r1–r2."""
    from conftest import write_dataset

    return write_dataset(
        tmp_path / "net",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}, {"cluster": "b", "target": 10}],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 10, ("r2", "land"): 10},
        suitability={("a", "r1"): 1, ("b", "r2"): 1},
        disruptions={"coast": ["r1"]},
        chains={("a", "b"): per_unit},
        corridors={("r1", "r2"): 300},
    )


def test_chains_and_backup_keys_and_their_neutral_values(tmp_path, tiny):
    scenario = model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny))
    assert scenario.chains.enabled and scenario.chains.transport_cost_scale == 1 and not scenario.chains.recourse
    assert scenario.backup is None
    scenario = model.load_scenario(
        write_scenario(tmp_path / "s.yaml", tiny, ceilings={}, backup={"resources": ["water"]})
    )
    assert (scenario.backup.cost, scenario.backup.share, scenario.backup.hinterland_only) == (0.05, None, True)
    assert scenario.resolved()["backup"] == {
        "cost": 0.05,
        "share": None,
        "hinterland_only": True,
        "resources": ["water"],
    }
    assert model.load_scenario(write_scenario(tmp_path / "s.yaml", tiny, backup=None)).backup is None


@pytest.mark.parametrize(
    "keys, where, problem",
    [
        ({"chains": {"recourse": True, "transport": 1}}, "chains.transport", "unknown key"),
        ({"backup": {"cost": 0.05, "shares": 0.1}}, "backup.shares", "unknown key"),
        ({"backup": {"share": 1.5, "resources": []}}, "backup.share", "less than or equal to 1"),
        ({"backup": {"share": -0.1, "resources": []}}, "backup.share", "greater than or equal to 0"),
        ({"backup": {"cost": -1, "resources": []}}, "backup.cost", "greater than or equal to 0"),
        ({"chains": {"transport_cost_scale": "high"}}, "chains.transport_cost_scale", "valid number"),
        ({"backup": {"resources": ["water", "sunshine"]}}, "backup.resources.1", "unknown resource 'sunshine'"),
        ({"backup": {}}, "backup.resources.0", "unknown resource 'land'"),
        ({"chains": {"recourse": True}}, "chains.recourse", "recourse needs resilience.disruption_survival"),
        (
            {"chains": {"recourse": True}, "resilience": {"disruption_survival": 0.6}},
            "chains.recourse",
            "recourse needs chains: the dataset",
        ),
    ],
)
def test_chains_and_backup_errors_name_the_key(tmp_path, tiny, keys, where, problem):
    path = write_scenario(tmp_path / "bad.yaml", tiny, **keys)
    with pytest.raises(InputError) as error:
        model.load_scenario(path)
    assert f"{path.resolve()}: {where}: " in str(error.value) and problem in str(error.value)


def test_chain_supply_impossible_names_the_upstream_cluster_and_both_totals(tmp_path):
    data = _networked(tmp_path, per_unit=0.5)
    assert model.load_scenario(write_scenario(tmp_path / "s.yaml", data)).chains.enabled
    # b's target 30 needs 0.5 × 30 = 15 of a, whose target is 10
    with pytest.raises(InputError) as error:
        model.load_scenario(write_scenario(tmp_path / "s.yaml", data, targets={"clusters": {"b": 3.0}}))
    assert str(error.value) == (
        f"{data.resolve() / 'chains.csv'}: line 2, column upstream: chain supply impossible: "
        "the clusters downstream of a need Σ_j q_ij·T_j = 15 of it, but its target T_i is 10 "
        "(targets of scenario 's')"
    )
    # with chains off the check does not apply; and recourse wants them on
    assert (
        model.load_scenario(
            write_scenario(tmp_path / "s.yaml", data, targets={"clusters": {"b": 3.0}}, chains={"enabled": False})
        ).chains.enabled
        is False
    )
    with pytest.raises(InputError, match="chains.recourse: recourse needs chains.enabled: true"):
        model.load_scenario(
            write_scenario(
                tmp_path / "s.yaml",
                data,
                resilience={"disruption_survival": 0.5},
                chains={"enabled": False, "recourse": True},
            )
        )


def test_network_input_errors_exit_2_without_a_traceback_or_a_folder(tmp_path):
    import subprocess
    import sys

    data = _networked(tmp_path)
    (data / "corridors.csv").write_text("node_a,node_b,distance_km,capacity\nr1,r2,300,\nr2,r1,300,\n")
    scenario = write_scenario(tmp_path / "s.yaml", data)
    bad_target = write_scenario(tmp_path / "t.yaml", _networked(tmp_path / "ok"), targets={"clusters": {"b": 3.0}})
    recourse = write_scenario(tmp_path / "r.yaml", _networked(tmp_path / "ok2"), chains={"recourse": True})
    for path, needle in (
        (scenario, "corridors.csv: line 3, column node_a: duplicate corridor"),
        (bad_target, "chains.csv: line 2, column upstream: chain supply impossible"),
        (recourse, "chains.recourse: recourse needs resilience.disruption_survival"),
    ):
        for command in (["validate", str(path)], ["solve", str(path), "--out", str(tmp_path / "run")]):
            done = subprocess.run([sys.executable, "-m", "model.cli", *command], capture_output=True, text=True)
            assert done.returncode == 2, done.stderr
            assert needle in done.stderr and "Traceback" not in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
            assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run*"))
