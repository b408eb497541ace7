"""The `layout` command line: a thin layer over the Python API (docs/cli.md).

Exit codes: 0 solved, 1 anything else, 2 invalid input (one line naming file and key, no
traceback), 3 infeasible (with a hint to run `layout diagnose`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Callable

from model.errors import EXIT_ERROR, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_SOLVED, InputError
from model.formatting import number

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(function):
        COMMANDS[name] = function
        return function

    return register


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    from model.scenario import parse_assignment

    overrides: dict[str, Any] = {}
    for text in args.set or []:
        path, value = parse_assignment(text)
        if path in overrides:
            raise InputError(f"--set {path}", None, "given twice")
        overrides[path] = value
    return overrides


def scenario_and_out(args: argparse.Namespace, suffix: str = ""):
    """The scenario with its --set overrides, and the folder to write (--out, or runs/<name><suffix>)."""
    import model

    scenario = model.load_scenario(args.scenario, **overrides_of(args))
    return scenario, Path(args.out) if args.out else Path("runs") / f"{scenario.name}{suffix}"


def show(table) -> str:
    return table.to_string(index=False, float_format=number)


def finish(out: Path, plot: str | None = None) -> int:
    """Draw the written folder's charts with `model.plots.<plot>` if asked, say where it is, exit 0."""
    if plot is not None:
        import model.plots

        getattr(model.plots, plot)(out)
    print(f"  wrote {out}")
    return EXIT_SOLVED


def print_result(result, out: Path | None) -> None:
    """The console summary: status, objective, gap, time, binding ceilings, resilience."""
    s = result
    gap = "–" if s.gap is None else f"{100 * s.gap:.3f}%"
    print(f"{s.scenario.name}: {s.status.value}  objective {number(s.objective)}  bound {number(s.bound)}  gap {gap}")
    print(
        f"  build {s.build_seconds:.2f} s (hand-over {s.handover_seconds:.2f} s)  solve {s.solve_seconds:.2f} s  "
        f"model {s.rows:,} rows x {s.columns:,} columns ({s.integer_columns:,} integer)"
    )
    if not s.solved:
        print(f"  {s.message}")
        return
    periods = s.summary().get("periods")
    when = f" in {periods[-1]['year']}" if periods else ""
    if periods:
        print_periods(s, periods)
    binding = s.binding_ceilings()
    if periods:
        binding = binding[binding["period"] == periods[-1]["year"]]
    if len(binding):
        print(f"  binding ceilings{when} ({len(binding)}; shadow price = objective gained per unit more):")
        for row in binding.head(8).itertuples():
            print(
                f"    {row.resource:<12} {row.region:<16} {row.available:>12,.1f} available  price {row.shadow_price:,.4f}"
            )
        if len(binding) > 8:
            print(f"    … and {len(binding) - 8} more in resources.csv")
    else:
        print("  no ceiling binds")
    line = network_line(s)
    if line:
        print(line)
    critical = s.resilience[s.resilience["critical"]]
    if periods:
        critical = critical[critical["period"] == periods[-1]["year"]]
    if len(critical):
        print(
            f"  critical clusters{when}: sites, largest regional share, "
            "hinterland share, worst disruption (surviving share)"
        )
        for row in critical.itertuples():
            worst = f"{row.worst_disruption} ({row.worst_surviving_share:.0%})" if row.worst_disruption else "–"
            print(
                f"    {row.cluster:<28} {row.sites:>3}  {row.max_region_share:>5.0%}  {row.hinterland_share:>5.0%}  {worst}"
            )
    if out is not None:
        print(f"  wrote {out}")


def print_periods(result, periods: list[dict]) -> None:
    """One line per period of a phased run (docs/cli.md#solve): its objective and weight, output,
    sites (opened that year), binding ceilings and resilience."""
    layout, resources, resilience = result.layout, result.binding_ceilings(), result.resilience
    print("  periods: year, objective (weight), output, sites (opened), binding ceilings, resilience")
    for period in periods:
        year = period["year"]
        output = layout.loc[layout["period"] == year, "output"].sum()
        binding = int((resources["period"] == year).sum())
        critical = resilience[(resilience["period"] == year) & resilience["critical"]]
        worst = critical["worst_surviving_share"].min() if len(critical) else float("nan")
        resilient = f"{worst:.0%}" if worst == worst else "–"
        print(
            f"    {year}  {number(period['objective']):>12} ({period['weight']:.3g})  output {number(output):>10}  "
            f"{period['sites']:>4} sites ({period['opened_sites']} opened)  {binding:>3} binding  {resilient:>5}"
        )


