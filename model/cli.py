"""The `layout` command line: a thin layer over the Python API (SPEC section 6).

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


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def print_result(result, out: Path | None) -> None:
    """The console summary: status, objective, gap, time, binding ceilings, resilience."""
    s = result
    gap = "–" if s.gap is None else f"{100 * s.gap:.3f}%"
    print(f"{s.scenario.name}: {s.status.value}  objective {fmt(s.objective)}  bound {fmt(s.bound)}  gap {gap}")
    print(f"  build {s.build_seconds:.2f} s (hand-over {s.handover_seconds:.2f} s)  solve {s.solve_seconds:.2f} s  "
          f"model {s.rows:,} rows x {s.columns:,} columns ({s.integer_columns:,} integer)")
    if not s.solved:
        print(f"  {s.message}")
        return
    binding = s.binding_ceilings()
    if len(binding):
        print(f"  binding ceilings ({len(binding)}; shadow price = objective gained per unit more):")
        for row in binding.head(8).itertuples():
            print(f"    {row.resource:<12} {row.region:<16} {row.available:>12,.1f} available  price {row.shadow_price:,.4f}")
        if len(binding) > 8:
            print(f"    … and {len(binding) - 8} more in resources.csv")
    else:
        print("  no ceiling binds")
    critical = s.resilience[s.resilience["critical"]]
    if len(critical):
        print("  critical clusters: sites, largest regional share, hinterland share, worst disruption (surviving share)")
        for row in critical.itertuples():
            worst = f"{row.worst_disruption} ({row.worst_surviving_share:.0%})" if row.worst_disruption else "–"
            print(f"    {row.cluster:<28} {row.sites:>3}  {row.max_region_share:>5.0%}  {row.hinterland_share:>5.0%}  {worst}")
    if out is not None:
        print(f"  wrote {out}")


@command("solve")
def cmd_solve(args: argparse.Namespace) -> int:
    import model

    scenario = model.load_scenario(args.scenario, **overrides_of(args))
    result = model.solve(scenario)
    out = Path(args.out) if args.out else Path("runs") / scenario.name
    result.write(out)
    print_result(result, out)
    if args.plot and result.solved:
        from model.plots import plot_run
        for path in plot_run(out):
            print(f"  drew {path}")
    if result.status.value == "infeasible":
        print(f"  infeasible: no layout satisfies every constraint. Run `layout diagnose {args.scenario}` "
              "to see which ceilings, goals or locks must give, and by how much.", file=sys.stderr)
        return EXIT_INFEASIBLE
    return EXIT_SOLVED if result.solved else EXIT_ERROR


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    import model
    from model.instance import Instance
    from model.scenario import dataset_of

    scenario = model.load_scenario(args.scenario, **overrides_of(args))
    dataset = dataset_of(scenario)
    inst = Instance.of(scenario, dataset)
    print(f"{args.scenario}: valid. Scenario {scenario.name!r} on {dataset.folder}: {len(dataset.region_ids)} regions, "
          f"{len(dataset.cluster_ids)} clusters ({int(inst.critical.sum())} critical), {len(dataset.resource_ids)} resources, "
          f"{len(inst.disruptions)} active disruptions; {len(inst.cells):,} allowed cells.")
    return EXIT_SOLVED


def parser() -> argparse.ArgumentParser:
    from model import __version__

    p = argparse.ArgumentParser(prog="layout", description="Where industry clusters should grow: solve, compare and "
                                "explore productive-layout scenarios.")
    p.add_argument("--version", action="version", version=f"productive-layout {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def with_set(q: argparse.ArgumentParser) -> None:
        q.add_argument("--set", action="append", metavar="PATH=VALUE",
                       help="override a scenario key by its dotted path, e.g. ceilings.water.scale=0.8 (repeatable)")

    q = sub.add_parser("solve", help="solve a scenario and write its run folder")
    q.add_argument("scenario", help="scenario file (YAML)")
    q.add_argument("--out", help="run folder to write (default runs/<scenario name>)")
    q.add_argument("--plot", action="store_true", help="also draw the maps and charts and report.html")
    with_set(q)

    q = sub.add_parser("validate", help="check a scenario and its dataset; solve nothing")
    q.add_argument("scenario", help="scenario file (YAML)")
    with_set(q)
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
