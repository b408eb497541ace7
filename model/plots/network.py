"""The resilient network as the plots see it: nodes, chains, corridors, flows, backup, survival.

Read from the run folder's optional tables (flows.csv, backup.csv, recourse.csv, see
docs/run-folder.md#flowscsv) and, when the dataset is reachable, from its regions.csv `node`
column, chains.csv and corridors.csv (docs/dataset.md#chainscsv). Nothing here solves; every
function takes tables and returns tables (docs/model.md#chains-corridors-and-backup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.formatting import number
from model.results import last_year

SURVIVES, FAILS = "survives", "fails"
TOLERANCE = 1e-6


def node_of(dataset: Any) -> dict[str, str]:
    """Region id -> transport node (regions.csv's `node` column; the loader fills a blank with the region)."""
    if dataset is None:
        return {}
    return dict(zip(dataset.regions["region"].astype(str), dataset.regions["node"].astype(str)))


def chains_of(dataset: Any) -> pd.DataFrame | None:
    """upstream, downstream, per_unit of the dataset's chains.csv, or None without one."""
    if dataset is None or dataset.chains is None:
        return None
    return dataset.chains[["upstream", "downstream", "per_unit"]].reset_index(drop=True)


def corridors_of(dataset: Any) -> pd.DataFrame | None:
    """node_a, node_b, distance_km, capacity (NaN: no limit) of corridors.csv, or None without one."""
    if dataset is None or dataset.corridors is None:
        return None
    table = dataset.corridors.copy()
    table["capacity"] = pd.to_numeric(table["capacity"], errors="coerce")
    return table[["node_a", "node_b", "distance_km", "capacity"]].reset_index(drop=True)


def transport_costs(dataset: Any) -> dict[str, float] | None:
    """t_i of clusters.csv's `transport_cost` column (the loader's default 0), or None without the dataset."""
    if dataset is None:
        return None
    return dict(zip(dataset.clusters["cluster"].astype(str), dataset.clusters["transport_cost"].astype(float)))


def _find_term(summary: Any, key: str) -> float | None:
    """A numeric objective term named `key` in summary.json, at the top or one dict down."""
    if not isinstance(summary, dict):
        return None
    value = summary.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    for v in summary.values():
        if isinstance(v, dict) and {"value", key} <= set(v):
            found = v.get(key)
            if isinstance(found, (int, float)) and not isinstance(found, bool):
                return float(found)
    return None


def transport_is_free(summary: dict, scenario: dict, dataset: Any, flows: pd.DataFrame | None) -> bool | None:
    """True when moving output costs nothing (so the flows are one of many optima, docs/model.md#chains);
    None when neither the summary's transport term nor the dataset tells."""
    term = _find_term(summary, "transport")
    if term is not None and flows is not None and len(flows):
        return abs(term) < TOLERANCE
    chains = (scenario or {}).get("chains") or {}
    theta = chains.get("transport_cost_scale", 1.0) if isinstance(chains, dict) else 1.0
    if theta is not None and float(theta) == 0.0:
        return True
    costs = transport_costs(dataset)
    if costs is None:
        return None
    upstream = set(flows["cluster"].astype(str)) if flows is not None and len(flows) else set(costs)
    return all(costs.get(c, 0.0) == 0.0 for c in upstream)


def last_period(table: pd.DataFrame | None) -> tuple[pd.DataFrame | None, Any]:
    """The rows of the last period (the target year) and that year; the table itself without periods."""
    if table is None or "period" not in table.columns or not len(table):
        return table, None
    return last_year(table).drop(columns="period").reset_index(drop=True), table["period"].max()


def clean_flows(flows: pd.DataFrame | None) -> pd.DataFrame | None:
    """flows.csv with ids as text and flows as numbers, arcs with flow > 0 only."""
    if flows is None:
        return None
    f = flows.copy()
    for col in ("cluster", "from", "to"):
        f[col] = f[col].astype(str)
    f["flow"] = pd.to_numeric(f["flow"], errors="coerce").fillna(0.0)
    f["distance_km"] = pd.to_numeric(f["distance_km"], errors="coerce") if "distance_km" in f else np.nan
    return f[f["flow"] > TOLERANCE].reset_index(drop=True)


def clean_backup(backup: pd.DataFrame | None) -> pd.DataFrame | None:
    """backup.csv with ids as text and amounts as numbers, cells with backup > 0 only."""
    if backup is None:
        return None
    b = backup.copy()
    b["cluster"] = b["cluster"].astype(str)
    b["region"] = b["region"].astype(str)
    b["backup"] = pd.to_numeric(b["backup"], errors="coerce").fillna(0.0)
    return b[b["backup"] > TOLERANCE].reset_index(drop=True)


def top_corridors(
    flows: pd.DataFrame, corridors: pd.DataFrame | None = None, n: int = 10, label: dict[str, str] | None = None
) -> pd.DataFrame:
    """The corridors that carry most: flow summed over clusters and both directions, the largest first.

    Each corridor is named in the direction that carries more (`a → b`). Columns: corridor,
    distance_km, total_flow, forward (a → b), back (b → a), flow_km, clusters and, with
    corridors.csv, capacity (NaN: no limit) and utilization (the busier direction against it).
    """
    label = label or {}
    f = flows.copy()
    lo = np.where(f["from"] <= f["to"], f["from"], f["to"])
    hi = np.where(f["from"] <= f["to"], f["to"], f["from"])
    f["lo"], f["hi"] = lo, hi
    f["up"] = np.where(f["from"] == f["lo"], f["flow"], 0.0)
    f["down"] = np.where(f["from"] == f["lo"], 0.0, f["flow"])
    f["flow_km"] = f["flow"] * f["distance_km"].fillna(0.0)
    g = (
        f.groupby(["lo", "hi"], sort=False)
        .agg(
            distance_km=("distance_km", "max"),
            total_flow=("flow", "sum"),
            up=("up", "sum"),
            down=("down", "sum"),
            flow_km=("flow_km", "sum"),
            clusters=("cluster", lambda s: ", ".join(dict.fromkeys(s))),
        )
        .reset_index()
    )
    if corridors is not None and len(corridors):
        c = corridors
        c = pd.DataFrame(
            {
                "lo": np.where(c["node_a"] <= c["node_b"], c["node_a"], c["node_b"]),
                "hi": np.where(c["node_a"] <= c["node_b"], c["node_b"], c["node_a"]),
                "km": c["distance_km"],
                "capacity": c["capacity"],
            }
        )
        g = g.merge(c, on=["lo", "hi"], how="left")
        g["distance_km"] = g["distance_km"].fillna(g["km"])
        with np.errstate(divide="ignore", invalid="ignore"):
            g["utilization"] = np.maximum(g["up"], g["down"]) / g["capacity"]
        g = g.drop(columns="km")
    flip = g["down"] > g["up"]
    a, b = np.where(flip, g["hi"], g["lo"]), np.where(flip, g["lo"], g["hi"])
    g.insert(0, "corridor", [f"{label.get(x, x)} → {label.get(y, y)}" for x, y in zip(a, b)])
    forward, back = np.where(flip, g["down"], g["up"]), np.where(flip, g["up"], g["down"])
    g = g.drop(columns=["lo", "hi", "up", "down"])
    g.insert(3, "forward", forward)
    g.insert(4, "back", back)
    return g.sort_values("total_flow", ascending=False, kind="stable").head(n).reset_index(drop=True)


def backup_held(
    backup: pd.DataFrame,
    targets: dict[str, float],
    names: dict[str, str] | None = None,
    cluster_labels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Per cluster: total backup, its share of the target, how many regions hold it and where."""
    names, cluster_labels = names or {}, cluster_labels or {}
    rows = []
    for c, cell in backup.groupby("cluster", sort=False):
        cell = cell.sort_values("backup", ascending=False)
        total = float(cell["backup"].sum())
        T = targets.get(c, float("nan"))
        rows.append(
            {
                "cluster": c,
                "name": cluster_labels.get(c, c),
                "backup": total,
                "share_of_target": total / T if T and T > 0 else float("nan"),
                "regions": len(cell),
                "where": ", ".join(f"{names.get(r, r)} {number(v, 3)}" for r, v in zip(cell["region"], cell["backup"])),
            }
        )
    return pd.DataFrame(rows, columns=["cluster", "name", "backup", "share_of_target", "regions", "where"])


def survival(recourse: pd.DataFrame | None, resilience: pd.DataFrame, rho: float | None) -> tuple[pd.DataFrame, str]:
    """For each active disruption × critical cluster: surviving against required, and the verdict.

    From recourse.csv when the run has recourse (the surviving network, inputs included); otherwise
    from resilience.csv's worst disruption per critical cluster (output and backup outside the lost
    regions, against ρ·T). Returns the table and where it came from ("recourse" or "resilience").
    """
    crit = resilience[resilience["critical"].astype(str).str.lower().isin(["true", "1"])]
    critical = set(crit["cluster"].astype(str))
    columns = ["disruption", "cluster", "surviving", "required", "share", "verdict"]
    if recourse is not None:
        r = recourse.copy()
        r["cluster"] = r["cluster"].astype(str)
        r["disruption"] = r["disruption"].astype(str)
        if critical:
            r = r[r["cluster"].isin(critical)]
        surviving = pd.to_numeric(r["surviving"], errors="coerce")
        required = pd.to_numeric(r["required"], errors="coerce")
        out = pd.DataFrame(
            {"disruption": r["disruption"], "cluster": r["cluster"], "surviving": surviving, "required": required}
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            out["share"] = surviving / required
        out["verdict"] = [verdict(s, q) for s, q in zip(surviving, required)]
        extra = [c for c in ("cut_arcs", "period") if c in r.columns]
        for c in extra:
            out[c] = r[c].to_numpy()
        return out.reset_index(drop=True)[columns + extra], "recourse"
    rows = []
    for _, row in crit.iterrows():
        T = float(row.get("target", float("nan")))
        share = pd.to_numeric(pd.Series([row.get("worst_surviving_share")]), errors="coerce").iloc[0]
        s = share * T if np.isfinite(share) and np.isfinite(T) else float("nan")
        q = rho * T if rho is not None and np.isfinite(T) else float("nan")
        item = {
            "disruption": str(row.get("worst_disruption") or "–"),
            "cluster": str(row["cluster"]),
            "surviving": s,
            "required": q,
            "share": s / q if q and np.isfinite(q) and q > 0 else float("nan"),
            "verdict": verdict(s, q),
        }
        if "period" in crit.columns:
            item["period"] = row["period"]
        rows.append(item)
    extra = ["period"] if "period" in crit.columns else []
    return pd.DataFrame(rows, columns=columns + extra), "resilience"


def verdict(surviving: float, required: float) -> str:
    """'survives' when the surviving output covers what is required, 'fails' when not, '–' unknown."""
    if not (np.isfinite(surviving) and np.isfinite(required)):
        return "–"
    return SURVIVES if surviving >= required * (1 - TOLERANCE) - TOLERANCE else FAILS


@dataclass
class Network:
    """The network tables of one run, cleaned, with what the dataset adds when it is reachable.

    flows and backup keep the last period only (the target year, `year`) when the run has periods;
    recourse keeps every period.
    """

    flows: pd.DataFrame | None = None
    backup: pd.DataFrame | None = None
    recourse: pd.DataFrame | None = None
    year: Any = None
    chains: pd.DataFrame | None = None
    corridors: pd.DataFrame | None = None
    node_of: dict[str, str] = field(default_factory=dict)
    free_transport: bool | None = None

    @classmethod
    def of(cls, tables: dict[str, pd.DataFrame], dataset: Any, summary: dict, scenario: dict) -> "Network | None":
        """None when the run has none of flows.csv, backup.csv and recourse.csv."""
        if not any(name in tables for name in ("flows", "backup", "recourse")):
            return None
        flows, year = last_period(clean_flows(tables.get("flows")))
        backup, backup_year = last_period(clean_backup(tables.get("backup")))
        net = cls(
            flows=flows,
            backup=backup,
            recourse=tables.get("recourse"),
            year=year or backup_year,
            chains=chains_of(dataset),
            corridors=corridors_of(dataset),
            node_of=node_of(dataset),
        )
        net.free_transport = transport_is_free(summary, scenario, dataset, flows) if flows is not None else None
        return net

    def upstream(self, order: list[str] | None = None) -> list[str]:
        """The upstream clusters with flows, in the dataset's order where known."""
        if self.flows is None or not len(self.flows):
            return []
        have = list(dict.fromkeys(self.flows["cluster"]))
        return [c for c in (order or []) if c in have] + [c for c in have if c not in set(order or [])]

    def feeds(self, cluster: str) -> list[tuple[str, float]]:
        """(downstream cluster, per_unit) for each chain the cluster supplies, from chains.csv."""
        if self.chains is None:
            return []
        rows = self.chains[self.chains["upstream"] == cluster]
        return list(zip(rows["downstream"], rows["per_unit"]))
