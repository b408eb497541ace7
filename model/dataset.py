"""The dataset: regions, clusters, resources and the tables that join them (docs/dataset.md).

`load_dataset(folder)` reads one dataset folder, checks every cell and every reference between
tables, and returns a `Dataset` of tidy pandas tables with ids as strings and numbers as floats.
Every error names the file, the line (the header is line 1) and the column.

The resilient network (docs/model.md#chains-corridors-and-backup) is optional: a `node` column in
regions.csv (default: the region itself), a `transport_cost` column in clusters.csv (default 0),
and chains.csv with corridors.csv, which come together. A chain names known clusters and has no
cycle; a corridor joins two different nodes, once.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from model.errors import InputError

MACRO_REGIONS = ("east", "central", "west", "northeast")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]*$")

# file -> {column: kind}; kinds: id, ref:<table>, text, bool, number, int, ids (";"-separated)
SCHEMA: dict[str, dict[str, str]] = {
    "regions.csv": {
        "region": "id",
        "name": "text",
        "name_zh": "text",
        "macro_region": "macro",
        "hinterland": "bool",
        "strategies": "ids",
        "population": "number",
        "gdp": "number",
        "area_km2": "number",
        "lon": "float",
        "lat": "float",
    },
    "clusters.csv": {
        "cluster": "id",
        "name": "text",
        "category": "idtext",
        "critical": "bool",
        "target": "number",
        "min_scale": "number",
        "max_sites": "int",
        "fixed_cost": "number",
    },
    "resources.csv": {"resource": "id", "name": "text", "unit": "text", "line": "text"},
    "intensity.csv": {"cluster": "ref:clusters", "resource": "ref:resources", "per_unit": "number"},
    "capacity.csv": {"region": "ref:regions", "resource": "ref:resources", "available": "number"},
    "suitability.csv": {"cluster": "ref:clusters", "region": "ref:regions", "score": "number"},
    "existing.csv": {"cluster": "ref:clusters", "region": "ref:regions", "output": "number"},
    "disruptions.csv": {"disruption": "idtext", "region": "ref:regions"},
}
OPTIONAL_COLUMNS: dict[str, dict[str, tuple[str, object]]] = {
    "regions.csv": {"node": ("id", None)},  # None: the region id itself
    "clusters.csv": {"transport_cost": ("number", 0.0)},
}
"""Columns a file may leave out: column -> (kind, value when absent)."""
NETWORK: dict[str, dict[str, str]] = {
    "chains.csv": {"upstream": "ref:clusters", "downstream": "ref:clusters", "per_unit": "number"},
    "corridors.csv": {"node_a": "id", "node_b": "id", "distance_km": "number", "capacity": "number_or_blank"},
}
"""The optional files of the resilient network; both or neither."""
KEYS = {
    "regions.csv": ("region",),
    "clusters.csv": ("cluster",),
    "resources.csv": ("resource",),
    "intensity.csv": ("cluster", "resource"),
    "capacity.csv": ("region", "resource"),
    "suitability.csv": ("cluster", "region"),
    "existing.csv": ("cluster", "region"),
    "disruptions.csv": ("disruption", "region"),
    "chains.csv": ("upstream", "downstream"),
    "corridors.csv": ("node_a", "node_b"),
}


@dataclass(frozen=True)
class Dataset:
    """A validated dataset. Tables keep the columns of docs/dataset.md; ids are strings."""

    folder: Path
    regions: pd.DataFrame
    clusters: pd.DataFrame
    resources: pd.DataFrame
    intensity: pd.DataFrame
    capacity: pd.DataFrame
    suitability: pd.DataFrame
    existing: pd.DataFrame
    disruptions: pd.DataFrame
    sha256: str = field(default="")
    chains: pd.DataFrame | None = None
    """upstream, downstream, per_unit — None when the dataset has no network."""
    corridors: pd.DataFrame | None = None
    """node_a, node_b, distance_km, capacity (NaN: no limit) — None when the dataset has no network."""
    lines: dict[str, list[int]] = field(default_factory=dict, repr=False)
    """The line of every row of the network files, for errors found once the scenario is known."""

    @property
    def region_ids(self) -> list[str]:
        return list(self.regions["region"])

    @property
    def cluster_ids(self) -> list[str]:
        return list(self.clusters["cluster"])

    @property
    def resource_ids(self) -> list[str]:
        return list(self.resources["resource"])

    @property
    def categories(self) -> list[str]:
        return sorted(set(self.clusters["category"]))

    @property
    def strategies(self) -> list[str]:
        return sorted({s for ss in self.regions["strategies"] for s in ss})

    @property
    def disruption_ids(self) -> list[str]:
        return list(dict.fromkeys(self.disruptions["disruption"]))

    @property
    def node_ids(self) -> list[str]:
        """Transport nodes in order of first appearance in regions.csv."""
        return list(dict.fromkeys(self.regions["node"]))

    @property
    def has_network(self) -> bool:
        return self.chains is not None


def _parse_bool(text: str) -> bool | None:
    return {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}.get(text.strip().lower())


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_table(folder: Path, name: str) -> pd.DataFrame:
    """Read one CSV as strings and convert each column by its kind, naming line and column on error.

    An optional column (`OPTIONAL_COLUMNS`) that the header lacks, or a blank cell of one, takes its
    default value.
    """
    path = folder / name
    columns = SCHEMA.get(name) or NETWORK[name]
    if not path.is_file():
        raise InputError(path, None, "file is missing from the dataset folder")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InputError(path, None, f"not a readable CSV file ({exc})") from None
    if not rows:
        raise InputError(path, None, "file is empty (a header row is required)")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, "line 1", f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    optional = {c: spec for c, spec in OPTIONAL_COLUMNS.get(name, {}).items()}
    present = {c: kind for c, (kind, _) in optional.items() if c in header}
    columns = columns | present
    position = {c: header.index(c) for c in columns}
    records: dict[str, list] = {c: [] for c in columns}
    lines: list[int] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"line {lineno}", f"has {len(row)} cells, the header has {len(header)}")
        lines.append(lineno)
        for column, kind in columns.items():
            text = row[position[column]].strip()
            if not text and column in optional:  # a blank cell of an optional column takes its default
                records[column].append(optional[column][1])
                continue
            records[column].append(_convert(path, lineno, column, kind, text))
    table = pd.DataFrame(records, columns=list(columns))
    for column, (_, default) in optional.items():
        if column not in present:
            table[column] = default
    table.attrs["lines"] = lines
    key = KEYS[name]
    duplicated = table.duplicated(list(key), keep="first")
    if duplicated.any():
        at = int(duplicated.to_numpy().nonzero()[0][0])
        ident = ", ".join(f"{k} {table[k].iloc[at]!r}" for k in key)
        raise InputError(path, f"line {lines[at]}", f"duplicate row for {ident}")
    return table


def _convert(path: Path, lineno: int, column: str, kind: str, text: str):
    where = f"line {lineno}, column {column}"
    if kind in ("id", "idtext") or kind.startswith("ref:"):
        if not ID_PATTERN.match(text):
            raise InputError(path, where, f"{text!r} is not an id (lowercase ASCII letters, digits and _)")
        return text
    if kind == "macro":
        if text not in MACRO_REGIONS:
            raise InputError(path, where, f"{text!r} is not one of {', '.join(MACRO_REGIONS)}")
        return text
    if kind == "text":
        return text
    if kind == "number_or_blank":
        if not text:
            return math.nan
        kind = "number"
    if kind == "bool":
        flag = _parse_bool(text)
        if flag is None:
            raise InputError(path, where, f"{text!r} is not true or false")
        return flag
    if kind == "ids":
        ids = tuple(s.strip() for s in text.split(";") if s.strip())
        for s in ids:
            if not ID_PATTERN.match(s):
                raise InputError(path, where, f"{s!r} is not an id (lowercase ASCII letters, digits and _)")
        return ids
    value = _parse_number(text)
    if value is None:
        raise InputError(path, where, f"{text!r} is not a number")
    if kind == "float":
        return value
    if value < 0:
        raise InputError(path, where, f"{text} is negative")
    if kind == "int":
        if value != int(value):
            raise InputError(path, where, f"{text} is not a whole number")
        return int(value)
    return value


def _check_references(folder: Path, name: str, table: pd.DataFrame, known: dict[str, set[str]]) -> None:
    for column, kind in (SCHEMA.get(name) or NETWORK[name]).items():
        if not kind.startswith("ref:"):
            continue
        valid = known[kind[4:]]
        bad = ~table[column].isin(valid)
        if bad.any():
            at = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                folder / name,
                f"line {table.attrs['lines'][at]}, column {column}",
                f"unknown {column} {table[column].iloc[at]!r} (not in {kind[4:]}.csv)",
            )


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in sorted(SCHEMA) + [n for n in NETWORK if (folder / n).is_file()]:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def _read_network(folder: Path, regions: pd.DataFrame, known: dict[str, set[str]]) -> dict[str, pd.DataFrame]:
    """chains.csv and corridors.csv, checked: both or neither, known clusters, no chain cycle,
    corridors between two different nodes, each pair once (in either order)."""
    present = [name for name in NETWORK if (folder / name).is_file()]
    if not present:
        return {}
    if len(present) == 1:
        missing = next(n for n in NETWORK if n not in present)
        raise InputError(folder / missing, None, f"file is missing: {present[0]} and {missing} come together")
    tables = {name: _read_table(folder, name) for name in NETWORK}
    chains = tables["chains.csv"]
    _check_references(folder, "chains.csv", chains, known)
    _check_chain_cycles(folder / "chains.csv", chains)
    corridors = tables["corridors.csv"]
    path, lines = folder / "corridors.csv", corridors.attrs["lines"]
    nodes = set(regions["node"])
    pairs: dict[frozenset, int] = {}
    for n, (a, b) in enumerate(zip(corridors["node_a"], corridors["node_b"])):
        for column, end in (("node_a", a), ("node_b", b)):
            if end not in nodes:
                raise InputError(
                    path,
                    f"line {lines[n]}, column {column}",
                    f"{end!r} is not a node (a value of regions.csv's node column, or a region id)",
                )
        if a == b:
            raise InputError(path, f"line {lines[n]}, column node_b", f"corridor from {a!r} to itself")
        pair = frozenset((a, b))
        if pair in pairs:
            raise InputError(
                path,
                f"line {lines[n]}, column node_a",
                f"duplicate corridor between {a!r} and {b!r} (first on line {pairs[pair]})",
            )
        pairs[pair] = lines[n]
    return tables


def _check_chain_cycles(path: Path, chains: pd.DataFrame) -> None:
    """No cluster is upstream of itself, directly or through other chains; the error names the cycle."""
    lines = chains.attrs["lines"]
    downstream: dict[str, list[tuple[str, int]]] = {}
    for n, (up, down) in enumerate(zip(chains["upstream"], chains["downstream"])):
        if up == down:
            raise InputError(path, f"line {lines[n]}, column downstream", f"chain cycle: {up} is upstream of itself")
        downstream.setdefault(up, []).append((down, lines[n]))
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[tuple[str, int]]) -> None:
        state[node] = 1
        for nxt, line in downstream.get(node, []):
            if state.get(nxt) == 1:
                names = [c for c, _ in trail] + [node]
                cycle = names[names.index(nxt) :] + [nxt]
                raise InputError(
                    path,
                    f"line {line}, column downstream",
                    f"chain cycle: {' → '.join(cycle)} ({nxt} is upstream of itself)",
                )
            if state.get(nxt) is None:
                visit(nxt, trail + [(node, line)])
        state[node] = 2

    for start in list(downstream):
        if state.get(start) is None:
            visit(start, [])


def load_dataset(folder: str | Path) -> Dataset:
    """Read and validate a dataset folder in the format of docs/dataset.md."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, None, "dataset folder does not exist")
    tables = {name: _read_table(folder, name) for name in SCHEMA}
    known = {
        "regions": set(tables["regions.csv"]["region"]),
        "clusters": set(tables["clusters.csv"]["cluster"]),
        "resources": set(tables["resources.csv"]["resource"]),
    }
    for name, table in tables.items():
        if not len(table) and name in ("regions.csv", "clusters.csv", "resources.csv"):
            raise InputError(folder / name, None, "has no rows")
        _check_references(folder, name, table, known)
    capacity = tables["capacity.csv"]
    have = set(zip(capacity["region"], capacity["resource"]))
    for region in tables["regions.csv"]["region"]:
        for resource in tables["resources.csv"]["resource"]:
            if (region, resource) not in have:
                raise InputError(
                    folder / "capacity.csv",
                    None,
                    f"no row for region {region!r} and resource {resource!r} "
                    "(every region needs a ceiling for every resource)",
                )
    regions = tables["regions.csv"]
    regions["node"] = regions["node"].where(regions["node"].notna(), regions["region"])
    network = _read_network(folder, regions, known)
    lines = {name: list(table.attrs["lines"]) for name, table in network.items()}
    if network:
        network["corridors.csv"]["capacity"] = network["corridors.csv"]["capacity"].astype(float)
    for table in list(tables.values()) + list(network.values()):
        table.attrs.pop("lines", None)
    return Dataset(
        folder=folder.resolve(),
        regions=tables["regions.csv"],
        clusters=tables["clusters.csv"],
        resources=tables["resources.csv"],
        intensity=tables["intensity.csv"],
        capacity=capacity,
        suitability=tables["suitability.csv"],
        existing=tables["existing.csv"],
        disruptions=tables["disruptions.csv"],
        sha256=_fingerprint(folder),
        chains=network.get("chains.csv"),
        corridors=network.get("corridors.csv"),
        lines=lines,
    )
