"""The default dataset and the shipped scenarios, solved for real."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import model
from model.dataset import load_dataset
from conftest import DEFAULT_DATA, ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
LINE_BASES = {"published", "proxy", "estimate"}
CELL_BASES = {"published_anchor", "proxy", "estimate"}


@pytest.fixture(scope="module")
def derive():
    spec = importlib.util.spec_from_file_location("derive_provinces", DEFAULT_DATA / "derive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(derive):
    inputs = derive.load_inputs()
    return inputs, derive.build_all(inputs)


def _existing(cluster: str) -> pd.Series:
    e = pd.read_csv(DEFAULT_DATA / "existing.csv")
    return e[e["cluster"] == cluster].set_index("region")["output"]


def _provenance() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_DATA / "provenance.csv")


def test_default_dataset_shape():
    data = load_dataset(DEFAULT_DATA)
    assert len(data.region_ids) == 31 and len(data.cluster_ids) >= 20 and len(data.resource_ids) == 6
    lines = dict(zip(data.resources["resource"], data.resources["line"]))
    assert lines["farmland"] == "permanent_basic_farmland" and lines["land"] == "urban_development_boundary"
    assert set(data.categories) >= {
        "future",
        "strategic_emerging",
        "advanced_manufacturing",
        "traditional",
        "characteristic",
    }
    assert set(data.strategies) >= {
        "jing_jin_ji",
        "yangtze_river_delta",
        "greater_bay_area",
        "yangtze_river_economic_belt",
        "yellow_river_basin",
        "chengdu_chongqing",
    }
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
    # Each shipped scenario loads, says what it is for, and solves to its expected status. A 1 % gap is
    # enough to tell feasible from infeasible; the baseline's own optimum is tested to 0.01 % elsewhere.
    scenario = model.load_scenario(path, **{"solver.mip_gap": 0.01, "solver.time_limit": 300})
    assert scenario.description
    if scenario.sweep is not None:
        return
    result = model.solve(scenario)
    expected = model.Status.INFEASIBLE if path.stem == "overreach" else model.Status.OPTIMAL
    assert result.status == expected, result.message


def test_readme_test_command_is_what_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("python3 -m venv")]
    assert len(ci) == 1 and ci[0] in (ROOT / "README.md").read_text()


# ---------------------------------------------------------------- derive.py and the plausibility of the data
def test_derive_reproduces_every_file_byte_for_byte(derive, built):
    _, tables = built
    for name, table in tables.items():
        assert derive.csv_text(table) == (DEFAULT_DATA / f"{name}.csv").read_text(encoding="utf-8"), name


def test_existing_output_anchors_hold():
    steel = _existing("steel_and_nonferrous")
    assert steel["hebei"] > 1.5 * steel["liaoning"]  # Hebei makes about 2.9x Liaoning's crude steel (2023)
    clean = _existing("clean_energy")
    share = clean / clean.sum()
    assert set(share.nlargest(3).index) == {"sichuan", "yunnan", "hubei"}  # the hydro provinces (NBS 2022 generation)
    assert (share[["sichuan", "yunnan", "hubei"]] >= 0.05).all()
    agri = _existing("characteristic_agriculture")
    assert agri.get("guangdong", 0) > 0.02 * agri.sum()


def test_every_basis_is_filled():
    A = pd.read_csv(DEFAULT_DATA / "inputs" / "cluster_assumptions.csv", keep_default_na=False)
    assert set(A["existing_basis"]) <= {"published_anchor", "proxy", "estimate"} and (A["existing_basis"] != "").all()
    assert (A.loc[A["existing_basis"] != "estimate", "existing_anchor"] != "").all()
    P = pd.read_csv(DEFAULT_DATA / "inputs" / "provinces_published.csv", keep_default_na=False)
    for column in [c for c in P.columns if c.endswith("_basis")]:
        assert (P[column].str.strip() != "").all(), column
    prov = _provenance()
    lines, cells = prov[prov["table"] == "line"], prov[prov["table"] == "existing"]
    assert set(lines["basis"]) <= LINE_BASES and set(cells["basis"]) <= CELL_BASES
    assert (lines.groupby("item")["region"].nunique() == 31).all()
    existing = pd.read_csv(DEFAULT_DATA / "existing.csv")
    assert len(cells) == len(existing)
    assert prov["value"].notna().all()


def test_lines_reconcile_with_national_totals(built):
    inputs, tables = built
    N, P = inputs["N"], inputs["P"].set_index("region")
    assert P["cultivated_2035_10k_mu"].sum() == pytest.approx(N["cultivated_2035_national"])
    assert P["pbf_2035_10k_mu"].sum() == pytest.approx(N["pbf_2035_national"])
    assert (P["pbf_2035_10k_mu"] <= P["cultivated_2035_10k_mu"]).all()
    assert P["water_cap_2025_100m_m3"].sum() == pytest.approx(N["water_cap_2025_national"])  # never above it
    assert (P["water_cap_2025_100m_m3"] > 0).all()
    assert P["construction_land_2019_km2"].sum() == pytest.approx(N["construction_land_2019"])
    cap = tables["capacity"].pivot(index="region", columns="resource", values="available").reindex(P.index)
    farmland = (P["cultivated_2035_10k_mu"] - P["pbf_2035_10k_mu"]).clip(lower=0)
    assert cap["farmland"].to_dict() == pytest.approx(farmland.round(1).to_dict(), abs=0.06)
    assert cap["farmland"].sum() == pytest.approx(N["cultivated_2035_national"] - N["pbf_2035_national"], abs=2)
    # water for the clusters (10^4 m3) stays inside each province's cap, and inside the national industrial
    # use without once-through cooling
    assert (cap["water"] <= 0.3 * P["water_cap_2025_100m_m3"] * 1e4 + 0.1).all()
    non_cooling = (N["industrial_water_use_2022"] - N["once_through_cooling_2022"]) / N["water_use_2022"]
    assert cap["water"].sum() / 1e4 <= non_cooling * N["water_cap_2025_national"]


def test_existing_anchors_reconcile_with_national_totals(derive, built):
    inputs, _ = built
    steel, basis = derive.anchor_weights("crude_steel", inputs["P"], inputs["AN"], inputs["N"])
    assert steel.sum() == pytest.approx(inputs["N"]["crude_steel_2023"])
    assert (basis == "published_anchor").sum() == 15  # 14 NBS 2023 figures + Beijing's published zero
    clean, _ = derive.anchor_weights("clean_generation", inputs["P"], inputs["AN"], inputs["N"])
    national = sum(inputs["N"][f"{t}_generation_2022h1"] for t in ("hydro", "wind", "solar"))
    assert clean.sum() == pytest.approx(national)
    e = pd.read_csv(DEFAULT_DATA / "existing.csv").groupby("cluster")["output"].sum()
    base = pd.read_csv(DEFAULT_DATA / "inputs" / "cluster_assumptions.csv").set_index("cluster")["base_va_2023"]
    assert e.to_dict() == pytest.approx(base[e.index].to_dict(), abs=1.5)


def test_water_intensity_excludes_once_through_cooling(built):
    inputs, tables = built
    N = inputs["N"]
    base = N["water_per_industrial_va_2022"] * (1 - N["once_through_cooling_2022"] / N["industrial_water_use_2022"])
    assert 11.5 < base < 12.5  # about 12 m3 per 10^4 yuan, not 24
    a = tables["intensity"].pivot(index="cluster", columns="resource", values="per_unit")["water"]
    m = inputs["A"].set_index("cluster")["m_water"]
    manufacturing = inputs["A"].set_index("cluster")["water_base"] == "manufacturing"
    per_m = (a / m)[manufacturing]  # one base for all manufacturing (4 significant digits)
    assert per_m.max() - per_m.min() < 0.02 and per_m.max() < 10  # 2030, after the 16 % per five years decline
    assert (a / m)["clean_energy"] > 1.5 * per_m.max()  # clean energy keeps its own


def test_farmland_changes_what_the_layout_may_do():
    data = load_dataset(DEFAULT_DATA)
    a = data.intensity[data.intensity["resource"] == "farmland"].set_index("cluster")["per_unit"]
    assert set(a[a > 0].index) == {"characteristic_agriculture"}
    cap = data.capacity[data.capacity["resource"] == "farmland"].set_index("region")["available"]
    m = data.clusters.set_index("cluster").at["characteristic_agriculture", "min_scale"]
    # the cultivated land beyond the permanent basic farmland cannot hold a minimum-scale site in the big cities
    assert (cap[["beijing", "shanghai", "tianjin"]] / a["characteristic_agriculture"] < m).all()


def test_sources_count_every_line():
    sources = (DEFAULT_DATA / "SOURCES.md").read_text(encoding="utf-8")
    prov = _provenance()
    for item, g in prov[prov["table"] == "line"].groupby("item"):
        n = g["basis"].value_counts()
        row = f"| `{item}` | {n.get('published', 0)} | {n.get('proxy', 0)} | {n.get('estimate', 0)} |"
        assert row in sources, row
    cells = prov[prov["table"] == "existing"]
    for cluster, g in cells.groupby("item"):
        n = g["basis"].value_counts()
        row = f"| `{cluster}` | {n.get('published_anchor', 0)} | {n.get('proxy', 0)} | {n.get('estimate', 0)} |"
        assert row in sources, row


def test_the_baseline_is_a_layout_a_planner_would_discuss():
    # With diminishing returns (h 0.25, g 0.5; data/provinces/SOURCES.md, "Concentration") no non-critical
    # cluster holds more than half its national output in one province, and the farmland ceiling is in force.
    result = model.solve(ROOT / "scenarios" / "baseline.yaml")
    assert result.status == model.Status.OPTIMAL
    shares = result.resilience.set_index("cluster")
    assert shares.loc[~shares["critical"], "max_region_share"].max() <= 0.5 + 1e-6
    farmland = result.resources[result.resources["resource"] == "farmland"]
    assert (farmland["used"] <= farmland["available"] + 1e-6).all() and farmland["used"].sum() > 0
