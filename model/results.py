"""Results of a solve as tidy tables, and the run folder they are written to (docs/run-folder.md).

`Result` holds what a planner reads: where every cluster goes (`layout`), what each region
hosts (`regions`), how full each ceiling is and what it is worth (`resources`), how resilient
each chain is (`resilience`), and the `summary` with provenance. `Result.write(folder)` writes a
run folder and `Result.read(folder)` reads it back into the same object, so that compare, sweep,
plots and reports take one kind of result whether it was just solved or solved long ago.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from model.errors import InputError
from model.instance import Instance
from model.scenario import Scenario, dataset_of
from model.solver import Status

TABLES = ("layout", "regions", "resources", "resilience")
"""The tables of every solved run folder, each `<name>.csv`."""
OPTIONAL_TABLES = ("flows", "backup", "recourse")
"""The resilient network's tables, each `<name>.csv` when the run has chains, backup or recourse
(docs/run-folder.md#flowscsv)."""
TOLERANCE = 1e-6


def versions() -> dict[str, str]:
    """Versions of this package, the solver and the libraries that shape a result."""
    out = {"python": platform.python_version()}
    for package in ("productive-layout", "pyomo", "highspy", "numpy", "pandas", "pydantic"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def layout_tables(
    inst: Instance, x: np.ndarray, y: np.ndarray, ceiling_price: np.ndarray, backup: np.ndarray | None = None
) -> dict[str, pd.DataFrame]:
    """The four tables of a run folder from output x, sites y and standby capacity b on the allowed cells.

    `ceiling_price` is the (R, K) array of ceiling shadow prices (objective units per unit of resource).
    Backup is not output: only the surviving shares of resilience.csv and the ceilings of
    backup.resources count it (docs/model.md#backup).
    """
    cells = inst.cells
    x = np.where(np.abs(x) < TOLERANCE, 0.0, x)
    b = np.zeros(len(x)) if backup is None else np.where(np.abs(backup) < TOLERANCE, 0.0, backup)
    established = (np.round(y) > 0.5).astype(int)
    I, R = len(inst.clusters), len(inst.regions)
    X = np.zeros((I, R))
    X[cells["i"].to_numpy(), cells["r"].to_numpy()] = x
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(inst.target[cells["i"]] > 0, x / inst.target[cells["i"]], np.nan)
    layout = pd.DataFrame(
        {
            "cluster": cells["cluster"],
            "region": cells["region"],
            "output": x,
            "established": established,
            "share_of_target": share,
        }
    )
    layout = layout[(layout["output"] > 0) | (layout["established"] > 0)].reset_index(drop=True)

    sites = np.zeros((I, R), dtype=int)
    sites[cells["i"].to_numpy(), cells["r"].to_numpy()] = established
    value = np.zeros((I, R))
    value[cells["i"].to_numpy(), cells["r"].to_numpy()] = x * cells["score"].to_numpy()
    regions = pd.DataFrame(
        {
            "region": inst.regions,
            "output": X.sum(axis=0),
            "n_clusters": sites.sum(axis=0),
            "effective_value": value.sum(axis=0),
        }
    )

    B = np.zeros((I, R))
    B[cells["i"].to_numpy(), cells["r"].to_numpy()] = b
    used = X.T @ inst.intensity  # (R, K)
    if inst.backup is not None:
        used += (B.T @ inst.intensity) * inst.backup.resources[None, :]
    available = inst.ceiling
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(available > 0, used / available, np.where(used > TOLERANCE, np.inf, 0.0))
    rr, kk = np.meshgrid(np.arange(R), np.arange(len(inst.resources)), indexing="ij")
    resources = pd.DataFrame(
        {
            "region": np.asarray(inst.regions, dtype=object)[rr.ravel()],
            "resource": np.asarray(inst.resources, dtype=object)[kk.ravel()],
            "used": used.ravel(),
            "available": available.ravel(),
            "utilization": utilization.ravel(),
            "shadow_price": ceiling_price.ravel(),
        }
    )

    T = inst.target
    with np.errstate(divide="ignore", invalid="ignore"):
        region_share = np.where(T[:, None] > 0, X / T[:, None], np.nan)
        hinterland = np.where(T > 0, X[:, inst.hinterland].sum(axis=1) / T, np.nan)
        surviving = {
            s: np.where(T > 0, (X + B)[:, ~lost].sum(axis=1) / T, np.nan) for s, lost in inst.disruptions.items()
        }
    worst_name, worst_share = [], []
    for n in range(I):
        if surviving and T[n] > 0:
            s = min(surviving, key=lambda s: surviving[s][n])
            worst_name.append(s)
            worst_share.append(surviving[s][n])
        else:
            worst_name.append("")
            worst_share.append(np.nan)
    resilience = pd.DataFrame(
        {
            "cluster": inst.clusters,
            "target": T,
            "sites": sites.sum(axis=1),
            "max_region_share": np.nanmax(np.where(np.isnan(region_share), -np.inf, region_share), axis=1)
            if R
            else np.nan,
            "hinterland_share": hinterland,
            "worst_disruption": worst_name,
            "worst_surviving_share": worst_share,
            "critical": inst.critical,
        }
    )
    resilience.loc[T <= 0, "max_region_share"] = np.nan
    return {"layout": layout, "regions": regions, "resources": resources, "resilience": resilience}


def network_tables(inst: Instance, x: np.ndarray, backup: np.ndarray, flow: np.ndarray) -> dict[str, pd.DataFrame]:
    """flows.csv (with chains), backup.csv (with backup) and recourse.csv (with recourse), from output x
    and standby b on the allowed cells and the flow f of every upstream cluster on every arc
    (docs/run-folder.md#flowscsv)."""
    tables: dict[str, pd.DataFrame] = {}
    net, cells = inst.network, inst.cells
    if net is not None:
        from model.network import Flows

        nodes = np.asarray(inst.nodes, dtype=object)
        if len(flow):
            flows = Flows(inst)
            moved = np.flatnonzero(flow > TOLERANCE)
            arc = flows.arc[moved]
            tables["flows"] = pd.DataFrame(
                {
                    "cluster": np.asarray(inst.clusters, dtype=object)[flows.cluster[moved]],
                    "from": nodes[net.arc_from[arc]],
                    "to": nodes[net.arc_to[arc]],
                    "flow": flow[moved],
                    "distance_km": net.distance[arc],
                }
            )
        else:
            tables["flows"] = pd.DataFrame(columns=["cluster", "from", "to", "flow", "distance_km"])
    if inst.backup is not None:
        held = np.flatnonzero(backup > TOLERANCE)
        tables["backup"] = pd.DataFrame(
            {
                "cluster": cells["cluster"].to_numpy()[held],
                "region": cells["region"].to_numpy()[held],
                "backup": backup[held],
            }
        )
    if net is not None and net.recourse and inst.disruption_survival is not None:
        tables["recourse"] = recourse_table(inst, x, backup)
    return tables


def recourse_table(inst: Instance, x: np.ndarray, backup: np.ndarray) -> pd.DataFrame:
    """Per active disruption s and cluster i of I*: the capacity that survives, Σ_{r∉L_s} (x_ir + b_ir);
    what must survive for every critical chain to deliver ρ (`network.required_output`); and how
    many arcs s cuts (docs/run-folder.md#recoursecsv)."""
    from model.network import required_output

    net, cells = inst.network, inst.cells
    assert net is not None
    members = np.flatnonzero(net.chain_members)
    held = np.zeros((len(inst.clusters), len(inst.regions)))
    held[cells["i"].to_numpy(), cells["r"].to_numpy()] = x + backup
    required = required_output(inst)
    names = list(inst.disruptions)
    lost = np.array([inst.disruptions[s] for s in names]).reshape(len(names), len(inst.regions))
    surviving = held[members] @ (~lost).T.astype(float)  # (members, S)
    cut = np.array([int(net.cut(inst.node_lost(row)).sum()) for row in lost], dtype=int)
    return pd.DataFrame(
        {
            "disruption": np.repeat(np.asarray(names, dtype=object), len(members)),
            "cluster": np.tile(np.asarray(inst.clusters, dtype=object)[members], len(names)),
            "surviving": surviving.T.ravel(),
            "required": np.tile(required[members], len(names)),
            "cut_arcs": np.repeat(cut, len(members)),
        }
    )


def last_year(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last period of a table with a `period` column (docs/model.md#periods); the
    table itself without one."""
    if "period" not in table.columns or not len(table):
        return table
    return table[table["period"] == table["period"].max()]


def critical_mask(resilience: pd.DataFrame) -> pd.Series:
    """Which rows of a resilience table are critical clusters (the column as booleans, or as read from CSV)."""
    return resilience["critical"].astype(str).str.lower().isin(["true", "1"])


def critical_rows(resilience: pd.DataFrame) -> pd.DataFrame:
    """The rows of a resilience table that are critical clusters."""
    return resilience[critical_mask(resilience)]


BINDING = 1 - 1e-6
"""A ceiling binds when this share of it or more is in use."""


def binding_ceilings(resources: pd.DataFrame) -> pd.DataFrame:
    """The rows of a resources table (in memory or read back) whose ceiling binds, the most valuable first."""
    binding = resources[(resources["utilization"] >= BINDING) & (resources["available"] > 0)]
    return binding.sort_values("shadow_price", ascending=False).reset_index(drop=True)


RESILIENCE_SUMMARY = {  # metric -> how it is summarised over the critical clusters
    "worst_surviving_share": "min",
    "hinterland_share": "min",
    "max_region_share": "max",
    "sites": "min",
}


def critical_summary(resilience: pd.DataFrame) -> dict[str, float]:
    """Each metric of `RESILIENCE_SUMMARY` over the critical clusters (NaN where there is none)."""
    critical = critical_rows(resilience)
    return {
        metric: float(getattr(critical[metric], how)()) if len(critical) else float("nan")
        for metric, how in RESILIENCE_SUMMARY.items()
    }


def resilience_of(resilience: pd.DataFrame) -> float:
    """The layout's resilience: the worst surviving share over critical clusters and active disruptions."""
    return critical_summary(resilience)["worst_surviving_share"]


@dataclass
class Result:
    """One solved (or failed) scenario: status, numbers, the four tables and provenance."""

    scenario: Scenario
    status: Status
    message: str = ""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    handover_seconds: float = 0.0
    solve_seconds: float = 0.0
    rows: int = 0
    columns: int = 0
    integer_columns: int = 0
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    constraints: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    solver_log: str | None = None
    """HiGHS's log, when the scenario asked for it (`solver.log: true`); written as solver.log."""
    instance: Instance | None = None
    """The numbers the model was built from (T, σ·cap, the allowed cells); for a result read back,
    resolved again from its scenario when the dataset is still where the run found it."""
    path: Path | None = None
    """The run folder this result was read from, if it was."""
    recorded: dict[str, Any] | None = None
    """The summary as written, for a result read back (its provenance stays what it was)."""
    objective_terms: dict[str, float] | None = None
    """The objective split into value, fixed_cost, relocation, transport and backup (they sum to it)."""

    @classmethod
    def read(cls, folder: str | Path) -> "Result":
        """A run folder read back into the `Result` that wrote it."""
        folder = Path(folder)
        if not (folder / "summary.json").is_file():
            raise InputError(folder, None, "not a run folder (no summary.json)")
        try:
            summary: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(folder / "summary.json", None, f"not valid JSON ({exc.msg})") from None
        try:
            resolved = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
            scenario = Scenario.model_validate(resolved)
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise InputError(folder / "scenario.yaml", None, f"not a resolved scenario ({exc})") from None
        result = cls(
            scenario,
            Status(summary["status"]),
            message=summary.get("message", ""),
            objective=summary.get("objective"),
            bound=summary.get("bound"),
            gap=summary.get("gap"),
            build_seconds=summary.get("build_seconds", 0.0),
            handover_seconds=summary.get("handover_seconds", 0.0),
            solve_seconds=summary.get("solve_seconds", 0.0),
            rows=summary.get("rows", 0),
            columns=summary.get("columns", 0),
            integer_columns=summary.get("integer_columns", 0),
            path=folder,
            recorded=summary,
            objective_terms=summary.get("objective_terms"),
        )
        if result.solved:
            for name in TABLES:
                path = folder / f"{name}.csv"
                if not path.is_file():
                    raise InputError(path, None, f"the run folder has no {name}.csv (status {result.status.value})")
                result.tables[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
            result.tables["resilience"]["critical"] = critical_mask(result.tables["resilience"])
            for name in OPTIONAL_TABLES:
                if (folder / f"{name}.csv").is_file():
                    result.tables[name] = pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])
        if (folder / "solver.log").is_file():
            result.solver_log = (folder / "solver.log").read_text(encoding="utf-8")
        return result

    def known_instance(self) -> Instance | None:
        """The instance; for a result read back, resolved again from its scenario (None when the
        dataset is no longer where the run found it)."""
        if self.instance is None and self.path is not None and Path(self.scenario.data).is_dir():
            self.instance = Instance.of(self.scenario, dataset_of(self.scenario))
        return self.instance

    @property
    def solved(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def layout(self) -> pd.DataFrame:
        return self.tables["layout"]

    @property
    def regions(self) -> pd.DataFrame:
        return self.tables["regions"]

    @property
    def resources(self) -> pd.DataFrame:
        return self.tables["resources"]

    @property
    def resilience(self) -> pd.DataFrame:
        return self.tables["resilience"]

    def binding_ceilings(self) -> pd.DataFrame:
        """Ceilings at their limit, the most valuable first."""
        return binding_ceilings(self.resources)

    @property
    def flows(self) -> pd.DataFrame | None:
        """flows.csv: every arc with flow > 0 (None without chains)."""
        return self.tables.get("flows")

    @property
    def backup(self) -> pd.DataFrame | None:
        """backup.csv: every cell with standby capacity (None without backup)."""
        return self.tables.get("backup")

    @property
    def recourse(self) -> pd.DataFrame | None:
        """recourse.csv: surviving and required capacity per disruption and cluster (None without recourse)."""
        return self.tables.get("recourse")

    def network_summary(self) -> dict[str, float] | None:
        """Total flow, flow·distance (10⁸ yuan·km) and total backup, where the run has them; with periods
        those of the last year (docs/run-folder.md#summaryjson)."""
        out: dict[str, float] = {}
        flows, backup = (None if t is None else last_year(t) for t in (self.flows, self.backup))
        if flows is not None:
            out["flow"] = float(flows["flow"].sum())
            out["flow_km"] = float((flows["flow"] * flows["distance_km"]).sum())
        if backup is not None:
            out["backup"] = float(backup["backup"].sum())
        return out or None

    @property
    def name(self) -> str:
        """The run folder's path for a result read back, else the scenario's name."""
        return str(self.path) if self.path is not None else self.scenario.name

    def blocked_cells(self) -> dict[str, set[str]]:
        """Per cluster, the regions that may not host it (suitability 0 or locked out); empty
        when the instance is unknown (a result read back whose dataset has moved)."""
        inst = self.known_instance()
        if inst is None:
            return {}
        allowed = inst.cells.groupby("cluster")["region"].apply(set).to_dict()
        return {c: set(inst.regions) - allowed.get(c, set()) for c in inst.clusters}

    def summary(self) -> dict[str, Any]:
        if self.recorded is not None:
            return dict(self.recorded)
        summary: dict[str, Any] = {
            "scenario": self.scenario.name,
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "build_seconds": round(self.build_seconds, 4),
            "handover_seconds": round(self.handover_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "rows": self.rows,
            "columns": self.columns,
            "integer_columns": self.integer_columns,
            "solver": "HiGHS (highspy)",
            "versions": versions(),
            "scenario_sha256": self.scenario.sha256(),
            "dataset": str(self.scenario.data),
            "dataset_sha256": dataset_of(self.scenario).sha256,
            "seed": self.scenario.solver.seed,
        }
        if self.solved:
            summary["resilience"] = resilience_of(self.resilience)
        summary["objective_terms"] = self.objective_terms
        network = self.network_summary() if self.solved else None
        if network is not None:
            summary["network"] = network
        summary.update(self.extra)
        return summary

    def write(self, folder: str | Path) -> Path:
        """Write the run folder atomically: a temporary folder beside it, renamed into place."""
        files: dict[str, Callable[[Path], object]] = {
            "summary.json": lambda p: p.write_text(
                json.dumps(finite(self.summary()), indent=2, default=_json_default) + "\n"
            ),
            "scenario.yaml": lambda p: p.write_text(self.scenario.resolved_yaml(), encoding="utf-8"),
        }
        for name, table in self.tables.items():
            files[f"{name}.csv"] = csv_writer(table)
        if self.solver_log is not None:
            log = self.solver_log
            files["solver.log"] = lambda p: p.write_text(log, encoding="utf-8")
        return write_folder(folder, files)


def finite(value: Any) -> Any:
    """The value with NaN and infinities replaced by None, recursively: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"cannot write {type(value)} to JSON")


def csv_writer(table: pd.DataFrame) -> Callable[[Path], object]:
    """A writer of `table` as CSV (no index), for `write_folder`."""
    return lambda path: table.to_csv(path, index=False)


def write_folder(folder: str | Path, files: dict[str, Callable[[Path], object]]) -> Path:
    """Write files into `folder` all or nothing: build a sibling temporary folder, then swap it in."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o777 & ~umask)  # mkdtemp makes it private; a run folder is not
    try:
        for name, writer in files.items():
            target = temporary / name
            target.parent.mkdir(parents=True, exist_ok=True)
            writer(target)
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(temporary, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return folder
