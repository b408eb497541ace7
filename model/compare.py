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
        """The flow changes summed over clusters: one row per arc (from, to) in either run."""
        if self.flows is None:
            return None
        return self.flows.groupby(["from", "to", "distance_km"], as_index=False)[["flow_a", "flow_b", "delta"]].sum()

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


def compare(run_a: Result | str | Path, run_b: Result | str | Path) -> Comparison:
    """Compare two solved layouts: output deltas per cell, sites opened and closed, ceiling use, resilience."""
    a, b = _as_run(run_a), _as_run(run_b)
    keys = ["cluster", "region"]
    la = a.layout[keys + ["output", "established"]]
    lb = b.layout[keys + ["output", "established"]]
    changes = la.merge(lb, on=keys, how="outer", suffixes=("_a", "_b")).fillna(
        {"output_a": 0.0, "output_b": 0.0, "established_a": 0, "established_b": 0})
    changes["delta"] = changes["output_b"] - changes["output_a"]
    changes = changes[keys + ["output_a", "output_b", "delta", "established_a", "established_b"]]
    changes[["established_a", "established_b"]] = changes[["established_a", "established_b"]].astype(int)
    changes = changes.sort_values(keys).reset_index(drop=True)

    ra, rb = a.resources, b.resources
    ceilings = ra[["region", "resource", "used", "utilization"]].merge(
        rb[["region", "resource", "used", "utilization"]], on=["region", "resource"], how="outer", suffixes=("_a", "_b"))
    ceilings["delta"] = ceilings["used_b"] - ceilings["used_a"]

    sa, sb = a.resilience, b.resilience
    metrics = list(RESILIENCE_SUMMARY)
    resilience = sa[["cluster"] + metrics].merge(sb[["cluster"] + metrics], on="cluster", how="outer", suffixes=("_a", "_b"))
    for metric in metrics:
        resilience[f"{metric}_delta"] = resilience[f"{metric}_b"] - resilience[f"{metric}_a"]

    opened = int(((changes["established_b"] == 1) & (changes["established_a"] == 0)).sum())
    closed = int(((changes["established_a"] == 1) & (changes["established_b"] == 0)).sum())
    summary: dict[str, Any] = {
        "run_a": a.name, "run_b": b.name,
        "objective_a": a.objective, "objective_b": b.objective,
        "objective_change": b.objective - a.objective,
        "moved_output": float(changes["delta"].abs().sum() / 2),
        "opened_sites": opened, "closed_sites": closed,
        "ceiling_use_change": {k: float(v) for k, v in ceilings.groupby("resource")["delta"].sum().items()},
    }
    ca, cb = critical_summary(sa), critical_summary(sb)
    for metric, how in RESILIENCE_SUMMARY.items():
        summary[f"{metric}_{how}"] = {"a": ca[metric], "b": cb[metric], "change": cb[metric] - ca[metric]}
    terms_a, terms_b = a.objective_terms or {}, b.objective_terms or {}
    if terms_a and terms_b:
        summary["objective_terms"] = {term: {"a": terms_a[term], "b": terms_b[term], "change": terms_b[term] - terms_a[term]}
                                      for term in terms_a if term in terms_b}
    network_a, network_b = a.network_summary() or {}, b.network_summary() or {}
    for total in ("backup", "flow", "flow_km"):  # docs/run-folder.md#compare-folder
        if total in network_a or total in network_b:
            va, vb = network_a.get(total, 0.0), network_b.get(total, 0.0)
            summary[f"total_{total}"] = {"a": va, "b": vb, "change": vb - va}
    return Comparison(changes, ceilings, resilience, summary, flow_changes(a, b))


def flow_changes(a: Result, b: Result) -> pd.DataFrame | None:
    """cluster, from, to, distance_km, flow_a, flow_b, delta for every arc a cluster uses in either run
    (0 where a run has no flow there, or no chains); None when neither run has chains."""
    if a.flows is None and b.flows is None:
        return None
    keys = ["cluster", "from", "to"]
    empty = pd.DataFrame(columns=keys + ["flow", "distance_km"])
    fa, fb = (run.flows if run.flows is not None else empty for run in (a, b))
    flows = fa[keys + ["flow", "distance_km"]].merge(fb[keys + ["flow", "distance_km"]], on=keys, how="outer",
                                                     suffixes=("_a", "_b"))
    flows["distance_km"] = flows["distance_km_a"].fillna(flows["distance_km_b"]).astype(float)
    flows[["flow_a", "flow_b"]] = flows[["flow_a", "flow_b"]].astype(float).fillna(0.0)
    flows["delta"] = flows["flow_b"] - flows["flow_a"]
    return flows[keys + ["distance_km", "flow_a", "flow_b", "delta"]].sort_values(keys).reset_index(drop=True)
