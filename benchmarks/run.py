"""Time building, handing over and solving the layout model at six scales, in up to four forms.

    python benchmarks/run.py --time-limit 300 --out benchmarks/results.json

For each scale a synthetic dataset (`model.synth.synthesize`, fixed seed; the network and periods scales
with `chains=True`) and a baseline-like scenario (`county_network`: with chains, recourse and backup;
`province_periods` and `county_periods`: with chains, over three periods) are written to a temporary
folder. Each form then runs in its own subprocess, one after another, so that imports, caches and peak
memory (getrusage maxrss) are separate:

- `cli`      `layout solve` end to end, imports included (province scale only, unless --cli-scales),
             with the scenario's solve strategy (`auto`: LP rounding on large models);
- `project`  `model.run.prepare` (Instance + Pyomo build), `HighsModel.from_pyomo` (hand-over),
             `model.run.solve_highs` (the scenario's strategy, as `layout solve` does: `auto` is
             branch and bound up to 5,000 site variables and LP rounding above);
- `highspy`  `Instance.of` (one per period with periods) + the model assembled directly as a sparse
             matrix (benchmarks/forms.py), one `passModel`, `Highs.run` (plain branch and bound);
- `linopy`   `Instance.of` + the same model in linopy, `Model.to_highspy()`, `Highs.run` (plain
             branch and bound); not at the network and periods scales (the linopy form has neither);
- `project@baseline`  with --baseline DIR: `project` with the `model` package of DIR.

Solves use the scenario's solver options (time limit from --time-limit, MIP gap, 1 thread, seed 0).
A further subprocess per scale (--verify-scales) builds the forms in-process and checks that they
hand HiGHS the identical matrix, bounds and costs, element by element. The script prints one JSON
line per form, the rows and nonzeros of every constraint family, a table, the ratios and check
lines, and writes everything to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from model.formatting import number

HERE = Path(__file__).resolve().parent
SYNTHETIC_GOALS = HERE.parent / "scenarios" / "synthetic" / "county.yaml"
"""The baseline's goals for a synthetic dataset (scenarios/synthetic/county.yaml), which every scale extends."""
SCALES = {  # regions, clusters, disruptions (None: the generator's default, max(4, regions // 60)), network, periods
    "province": (31, 20, None, None, False),
    "prefecture": (333, 30, None, None, False),
    "county": (2844, 40, 50, None, False),
    "county_network": (2844, 40, 50, "resilient", False),
    "province_periods": (31, 20, None, "chains", True),
    "county_periods": (2844, 40, 50, "chains", True),
}
"""A network scale's dataset is `layout synth --chains` (31 nodes); its scenario adds to the baseline-like goals
chains with recourse and backup (`NETWORK["resilient"]`) or chains alone (`NETWORK["chains"]`, as the baseline
has them). A periods scale phases that over three periods (`PERIODS`)."""
FORMS = ("cli", "project", "highspy", "linopy")
NETWORK = {
    "resilient": {
        "chains": {"enabled": True, "transport_cost_scale": 1.0, "recourse": True},
        "backup": {"cost": 0.05, "share": 0.05, "hinterland_only": True, "resources": ["land"]},
    },
    "chains": {"chains": {"enabled": True, "transport_cost_scale": 1.0, "recourse": False}},
}
"""The network of a network scale: `resilient` is scenarios/resilient_network.yaml's keys with half its backup
share; `chains` the chains of scenarios/baseline.yaml, without backup and recourse."""
PERIODS = {
    "years": [2026, 2028, 2030],
    "progress": [0.35, 0.7, 1.0],
    "ceilings": {"carbon": [1.0, 0.95, 0.9], "water": [1.0, 0.97, 0.94]},
    "decline_limit": 0.45,
}
"""The periods of a periods scale: scenarios/phasing_2026_2030.yaml's."""