def network_line(result) -> str:
    """One line on the resilient network of a solved run: flows, transport and backup cost, recourse."""
    flows, backup, recourse = result.flows, result.backup, result.recourse
    if flows is None and backup is None:
        return ""
    terms = result.objective_terms or {}
    periods = result.summary().get("periods")
    if periods:  # a phased run: the network of the last year, with that year's costs
        year = periods[-1]["year"]
        flows, backup, recourse = (None if t is None else t[t["period"] == year] for t in (flows, backup, recourse))
        terms = periods[-1]["terms"]
    parts = []
    if flows is not None:
        moved = float(flows["flow"].sum())
        km = float((flows["flow"] * flows["distance_km"]).sum())
        arcs = len(flows.groupby(["from", "to"])) if len(flows) else 0
        parts.append(
            f"{arcs} arc{'s' if arcs != 1 else ''} carry {moved:,.1f}"
            + (f" over {km / moved:,.0f} km on average" if moved else "")
            + f", transport cost {abs(terms.get('transport', 0.0)):,.1f}"
            + (
                " (no transport cost: these flows are one of many optima)"
                if moved and not terms.get("transport")
                else ""
            )
        )
    if backup is not None:
        parts.append(
            f"backup {float(backup['backup'].sum()):,.1f} in {len(backup)} cell{'s' if len(backup) != 1 else ''}, "
            f"cost {abs(terms.get('backup', 0.0)):,.1f}"
        )
    if recourse is not None and len(recourse):
        margin = recourse["surviving"] - recourse["required"]
        worst = recourse.loc[margin.idxmin()]
        count = recourse["disruption"].nunique()
        parts.append(
            f"recourse holds under {count} disruption{'s' if count != 1 else ''} "
            f"(tightest: {worst['cluster']} under {worst['disruption']}, "
            f"{worst['surviving']:,.1f} surviving of {worst['required']:,.1f} required)"
        )
    return f"  network{f' in {year}' if periods else ''}: " + "; ".join(parts)


@command("solve")
def cmd_solve(args: argparse.Namespace) -> int:
    import model

    scenario, out = scenario_and_out(args)
    result = model.solve(scenario)
    result.write(out)
    print_result(result, out)
    if args.plot and result.solved:
        from model.plots import plot_run

        for path in plot_run(out):
            print(f"  drew {path}")
    if result.status.value == "infeasible":
        print(
            f"  infeasible: no layout satisfies every constraint. Run `layout diagnose {args.scenario}` "
            "to see which ceilings, goals or locks must give, and by how much.",
            file=sys.stderr,
        )
        return EXIT_INFEASIBLE
    return EXIT_SOLVED if result.solved else EXIT_ERROR


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    import model

    scenario = model.load_scenario(args.scenario, **overrides_of(args))
    from model.instance import Instance  # numpy and pandas: only for a valid scenario
    from model.scenario import dataset_of

    dataset = dataset_of(scenario)
    inst = Instance.of(scenario, dataset)
    print(
        f"{args.scenario}: valid. Scenario {scenario.name!r} on {dataset.folder}: {len(dataset.region_ids)} regions, "
        f"{len(dataset.cluster_ids)} clusters ({int(inst.critical.sum())} critical), {len(dataset.resource_ids)} resources, "
        f"{len(inst.disruptions)} active disruptions; {len(inst.cells):,} allowed cells."
        + (
            f" {int((inst.network.per_unit > 0).sum())} chains over {len(inst.network.arc_from) // 2} corridors "
            f"between {len(inst.nodes)} nodes{', with recourse' if inst.network.recourse else ''}."
            if inst.network is not None
            else ""
        )
        + (f" Backup on {len(inst.backup.cells):,} cells." if inst.backup is not None else "")
        + (
            f" {len(scenario.periods.years)} periods: {', '.join(map(str, scenario.periods.years))}."
            if scenario.periods is not None
            else ""
        )
    )
    return EXIT_SOLVED


def parse_values(text: str) -> list[Any]:
    """`0.8,0.9,1.0` → [0.8, 0.9, 1.0]; each value read as YAML."""
    import yaml

    return [yaml.safe_load(v) for v in text.split(",") if v.strip()]


