"""The default dataset and the shipped scenarios, solved for real."""
from __future__ import annotations

from pathlib import Path

import pytest

import model
from model.dataset import load_dataset
from conftest import DEFAULT_DATA, ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_default_dataset_shape():
    data = load_dataset(DEFAULT_DATA)
    assert len(data.region_ids) == 31 and len(data.cluster_ids) >= 20 and len(data.resource_ids) == 5
    assert set(data.categories) >= {"future", "strategic_emerging", "advanced_manufacturing", "traditional", "characteristic"}
    assert set(data.strategies) >= {"jing_jin_ji", "yangtze_river_delta", "greater_bay_area",
                                    "yangtze_river_economic_belt", "yellow_river_basin", "chengdu_chongqing"}
    assert len(data.disruption_ids) >= 4
    assert set(data.regions["macro_region"]) == {"east", "central", "west", "northeast"}


def test_every_data_column_is_documented():
    sources = (DEFAULT_DATA / "SOURCES.md").read_text(encoding="utf-8")
    for name in ("regions", "clusters", "resources", "intensity", "capacity", "suitability", "existing", "disruptions"):
        assert f"## {name}.csv" in sources
        section = sources.split(f"## {name}.csv", 1)[1].split("\n## ", 1)[0]
        header = (DEFAULT_DATA / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        for column in header.split(","):
            assert column in section, f"{name}.csv column {column} is not described in SOURCES.md"


def test_baseline_solves_to_optimality():
    result = model.solve(ROOT / "scenarios" / "baseline.yaml")
    assert result.status == model.Status.OPTIMAL
    assert result.gap <= 1e-4
    layout = result.layout
    totals = layout.groupby("cluster")["output"].sum()
    targets = load_dataset(DEFAULT_DATA).clusters.set_index("cluster")["target"]
    assert totals.to_dict() == pytest.approx(targets.to_dict(), rel=1e-6)
    assert (result.resources["utilization"] <= 1 + 1e-6).all()
    assert len(result.binding_ceilings()) > 0
    critical = result.resilience[result.resilience["critical"]]
    assert (critical["hinterland_share"] >= 0.3 - 1e-6).all()
    assert (critical["worst_surviving_share"] >= 0.6 - 1e-6).all()
    assert (critical["max_region_share"] <= 0.35 + 1e-6).all() and (critical["sites"] >= 3).all()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios(path: Path):
    scenario = model.load_scenario(path)
    assert scenario.description
    if scenario.sweep is not None:
        return
    result = model.solve(scenario)
    expected = model.Status.INFEASIBLE if path.stem == "overreach" else model.Status.OPTIMAL
    assert result.status == expected, result.message


def test_readme_test_command_is_what_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("python3 -m venv")]
    assert len(ci) == 1 and ci[0] in (ROOT / "README.md").read_text()