# --- workers (each runs in its own process) --------------------------------------------------------


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _run_highs(h, options) -> dict:
    """Run a HiGHS instance with the scenario's options, as the project's solver does, and report it."""
    from model.solver import apply_options, outcome_of

    apply_options(h, options)
    h.setOptionValue("output_flag", False)
    started = time.perf_counter()
    h.run()
    outcome = outcome_of(h, time.perf_counter() - started, mip=True)
    return {
        "status": outcome.status.value,
        "highs_status": h.modelStatusToString(h.getModelStatus()),
        "solve_s": outcome.solve_seconds,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap": outcome.gap,
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def worker(form: str, scenario_path: str, repeats: int = 1, written_to: str | None = None) -> dict:
    """Time one form in this process: build and hand-over `repeats` times (median reported), then solve once.
    With `written_to`, the build's numbers are written there before the solve starts."""
    import gc

    import highspy  # noqa: F401 - every library is imported before the clock starts
    import numpy  # noqa: F401
    import scipy.sparse  # noqa: F401

    from forms import resolve
    from model.scenario import dataset_of, load_scenario

    scenario = load_scenario(scenario_path)  # reads and validates the dataset once (not timed)
    dataset = dataset_of(scenario)
    if form == "project":
        from model.run import prepare, solve_highs
        from model.solver import HighsModel

        def build():
            return prepare(scenario)

        def handover(prepared):
            return HighsModel.from_pyomo(prepared.model)
    elif form in ("highspy", "linopy"):
        from forms import assemble_scenario, build_linopy, linopy_to_highs

        if form == "linopy":
            import linopy  # noqa: F401
            import xarray  # noqa: F401

        def build():
            instances = resolve(scenario, dataset)
            return instances, (
                assemble_scenario(scenario, instances) if form == "highspy" else build_linopy(instances[0])
            )

        def handover(built):
            instances, model = built
            return model.to_highs() if form == "highspy" else linopy_to_highs(model, instances[0])
    else:
        raise SystemExit(f"unknown form {form!r}")

    times: dict[str, list[float]] = {"build_s": [], "handover_s": [], "instance_s": []}
    for _ in range(repeats):
        built = handed = None
        gc.collect()
        started = time.perf_counter()
        built = build()
        times["build_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        handed = handover(built)
        times["handover_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        resolve(scenario, dataset)  # how much of every build is resolving the instance(s), for reference
        times["instance_s"].append(time.perf_counter() - started)
    result: dict = {"form": form, "repeats": repeats}
    result.update({key: _median(values) for key, values in times.items()})
    result.update({f"{key}_all": values for key, values in times.items()})
    result["build_handover_s"] = result["build_s"] + result["handover_s"]

    if form == "project":
        rows, cols, ints = handed.shape
        result.update(
            rows=rows,
            columns=cols,
            integer_columns=ints,
            nnz=int(handed.matrix.nnz),
            families=family_sizes(handed.row_family, handed.matrix),
        )
    else:
        lp = handed.getLp()
        result.update(
            rows=lp.num_row_,
            columns=lp.num_col_,
            nnz=len(lp.a_matrix_.value_),
            integer_columns=int(sum(1 for v in lp.integrality_ if int(v) == 1)),
        )
    if written_to is not None:  # what was built stays on record if the solve is cut off (run_form)
        Path(written_to).write_text(json.dumps(dict(result, status="unfinished"), indent=1, default=float))
    if form == "project":
        outcome = solve_highs(built, handed)
        result.update(
            status=outcome.status.value,
            objective=outcome.objective,
            bound=outcome.bound,
            gap=outcome.gap,
            solve_s=outcome.solve_seconds,
            message=outcome.message,
        )
    else:
        result.update(_run_highs(handed, scenario.solver))
    result["peak_rss_mib"] = _peak_rss_mib()
    return result


def family_sizes(row_family, matrix) -> list[list]:
    """[family, rows, nonzeros] of every constraint family, in the order the rows reach HiGHS."""
    import numpy as np

    per_row = np.diff(matrix.indptr)
    names = list(dict.fromkeys(row_family))
    return [[name, int((row_family == name).sum()), int(per_row[row_family == name].sum())] for name in names]


def verify(scenario_path: str, forms: tuple[str, ...] = ("highspy", "linopy")) -> dict:
    """Build the project's model and each of `forms` in this process and compare what each hands HiGHS,
    element by element."""
    import highspy
    import numpy as np
    import scipy.sparse as sp

    from forms import assemble_scenario, build_linopy, covers, linopy_to_highs, resolve
    from model.run import prepare
    from model.scenario import dataset_of, load_scenario
    from model.solver import HighsModel

    scenario = load_scenario(scenario_path)
    prepared = prepare(scenario)
    instances = resolve(scenario, dataset_of(scenario))

    def arrays(h) -> dict:
        lp = h.getLp()
        shape = (lp.num_row_, lp.num_col_)
        mat = (np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_), np.asarray(lp.a_matrix_.start_))
        A = (
            sp.csc_matrix(mat, shape=shape)
            if lp.a_matrix_.format_ == highspy.MatrixFormat.kColwise
            else sp.csr_matrix(mat, shape=shape)
        ).tocsr()
        integrality = (
            np.array([int(v) for v in lp.integrality_]) if len(lp.integrality_) else np.zeros(lp.num_col_, int)
        )
        return {
            "cost": np.asarray(lp.col_cost_),
            "col_lower": np.asarray(lp.col_lower_),
            "col_upper": np.asarray(lp.col_upper_),
            "row_lower": np.asarray(lp.row_lower_),
            "row_upper": np.asarray(lp.row_upper_),
            "integrality": integrality,
            "A": A,
            "offset": float(lp.offset_),
            "sense": int(lp.sense_ == highspy.ObjSense.kMaximize),
        }

    reference = arrays(HighsModel.from_pyomo(prepared.model).highs)
    out = {}
    builders = {
        "highspy": lambda: assemble_scenario(scenario, instances).to_highs(),
        "linopy": lambda: linopy_to_highs(build_linopy(instances[0]), instances[0]),
    }
    for form, build in builders.items():
        if form not in forms or not covers(form, instances):
            continue
        other = arrays(build())
        same: dict[str, bool] = {}
        for key, value in reference.items():
            if key == "A":
                same[key] = value.shape == other[key].shape and (value != other[key]).nnz == 0
            elif isinstance(value, np.ndarray):
                same[key] = value.shape == other[key].shape and bool(np.array_equal(value, other[key]))
            else:
                same[key] = abs(value - other[key]) <= 1e-9 * max(1.0, abs(value))
        out[form] = {"identical": all(same.values()), "fields": same}
    return out


# --- orchestration ------------------------------------------------------------------------------


def write_scenario(
    folder: Path, data: Path, time_limit: float, mip_gap: float, network: str | None = None, periods: bool = False
) -> Path:
    """The baseline scenario's goals on a synthetic dataset (`SYNTHETIC_GOALS`); with `network`, that network
    too (`NETWORK`), and with `periods`, phased over `PERIODS`."""
    import yaml

    content = {
        "name": f"bench_{folder.name}",
        "description": "baseline-like scenario on a synthetic dataset (benchmarks/run.py)",
        "extends": str(SYNTHETIC_GOALS),
        "data": str(data),
        **(NETWORK[network] if network else {}),
        **({"periods": PERIODS} if periods else {}),
        "solver": {"time_limit": time_limit, "mip_gap": mip_gap, "threads": 1, "seed": 0},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def run_child(cmd: list[str], log: Path, wall_limit: float, code: Path | None = None) -> tuple[int, float, float, bool]:
    """Run a subprocess (with the `model` package of the source tree `code`, if given); return exit code, wall
    seconds, its peak RSS (MiB, from wait4) and whether it was killed."""
    started = time.perf_counter()
    env = None
    if code is not None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(code)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        )
    with log.open("w") as handle:
        proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=HERE.parent, env=env)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(wall_limit, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024.0, killed.is_set()


def layout_executable() -> list[str]:
    exe = Path(sys.executable).parent / "layout"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("layout")
    if found:
        return [found]
    return [sys.executable, "-m", "model.cli"]


def run_form(
    form: str, folder: Path, scenario: Path, wall_limit: float, repeats: int = 1, code: Path | None = None
) -> dict:
    """One form in its own subprocess; `code`: a source tree whose `model` package the worker imports instead
    (the `project` form of --baseline)."""
    log = folder / f"{form}{'@baseline' if code else ''}.log"
    if form == "cli":
        out = folder / "run_cli"
        code, wall, rss, killed = run_child(
            layout_executable() + ["solve", str(scenario), "--out", str(out)], log, wall_limit
        )
        result = {"form": "cli", "exit_code": code, "wall_s": wall, "peak_rss_mib": rss}
        summary = out / "summary.json"
        if summary.is_file():
            s = json.loads(summary.read_text())
            handover = s.get("handover_seconds") or 0.0
            result.update(
                status=s.get("status"),
                objective=s.get("objective"),
                bound=s.get("bound"),
                gap=s.get("gap"),
                build_s=s["build_seconds"] - handover,
                handover_s=handover,
                build_handover_s=s["build_seconds"],
                solve_s=s.get("solve_seconds"),
                rows=s.get("rows"),
                columns=s.get("columns"),
                integer_columns=s.get("integer_columns"),
            )
        else:
            result["status"] = "killed" if killed else "error"
        return result
    target = folder / f"{form}{'@baseline' if code else ''}.json"
    target.unlink(missing_ok=True)
    exit_code, wall, rss, killed = run_child(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            form,
            "--scenario",
            str(scenario),
            "--result",
            str(target),
            "--repeats",
            str(repeats),
        ],
        log,
        wall_limit,
        code,
    )
    if target.is_file():
        result = json.loads(target.read_text())
        if killed:
            result["status"] = "killed"
            result["message"] = f"killed after {wall_limit:g} s wall (--wall-limit): the solve did not return"
    else:
        result = {
            "form": form,
            "status": "killed" if killed else "error",
            "message": log.read_text()[-2000:] if log.is_file() else "",
        }
    result.update(exit_code=exit_code, wall_s=wall, peak_rss_mib_wait4=rss)
    result.setdefault("peak_rss_mib", rss)
    if code is not None:
        result["form"] = "project@baseline"
    return result


JSON_KEYS = (
    "scale",
    "form",
    "rows",
    "columns",
    "integer_columns",
    "nnz",
    "build_s",
    "handover_s",
    "build_handover_s",
    "solve_s",
    "status",
    "objective",
    "bound",
    "gap",
    "message",
    "peak_rss_mib",
    "wall_s",
)


def json_line(result: dict) -> dict:
    """The headline numbers of one form's result, for one JSON line."""
    return {key: result[key] for key in JSON_KEYS if result.get(key) is not None}


def print_families(families: list[list]) -> None:
    """Rows and nonzeros of every constraint family as the project hands them to HiGHS."""
    width = max(len(f[0]) for f in families)
    print(f"  {'family':<{width}}  {'rows':>9}  {'nonzeros':>10}")
    for name, rows, nnz in families:
        print(f"  {name:<{width}}  {rows:>9,}  {nnz:>10,}")
    print(f"  {'all':<{width}}  {sum(f[1] for f in families):>9,}  {sum(f[2] for f in families):>10,}", flush=True)


def print_table(rows: list[dict]) -> None:
    header = (
        "scale",
        "form",
        "build s",
        "hand-over s",
        "build+hand-over s",
        "solve s",
        "status",
        "objective",
        "gap",
        "peak RSS MiB",
        "wall s",
    )
    lines = [header]
    for r in rows:
        gap = None if r.get("gap") is None else 100 * r["gap"]
        lines.append(
            (
                r["scale"],
                r["form"],
                number(r.get("build_s")),
                number(r.get("handover_s")),
                number(r.get("build_handover_s")),
                number(r.get("solve_s")),
                r.get("status", "–"),
                number(r.get("objective")),
                "–" if gap is None else f"{gap:.3f}%",
                number(r.get("peak_rss_mib")),
                number(r.get("wall_s")),
            )
        )
    widths = [max(len(str(line[j])) for line in lines) for j in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(str(v).rjust(w) if j >= 2 else str(v).ljust(w) for j, (v, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def checks(scale: str, results: dict[str, dict], mip_gap: float, verified: dict | None) -> list[dict]:
    out = []
    shapes = {
        f: (r.get("rows"), r.get("columns"), r.get("integer_columns"))
        for f, r in results.items()
        if r.get("rows") is not None
    }
    if "project" in shapes:
        same = all(s == shapes["project"] for s in shapes.values())
        text = ", ".join(f"{f} {s[0]:,}x{s[1]:,} ({s[2]:,} int)" for f, s in shapes.items())
        out.append({"scale": scale, "check": "shape", "ok": same, "text": f"rows x columns: {text}"})
    finished = {f: r["objective"] for f, r in results.items() if r.get("status") == "optimal"}
    if len(finished) >= 2:
        values = list(finished.values())
        spread = (max(values) - min(values)) / max(1e-9, abs(max(values)))
        ok = spread <= mip_gap
        text = " = ".join(f"{f} {v:,.4f}" for f, v in finished.items())
        out.append(
            {
                "scale": scale,
                "check": "optimum",
                "ok": ok,
                "spread": spread,
                "text": f"optimum: {text} (relative spread {spread:.1e}, gap tolerance {mip_gap:g})",
            }
        )
    elif len(results) == 1:
        out.append(
            {"scale": scale, "check": "optimum", "ok": None, "text": "optimum: one form only, nothing to compare"}
        )
    elif results:
        statuses = ", ".join(f"{f} {r.get('status')}" for f, r in results.items())
        out.append(
            {
                "scale": scale,
                "check": "optimum",
                "ok": None,
                "text": f"optimum: not all forms finished ({statuses}); objectives not compared",
            }
        )
    if verified:
        for form, v in verified.items():
            bad = [k for k, ok in v["fields"].items() if not ok]
            out.append(
                {
                    "scale": scale,
                    "check": f"identical_{form}",
                    "ok": v["identical"],
                    "text": f"{form} hands HiGHS the project's exact matrix, bounds, costs and integrality"
                    if v["identical"]
                    else f"{form} differs from the project in: {', '.join(bad)}",
                }
            )
    return out


def ratios(results: dict[str, dict]) -> dict:
    out = {}
    project = results.get("project", {})
    baseline = results.get("project@baseline", {})
    for key in ("build_handover_s", "solve_s"):
        if project.get(key) and baseline.get(key):
            out[f"project/project@baseline {key.removesuffix('_s').replace('_', '+')}"] = project[key] / baseline[key]
    for other in ("highspy", "linopy"):
        r = results.get(other, {})
        if project.get("build_handover_s") and r.get("build_handover_s"):
            out[f"project/{other}"] = project["build_handover_s"] / r["build_handover_s"]
            p_model = project["build_handover_s"] - project.get("instance_s", 0.0)
            o_model = r["build_handover_s"] - r.get("instance_s", 0.0)
            if o_model > 0:
                out[f"project/{other} without Instance.of"] = p_model / o_model
    return out


def versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("productive-layout", "highspy", "pyomo", "linopy", "numpy", "scipy", "xarray"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        default=",".join(SCALES),
        help=f"comma-separated, from {', '.join(SCALES)}",
    )
    parser.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, from {', '.join(FORMS)}")
    parser.add_argument("--cli-scales", default="province", help="scales at which `layout solve` runs end to end")
    parser.add_argument(
        "--verify-scales",
        default=",".join(SCALES),
        help="scales at which the three forms are compared element by element ('' for none)",
    )
    parser.add_argument("--time-limit", type=float, default=300.0, help="HiGHS time limit per solve, seconds")
    parser.add_argument(
        "--mip-gap", type=float, default=0.01, help="relative MIP gap (default 1 %%, the gap of the county target)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic datasets")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="in-process forms build and hand over this many times; the median is reported",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a source tree of the project (e.g. `git archive main | tar -x -C DIR`) whose project form "
        "runs too, as project@baseline, to measure a change against the code before it in one run",
    )
    parser.add_argument(
        "--baseline-scales",
        help="scales at which the --baseline form runs (default: every scale of --scales)",
    )
    parser.add_argument(
        "--wall-limit",
        type=float,
        help="seconds after which a form's process is killed, its build numbers kept (default: 3 x --time-limit "
        "+ 900; HiGHS checks its time limit only between the phases of its root node)",
    )
    parser.add_argument(
        "--baseline-name",
        default="the baseline",
        help="what the --baseline tree holds, for the record (e.g. 'main at d50f1cf')",
    )
    parser.add_argument(
        "--workdir", help="keep datasets, scenarios, logs and run folders here (default: a temp folder)"
    )
    parser.add_argument("--out", default=str(HERE / "results.json"), help="JSON file to write")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker or args.verify:
        result = verify(args.scenario) if args.verify else worker(args.worker, args.scenario, args.repeats, args.result)
        Path(args.result).write_text(json.dumps(result, indent=1, default=float))
        return 0

    from model.synth import synthesize

    scales = [s for s in args.scales.split(",") if s]
    forms = [f for f in args.forms.split(",") if f]
    unknown = [s for s in scales if s not in SCALES] + [f for f in forms if f not in FORMS]
    if unknown:
        parser.error(f"unknown scale or form: {', '.join(unknown)}")
    cli_scales = set(args.cli_scales.split(","))
    verify_scales = set(filter(None, args.verify_scales.split(",")))
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="layout-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wall_limit = args.wall_limit or 3 * args.time_limit + 900
    baseline_scales = set(args.baseline_scales.split(",")) if args.baseline_scales else set(scales)

    arguments = list(argv if argv is not None else sys.argv[1:])
    if "--workdir" in arguments:  # a folder of this machine, not part of what was measured
        del arguments[arguments.index("--workdir") : arguments.index("--workdir") + 2]
    if "--baseline" in arguments:  # a folder of this machine: the record says which code it held
        arguments[arguments.index("--baseline") + 1] = "DIR"
    report = {
        "command": " ".join([Path(sys.argv[0]).name] + arguments),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "versions": versions(),
        "baseline": args.baseline_name if args.baseline else None,
        "baseline_scales": sorted(baseline_scales) if args.baseline else None,
        "wall_limit": wall_limit,
        "time_limit": args.time_limit,
        "mip_gap": args.mip_gap,
        "seed": args.seed,
        "scales": {},
        "rows": [],
        "checks": [],
        "ratios": {},
    }
    print(
        f"benchmark in {workdir}: scales {', '.join(scales)}; forms {', '.join(forms)}; "
        f"time limit {args.time_limit:g} s, MIP gap {args.mip_gap:g}, 1 thread",
        flush=True,
    )
    for scale in scales:
        regions, clusters, disruptions, network, periods = SCALES[scale]
        folder = workdir / scale
        folder.mkdir(exist_ok=True)
        started = time.perf_counter()
        data = synthesize(
            regions, clusters, folder / "data", disruptions=disruptions, seed=args.seed, chains=bool(network)
        )
        synth_s = time.perf_counter() - started
        scenario = write_scenario(folder, data, args.time_limit, args.mip_gap, network, periods)
        n_dis = len({line.split(",")[0] for line in (data / "disruptions.csv").read_text().splitlines()[1:]})
        report["scales"][scale] = {
            "regions": regions,
            "clusters": clusters,
            "disruptions": n_dis,
            "network": network,
            "periods": PERIODS["years"] if periods else None,
            "synthesize_s": synth_s,
            "scenario": str(scenario.relative_to(workdir)),
        }
        described = f"{regions} regions x {clusters} clusters, {n_dis} disruptions"
        if network:
            nodes = len({line.rsplit(",", 1)[1] for line in (data / "regions.csv").read_text().splitlines()[1:]})
            links = len((data / "chains.csv").read_text().splitlines()) - 1
            corridors = len((data / "corridors.csv").read_text().splitlines()) - 1
            report["scales"][scale].update(nodes=nodes, chains=links, corridors=corridors)
            described += f", {nodes} nodes, {links} chain links, {corridors} corridors"
            described += ", backup and recourse" if network == "resilient" else ", no backup or recourse"
        if periods:
            described += f", periods {', '.join(map(str, PERIODS['years']))}"
        print(f"\n{scale}: {described} (synthesized in {synth_s:.2f} s)", flush=True)
        results: dict[str, dict] = {}
        for form in forms:
            if form == "cli" and scale not in cli_scales:
                continue
            if form == "linopy" and (network or periods):
                print(
                    "  linopy   not built: the linopy form has no resilient network and no periods (benchmarks/forms.py)",
                    flush=True,
                )
                continue
            r = run_form(form, folder, scenario, wall_limit, args.repeats)
            r["scale"] = scale
            results[form] = r
            report["rows"].append(r)
            print(
                f"  {form:<8} build+hand-over {number(r.get('build_handover_s'))} s  solve "
                f"{number(r.get('solve_s'))} s  {r.get('status')}  objective {number(r.get('objective'))}  "
                f"peak {number(r.get('peak_rss_mib'))} MiB  wall {r['wall_s']:.1f} s",
                flush=True,
            )
            print("  json " + json.dumps(json_line(r), default=float), flush=True)
        if args.baseline and "project" in forms and scale in baseline_scales:
            r = run_form("project", folder, scenario, wall_limit, args.repeats, code=Path(args.baseline).resolve())
            r["scale"] = scale
            results["project@baseline"] = r
            report["rows"].append(r)
            print(
                f"  project@baseline build+hand-over {number(r.get('build_handover_s'))} s  solve "
                f"{number(r.get('solve_s'))} s  {r.get('status')}  objective {number(r.get('objective'))}",
                flush=True,
            )
            print("  json " + json.dumps(json_line(r), default=float), flush=True)
        if results.get("project", {}).get("families"):
            print_families(results["project"]["families"])
        verified = None
        if scale in verify_scales:
            target = folder / "verify.json"
            target.unlink(missing_ok=True)
            run_child(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--verify",
                    "--scenario",
                    str(scenario),
                    "--result",
                    str(target),
                ],
                folder / "verify.log",
                wall_limit,
            )
            verified = json.loads(target.read_text()) if target.is_file() else None
        report["checks"] += checks(scale, results, args.mip_gap, verified)
        report["ratios"][scale] = ratios(results)
        report["scales"][scale]["nnz"] = results.get("project", {}).get("nnz")

    print("\n")
    print_table(report["rows"])
    print(
        "\nratios of build+hand-over (project = Instance.of + numpy families + Pyomo model + hand-over), and of "
        "solve against --baseline:"
    )
    for scale, r in report["ratios"].items():
        parts = [f"{k} {v:.3g}x" for k, v in r.items()]
        print(f"  {scale:<14} " + ("; ".join(parts) if parts else "–"))
    print("\nchecks:")
    for c in report["checks"]:
        mark = {True: "OK  ", False: "FAIL", None: "--  "}[c["ok"]]
        print(f"  {mark} {c['scale']:<14} {c['text']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float) + "\n")
    print(f"\nwrote {out}")
    return 0 if all(c["ok"] is not False for c in report["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
