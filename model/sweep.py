"""Parameter sweeps: one solve per point, in parallel, resumable (`layout sweep`, docs/model.md#sweep).

Points run in local processes by default, or on any `concurrent.futures` executor — a
`dask.distributed.Client` included, so a sweep that outgrows one machine runs on a cluster
unchanged. Each worker builds its own model from the (small, picklable) scenario; the results
come back to the caller, which writes one run folder per point. A point whose run folder is
finished for the same resolved scenario is not solved again.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import multiprocessing
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from model.errors import InputError
from model.results import RESILIENCE_SUMMARY, Result, critical_summary
from model.run import as_scenario, solve
from model.scenario import Scenario


def grid(parameters: Mapping[str, Iterable[Any]]) -> list[dict[str, Any]]:
    """Every combination of the swept values, the first parameter varying slowest."""
    names = list(parameters)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(v) for v in parameters.values()))]


def point_name(point: dict[str, Any]) -> str:
    """A folder name that says which values the point has, e.g. `ceilings.water.scale=0.8`."""
    text = "__".join(
        f"{path}={json.dumps(value) if not isinstance(value, str) else value}" for path, value in point.items()
    )
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", text)


def point_scenarios(scenario: Scenario, parameters: dict[str, list[Any]]) -> list[tuple[dict[str, Any], Scenario]]:
    """Every point's scenario, all validated before any solve starts."""
    base = scenario.model_copy(update={"sweep": None})
    points = []
    for point in grid(parameters):
        points.append(
            (point, base.with_overrides(point).model_copy(update={"name": f"{base.name}[{point_name(point)}]"}))
        )
    return points


def _summary_row(point: dict[str, Any], run: Result, folder: Path) -> dict:
    row = dict(point)
    row.update(status=run.status.value, objective=run.objective, gap=run.gap)
    metrics = critical_summary(run.resilience) if run.solved else dict.fromkeys(RESILIENCE_SUMMARY, np.nan)
    row.update(
        resilience=metrics["worst_surviving_share"],
        hinterland_share=metrics["hinterland_share"],
        max_region_share=metrics["max_region_share"],
        sites=int(metrics["sites"]) if np.isfinite(metrics["sites"]) else np.nan,
    )
    row["folder"] = str(folder)
    return row


def _finished(folder: Path, scenario: Scenario) -> bool:
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return summary.get("scenario_sha256") == scenario.sha256()


def _solve_point(scenario: Scenario) -> Result:
    return solve(scenario)


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)


def tipping_points(table: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """Between which adjacent values of each parameter the set of established cells changes.

    Values are adjacent in numeric order, or in the order given when some value is not a number
    (a null, say: no floor, no limit), since such a value has no place among the numbers."""
    layouts: dict[str, set] = {}
    for folder, status in zip(table["folder"], table["status"]):
        if status in ("optimal", "feasible"):
            layout = Result.read(folder).layout
            layouts[folder] = set(
                zip(layout.loc[layout["established"] == 1, "cluster"], layout.loc[layout["established"] == 1, "region"])
            )
    rows = []
    for parameter in parameters:
        others = [p for p in parameters if p != parameter]
        groups = table.groupby(others, sort=False, dropna=False) if others else [((), table)]
        for _, group in groups:
            numbers = pd.to_numeric(group[parameter], errors="coerce")
            if numbers.notna().all():
                group = group.iloc[np.argsort(numbers.to_numpy(), kind="stable")]
            for (_, before), (_, after) in zip(group.iterrows(), list(group.iterrows())[1:]):
                if before["folder"] not in layouts or after["folder"] not in layouts:
                    continue
                a, b = layouts[before["folder"]], layouts[after["folder"]]
                if a != b:
                    rows.append(
                        {
                            "parameter": parameter,
                            "from_value": before[parameter],
                            "to_value": after[parameter],
                            **{p: before[p] for p in others},
                            "changed_cells": len(a ^ b),
                            "opened": len(b - a),
                            "closed": len(a - b),
                            "opened_cells": ";".join(f"{c}@{r}" for c, r in sorted(b - a)),
                            "closed_cells": ";".join(f"{c}@{r}" for c, r in sorted(a - b)),
                        }
                    )
    columns = [
        "parameter",
        "from_value",
        "to_value",
        "changed_cells",
        "opened",
        "closed",
        "opened_cells",
        "closed_cells",
    ]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(columns[:3] + [k for r in rows for k in r] + columns[3:])))


def read_tipping_points(folder: str | Path) -> pd.DataFrame:
    """The tipping points a sweep wrote to its folder."""
    return pd.read_csv(Path(folder) / "tipping_points.csv")


def _executor(jobs: int, executor: Any) -> tuple[cf.Executor | None, bool]:
    if executor is not None:
        if hasattr(executor, "get_executor"):  # a dask.distributed.Client
            return executor.get_executor(), False
        return executor, False
    if jobs <= 1:
        return None, False
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")), True


def sweep(
    scenario: Scenario | str | Path,
    parameters: Mapping[str, Iterable[Any]] | None = None,
    *,
    jobs: int | None = None,
    executor: Any = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve the scenario once per point of the parameter grid; return (and write) the sweep table.

    `parameters` maps dotted paths to values (default: the scenario's `sweep:` block). Points run in
    `jobs` local processes, or on `executor` (a `concurrent.futures` executor or a dask Client).
    The folder `out` (default `runs/<name>-sweep`) gets `sweep.csv`, `tipping_points.csv` and a
    run folder per point under `points/`; points already finished there are not solved again.
    """
    scenario = as_scenario(scenario)
    if parameters is None:
        if scenario.sweep is None:
            raise InputError(scenario.name, "sweep", "no parameters to sweep: give --param or a `sweep:` block")
        parameters = scenario.sweep.parameters
    swept = {path: list(values) for path, values in parameters.items()}
    if not swept or any(not values for values in swept.values()):
        raise InputError(scenario.name, "sweep", "every swept parameter needs at least one value")
    jobs = jobs or (scenario.sweep.jobs if scenario.sweep else 1)
    points = point_scenarios(scenario, swept)
    out = Path(out) if out else Path("runs") / f"{scenario.name}-sweep"
    (out / "points").mkdir(parents=True, exist_ok=True)

    folders = {n: out / "points" / point_name(point) for n, (point, _) in enumerate(points)}
    todo = [n for n, (_, point_scenario) in enumerate(points) if not _finished(folders[n], point_scenario)]
    bar = _progress(len(points), len(points) - len(todo)) if progress else None
    pool, owned = _executor(jobs, executor)
    try:
        if pool is None:
            for n in todo:
                _solve_point(points[n][1]).write(folders[n])
                bar and bar.update()
        else:
            futures = {pool.submit(_solve_point, points[n][1]): n for n in todo}
            for future in cf.as_completed(futures):
                future.result().write(folders[futures[future]])
                bar and bar.update()
    finally:
        if owned and pool is not None:
            pool.shutdown(cancel_futures=True)
        bar and bar.close()

    rows = []
    for n, (point, _) in enumerate(points):
        rows.append(_summary_row(point, Result.read(folders[n]), folders[n]))
    table = pd.DataFrame(rows)
    _write_atomically(out / "sweep.csv", table.to_csv(index=False))
    _write_atomically(out / "tipping_points.csv", tipping_points(table, list(swept)).to_csv(index=False))
    return table


def _progress(total: int, done: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="sweep", unit="point", leave=True)
