"""What moved between two solved layouts (`layout compare`, docs/cli.md#compare)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError
from model.results import RESILIENCE_SUMMARY, Result, critical_summary, finite, write_folder


@dataclass
class Comparison:
    """Cell-by-cell changes, ceiling-use changes, resilience changes and a summary."""

    changes: pd.DataFrame
    ceilings: pd.DataFrame
    resilience: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    flows: pd.DataFrame | None = None
    """Flow of every cluster on every arc in either run (docs/run-folder.md#compare-folder); None
    when neither run has chains."""

    def largest_moves(self, n: int = 10) -> pd.DataFrame:
        order = self.changes["delta"].abs().sort_values(ascending=False).index
        return self.changes.loc[order].head(n)

    def corridor_flows(self) -> pd.DataFrame | None:
        """The flow changes summed over clusters: one row per arc (from, to) in either run (and period)."""
        if self.flows is None:
            return None
        by = ["from", "to", "distance_km"] + (["period"] if "period" in self.flows.columns else [])
        return self.flows.groupby(by, as_index=False)[["flow_a", "flow_b", "delta"]].sum()

    def write(self, folder: str | Path) -> Path:
        files = {
            "changes.csv": lambda p: self.changes.to_csv(p, index=False),
            "ceiling_changes.csv": lambda p: self.ceilings.to_csv(p, index=False),
            "resilience_changes.csv": lambda p: self.resilience.to_csv(p, index=False),
            "summary.json": lambda p: p.write_text(json.dumps(finite(self.summary), indent=2) + "\n"),
        }
        flows = self.flows
        if flows is not None:
            files["flow_changes.csv"] = lambda p: flows.to_csv(p, index=False)
        return write_folder(folder, files)


def _as_run(run: Result | str | Path) -> Result:
    run = run if isinstance(run, Result) else Result.read(run)
    if not run.solved:
        raise InputError(run.name, None, "this run has no layout to compare (it did not solve)")
    return run


def _by_period(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Two tables made comparable period by period (docs/model.md#periods): when both have a
    `period` column they are joined on it too; when only one has, the other's one period is set
    beside each of its years."""
    if "period" in a.columns and "period" in b.columns:
        return a, b, ["period"]
    if "period" in a.columns:
        return a, b.merge(a[["period"]].drop_duplicates(), how="cross"), ["period"]
    if "period" in b.columns:
        return a.merge(b[["period"]].drop_duplicates(), how="cross"), b, ["period"]
    return a, b, []


def _changes(la: pd.DataFrame, lb: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    changes = la.merge(lb, on=keys, how="outer", suffixes=("_a", "_b")).fillna(
        {"output_a": 0.0, "output_b": 0.0, "established_a": 0, "established_b": 0}
    )
    changes["delta"] = changes["output_b"] - changes["output_a"]
    changes = changes[keys + ["output_a", "output_b", "delta", "established_a", "established_b"]]
    changes[["established_a", "established_b"]] = changes[["established_a", "established_b"]].astype(int)
    return changes.sort_values(keys).reset_index(drop=True)


def _moves(changes: pd.DataFrame) -> dict[str, Any]:
    return {
        "moved_output": float(changes["delta"].abs().sum() / 2),
        "opened_sites": int(((changes["established_b"] == 1) & (changes["established_a"] == 0)).sum()),
        "closed_sites": int(((changes["established_a"] == 1) & (changes["established_b"] == 0)).sum()),
    }


def compare(run_a: Result | str | Path, run_b: Result | str | Path) -> Comparison:
    """Compare two solved layouts: output deltas per cell, sites opened and closed, ceiling use, resilience.

    Phased runs are compared period by period: every table gains a `period` column, and the summary's
    moves are those of the last period, with the moves of every period under `periods`."""
    a, b = _as_run(run_a), _as_run(run_b)
    la, lb, period = _by_period(a.layout, b.layout)
    keys = ["cluster", "region"] + period
    changes = _changes(la[keys + ["output", "established"]], lb[keys + ["output", "established"]], keys)

    ra, rb, _ = _by_period(a.resources, b.resources)
    columns = ["region", "resource"] + period
    ceilings = ra[columns + ["used", "utilization"]].merge(
        rb[columns + ["used", "utilization"]], on=columns, how="outer", suffixes=("_a", "_b")
    )
    ceilings["delta"] = ceilings["used_b"] - ceilings["used_a"]

    sa, sb, _ = _by_period(a.resilience, b.resilience)
    metrics = list(RESILIENCE_SUMMARY)
    resilience = sa[["cluster"] + period + metrics].merge(
        sb[["cluster"] + period + metrics], on=["cluster"] + period, how="outer", suffixes=("_a", "_b")
    )
    for metric in metrics:
        resilience[f"{metric}_delta"] = resilience[f"{metric}_b"] - resilience[f"{metric}_a"]

    last = changes[changes["period"] == changes["period"].max()] if period else changes
    assert a.objective is not None and b.objective is not None, "solved runs have an objective"
    summary: dict[str, Any] = {
        "run_a": a.name,
        "run_b": b.name,
        "objective_a": a.objective,
        "objective_b": b.objective,
        "objective_change": b.objective - a.objective,
        **_moves(last),
        "ceiling_use_change": {
            k: float(v)
            for k, v in (ceilings[ceilings["period"] == ceilings["period"].max()] if period else ceilings)
            .groupby("resource")["delta"]
            .sum()
            .items()
        },
    }
    if period:
        summary["periods"] = [{"year": int(year), **_moves(group)} for year, group in changes.groupby("period")]
    ca, cb = critical_summary(sa), critical_summary(sb)
    for metric, how in RESILIENCE_SUMMARY.items():
        summary[f"{metric}_{how}"] = {"a": ca[metric], "b": cb[metric], "change": cb[metric] - ca[metric]}
    terms_a, terms_b = a.objective_terms or {}, b.objective_terms or {}
    if terms_a and terms_b:
        summary["objective_terms"] = {
            term: {"a": terms_a[term], "b": terms_b[term], "change": terms_b[term] - terms_a[term]}
            for term in terms_a
            if term in terms_b
        }
    network_a, network_b = a.network_summary() or {}, b.network_summary() or {}
    for total in ("backup", "flow", "flow_km"):  # docs/run-folder.md#compare-folder
        if total in network_a or total in network_b:
            va, vb = network_a.get(total, 0.0), network_b.get(total, 0.0)
            summary[f"total_{total}"] = {"a": va, "b": vb, "change": vb - va}
    return Comparison(changes, ceilings, resilience, summary, flow_changes(a, b))


def flow_changes(a: Result, b: Result) -> pd.DataFrame | None:
    """cluster, from, to, distance_km, flow_a, flow_b, delta for every arc a cluster uses in either run
    (0 where a run has no flow there, or no chains), and the period where a run is phased; None when
    neither run has chains."""
    if a.flows is None and b.flows is None:
        return None
    empty = pd.DataFrame(columns=["cluster", "from", "to", "flow", "distance_km"])
    fa, fb, period = _by_period(*(run.flows if run.flows is not None else empty for run in (a, b)))
    keys = ["cluster", "from", "to"] + period
    flows = fa[keys + ["flow", "distance_km"]].merge(
        fb[keys + ["flow", "distance_km"]], on=keys, how="outer", suffixes=("_a", "_b")
    )
    flows["distance_km"] = flows["distance_km_a"].fillna(flows["distance_km_b"]).astype(float)
    flows[["flow_a", "flow_b"]] = flows[["flow_a", "flow_b"]].astype(float).fillna(0.0)
    flows["delta"] = flows["flow_b"] - flows["flow_a"]
    return flows[keys + ["distance_km", "flow_a", "flow_b", "delta"]].sort_values(keys).reset_index(drop=True)