@command("compare")
def cmd_compare(args: argparse.Namespace) -> int:
    from model.compare import compare

    comparison = compare(args.run_a, args.run_b)
    out = Path(args.out) if args.out else Path("runs") / f"compare-{Path(args.run_a).name}-{Path(args.run_b).name}"
    comparison.write(out)
    s = comparison.summary
    print(f"{args.run_a} → {args.run_b}")
    print(
        f"  objective {number(s['objective_a'])} → {number(s['objective_b'])} ({s['objective_change']:+,.1f}); "
        f"moved output {number(s['moved_output'])}; {s['opened_sites']} sites opened, {s['closed_sites']} closed"
        + (f" (in {s['periods'][-1]['year']})" if s.get("periods") else "")
    )
    for period in s.get("periods", []):
        print(
            f"    {period['year']}: moved output {number(period['moved_output'])}; {period['opened_sites']} sites opened, "
            f"{period['closed_sites']} closed"
        )
    for metric in ("worst_surviving_share_min", "hinterland_share_min", "max_region_share_max", "sites_min"):
        m = s[metric]
        if m["a"] is not None:
            print(f"  {metric:<28} {m['a']:.3f} → {m['b']:.3f} ({m['change']:+.3f})")
    moves = comparison.largest_moves(args.top)
    moves = moves[moves["delta"].abs() > 1e-6]
    if len(moves):
        print("  largest moves (10^8 yuan):")
        for row in moves.itertuples():
            year = f"{row.period}  " if "period" in moves.columns else ""
            print(
                f"    {year}{row.cluster:<28} {row.region:<16} {row.output_a:>10,.1f} → {row.output_b:>10,.1f}  "
                f"({row.delta:+,.1f})"
            )
    return finish(out, "plot_compare" if args.plot else None)


@command("sweep")
def cmd_sweep(args: argparse.Namespace) -> int:
    from model.sweep import sweep

    scenario, out = scenario_and_out(args, "-sweep")
    parameters = None
    if args.param:
        if not args.values or len(args.values) != len(args.param):
            raise InputError("--values", None, "give one --values list for every --param")
        parameters = {path: parse_values(values) for path, values in zip(args.param, args.values)}
    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    try:
        table = sweep(scenario, parameters, jobs=args.jobs, executor=client, out=out, progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    print(show(table.drop(columns="folder")))
    from model.sweep import read_tipping_points

    tipping = read_tipping_points(out)
    for row in tipping.itertuples():
        print(
            f"  layout changes between {row.parameter}={row.from_value} and {row.to_value}: "
            f"{row.opened} sites opened, {row.closed} closed"
        )
    return finish(out, "plot_sweep" if args.plot else None)


@command("pareto")
def cmd_pareto(args: argparse.Namespace) -> int:
    from model.pareto import pareto

    scenario, out = scenario_and_out(args, f"-pareto-{args.against}")
    front = pareto(scenario, against=args.against, points=args.points)
    front.write(out)
    print(show(front.front))
    if len(front.front) == 1 and args.against != "resilience":
        print(
            f"  the total use of {args.against} is the same in every layout: intensities do not depend on the region, "
            "so Σ_i a_ik·T_i fixes it — the front is a single point"
        )
    return finish(out, "plot_pareto" if args.plot else None)


@command("alternatives")
def cmd_alternatives(args: argparse.Namespace) -> int:
    from model.alternatives import alternatives

    scenario, out = scenario_and_out(args, "-alternatives")
    found = alternatives(scenario, slack=args.slack, count=args.count)
    found.write(out)
    print(show(found.table))
    print(f"  robust core: {len(found.robust_core)} cells established in the optimum and every alternative")
    return finish(out)


@command("diagnose")
def cmd_diagnose(args: argparse.Namespace) -> int:
    from model.diagnose import diagnose

    scenario, out = scenario_and_out(args, "-diagnosis")
    diagnosis = diagnose(scenario, relax_targets=args.relax_targets)
    diagnosis.write(out)
    print("\n".join(diagnosis.sentences))
    print(f"  wrote {out}")
    found = diagnosis.feasible or len(diagnosis.diagnosis) > 0
    return EXIT_SOLVED if found else EXIT_INFEASIBLE


@command("plot")
def cmd_plot(args: argparse.Namespace) -> int:
    from model import plots

    folder = Path(args.run)
    if (folder / "changes.csv").is_file():
        paths = plots.plot_compare(folder)
    elif (folder / "sweep.csv").is_file():
        paths = plots.plot_sweep(folder)
    elif (folder / "front.csv").is_file():
        paths = plots.plot_pareto(folder)
    else:
        paths = plots.plot_run(folder)
    for path in paths:
        print(f"  drew {path}")
    return EXIT_SOLVED


@command("synth")
def cmd_synth(args: argparse.Namespace) -> int:
    from model.synth import synthesize

    out = synthesize(
        args.regions,
        args.clusters,
        Path(args.out),
        disruptions=args.disruptions,
        seed=args.seed,
        chains=args.chains,
        nodes=args.nodes,
    )
    network = ""
    if args.chains:
        import pandas as pd

        nodes = pd.read_csv(out / "regions.csv", usecols=["node"])["node"].nunique()
        links, corridors = len(pd.read_csv(out / "chains.csv")), len(pd.read_csv(out / "corridors.csv"))
        network = f", {nodes} nodes, {links} chain links, {corridors} corridors"
    print(
        f"wrote a synthetic dataset of {args.regions} regions and {args.clusters} clusters{network} to {out} "
        f"(seed {args.seed})"
    )
    return EXIT_SOLVED


def parser() -> argparse.ArgumentParser:
    from model import __version__

    p = argparse.ArgumentParser(
        prog="layout",
        description="Where industry clusters should grow: solve, compare and explore productive-layout scenarios.",
    )
    p.add_argument("--version", action="version", version=f"productive-layout {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def with_set(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--set",
            action="append",
            metavar="PATH=VALUE",
            help="override a scenario key by its dotted path, e.g. ceilings.water.scale=0.8 (repeatable)",
        )

    q = sub.add_parser("solve", help="solve a scenario and write its run folder")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--out", help="run folder to write (default runs/<scenario name>)")
    q.add_argument("--plot", action="store_true", help="also draw the maps and charts and report.html")
    with_set(q)

    q = sub.add_parser("validate", help="check a scenario and its dataset; solve nothing")
    q.add_argument("scenario", help="scenario file (YAML)")
    with_set(q)

    q = sub.add_parser("compare", help="what moved between two solved layouts")
    q.add_argument("run_a", help="run folder A")
    q.add_argument("run_b", help="run folder B")
    q.add_argument("--out", help="folder to write (default runs/compare-A-B)")
    q.add_argument("--top", type=int, default=10, help="how many of the largest moves to print")
    q.add_argument("--plot", action="store_true", help="also draw the difference map and moves chart")

    q = sub.add_parser("sweep", help="one solve per parameter value, in parallel")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--param", action="append", metavar="PATH", help="dotted path to sweep (repeat for a grid)")
    q.add_argument("--values", action="append", metavar="V1,V2,…", help="comma-separated values, one list per --param")
    q.add_argument("--jobs", type=int, default=None, help="local worker processes (default: the sweep block's, or 1)")
    q.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    q.add_argument("--out", help="folder to write (default runs/<name>-sweep)")
    q.add_argument("--plot", action="store_true", help="also draw the sweep curves")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    with_set(q)

    q = sub.add_parser("pareto", help="trade-off front by the epsilon-constraint method")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--against", default="resilience", help="`resilience` or a resource id (default resilience)")
    q.add_argument("--points", type=int, default=5, help="points on the front (default 5)")
    q.add_argument("--out", help="folder to write (default runs/<name>-pareto-<against>)")
    q.add_argument("--plot", action="store_true", help="also draw the front")
    with_set(q)

    q = sub.add_parser("alternatives", help="near-optimal layouts that differ most from the optimum")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--slack", type=float, default=0.05, help="allowed loss of objective, a share (default 0.05)")
    q.add_argument("--count", type=int, default=3, help="how many alternatives (default 3)")
    q.add_argument("--out", help="folder to write (default runs/<name>-alternatives)")
    with_set(q)

    q = sub.add_parser("diagnose", help="why a scenario is infeasible: what must give, by how much")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--relax-targets", action="store_true", help="let the targets give too")
    q.add_argument("--out", help="folder to write (default runs/<name>-diagnosis)")
    with_set(q)

    q = sub.add_parser("plot", help="maps and charts of a run (or compare, sweep, pareto) folder")
    q.add_argument("run", help="the folder")

    q = sub.add_parser("synth", help="a synthetic dataset in the dataset format, for scale tests")
    q.add_argument("--regions", type=int, required=True, help="number of regions")
    q.add_argument("--clusters", type=int, required=True, help="number of clusters")
    q.add_argument(
        "--disruptions", type=int, default=None, help="number of disruption sets (default max(4, regions/60))"
    )
    q.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    q.add_argument(
        "--chains",
        action="store_true",
        help="also write the resilient network: chains.csv, corridors.csv, a node column, transport costs",
    )
    q.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="with --chains: number of transport nodes the regions are grouped into (default min(31, regions))",
    )
    q.add_argument("--out", required=True, help="dataset folder to write")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    p = parser()
    args = p.parse_args(argv)
    if not args.command:
        p.print_help()
        return EXIT_INPUT
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # the output was piped into a command that stopped reading
        sys.stderr.close()
        return EXIT_SOLVED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the command line reports, the API raises
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
