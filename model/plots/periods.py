"""Pictures of a phased run (docs/model.md#periods): each cluster year by year, output by macro-region
per period, and the use of the ceilings that bind, period by period.

Everything is drawn from the run folder's tables, whose rows carry the year in a `period` column
(docs/run-folder.md#layoutcsv); nothing here solves. The maps and charts of one layout show the
last period, the Plan's target year (`Phased.last`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from model.formatting import number, percent
from model.plots.common import MACRO_COLORS, OUTPUT_UNIT, OUTPUT_UNIT_TEXT, new_figure, save, slug
from model.plots.maps import Frame, map_grid
from model.results import BINDING

MACRO_ORDER = ("east", "central", "west", "northeast")
MAX_CEILINGS = 14
"""The ceiling-use chart shows at most this many ceilings, the most valuable first."""


@dataclass
class Phased:
    """The tables of a phased run, all periods, with the years and the per-period summary."""

    years: list[int]
    tables: dict[str, pd.DataFrame]
    periods: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, tables: dict[str, pd.DataFrame], summary: dict) -> "Phased | None":
        """The phased view of a run's tables, or None when the run has one period."""
        layout = tables.get("layout")
        if layout is None or "period" not in layout.columns:
            return None
        years = sorted(
            {int(y) for name in ("layout", "regions") if name in tables for y in tables[name]["period"].dropna()}
        )
        return cls(years, dict(tables), list(summary.get("periods") or []))

    @property
    def year(self) -> int:
        """The last year, the Plan's target year."""
        return self.years[-1]

    def last(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of the last period, without the `period` column."""
        if "period" not in table.columns:
            return table
        return table[table["period"] == self.year].drop(columns="period").reset_index(drop=True)

    def opened(self) -> pd.DataFrame:
        """cluster, region, opened (year) of every site, in the order of their opening."""
        layout = self.tables["layout"]
        if "opened" not in layout.columns:
            return pd.DataFrame(columns=["cluster", "region", "opened"])
        sites = layout.dropna(subset=["opened"]).drop_duplicates(["cluster", "region"])[["cluster", "region", "opened"]]
        sites = sites.assign(opened=sites["opened"].astype(int))
        return sites.sort_values(["opened", "cluster", "region"]).reset_index(drop=True)


def cluster_years(
    frame: Frame,
    layout: pd.DataFrame,
    cluster: str,
    years: list[int],
    *,
    label: str,
    targets: dict[int, float],
    scenario: str,
) -> Figure:
    """Small multiples of one cluster: its output by region in every year on one colour scale;
    framed regions hold a site that year, and each panel's title says how many opened."""
    cell = layout[layout["cluster"].astype(str) == cluster]
    panels: list[tuple[str, pd.Series, set[str]]] = []
    before: set[str] = set()
    for year in years:
        rows = cell[cell["period"] == year]
        values = rows.groupby(rows["region"].astype(str))["output"].sum().astype(float)
        sites = set(rows.loc[rows["established"].astype(float) > 0.5, "region"].astype(str))
        new = len(sites - before)
        before |= sites
        total = targets.get(year, float(values.sum()))
        panels.append(
            (
                f"{year}: {number(total, 3)} · {len(sites)} site{'s' if len(sites) != 1 else ''}"
                + (f" ({new} new)" if new and year != years[0] else ""),
                values,
                sites,
            )
        )
    return map_grid(
        frame,
        panels,
        title=f"{label} — output by region, year by year — {scenario}",
        unit=f"output ({OUTPUT_UNIT}); framed = site established; panel title: target · sites",
    )


def output_timeline(regions: pd.DataFrame, macro_of: dict[str, str], years: list[int], *, title: str) -> Figure:
    """Stacked bars: output by macro-region in each period, with each macro-region's share."""
    table = regions.assign(macro=[macro_of.get(str(r), "") for r in regions["region"]])
    pivot = (
        table.pivot_table(index="period", columns="macro", values="output", aggfunc="sum").reindex(years).fillna(0.0)
    )
    macros = [m for m in MACRO_ORDER if m in pivot.columns] + [m for m in pivot.columns if m not in MACRO_ORDER]
    fig = new_figure(max(5.5, 1.8 + 1.3 * len(years)), 4.6, constrained=True)
    ax = fig.add_subplot()
    x = np.arange(len(years), dtype=float)
    bottom = np.zeros(len(years))
    totals = pivot[macros].sum(axis=1).to_numpy(dtype=float)
    for macro in macros:
        values = pivot[macro].to_numpy(dtype=float)
        ax.bar(
            x,
            values,
            0.62,
            bottom=bottom,
            color=MACRO_COLORS.get(macro, MACRO_COLORS[""]),
            label=macro or "unknown",
            zorder=2,
        )
        for xi, v, b, t in zip(x, values, bottom, totals):
            if t > 0 and v / t >= 0.06:
                ax.text(
                    xi, b + v / 2, percent(v / t), ha="center", va="center", fontsize=7.5, color="white", weight="bold"
                )
        bottom += values
    for xi, t in zip(x, totals):
        ax.text(xi, t * 1.01, number(t, 3), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_ylabel(f"output ({OUTPUT_UNIT})")
    ax.set_ylim(0, max(totals.max(initial=0.0), 1.0) * 1.1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v, 3)))
    ax.grid(axis="y", color="#eeeeee", zorder=0)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False, title="macro-region", title_fontsize=8)
    ax.set_title(f"{title}\nshare of each year's output in the bars", fontsize=11)
    return fig


def binding_by_period(resources: pd.DataFrame) -> pd.DataFrame:
    """The (region, resource) ceilings that bind in some period, the most valuable first (largest
    shadow price over the periods), at most `MAX_CEILINGS`."""
    full = (resources["utilization"].astype(float) >= BINDING) & (resources["available"].astype(float) > 0)
    binding = resources[full]
    if binding.empty:
        return binding.assign(price=[])
    price = binding.groupby(["region", "resource"])["shadow_price"].max().rename("price").reset_index()
    return price.sort_values("price", ascending=False).head(MAX_CEILINGS).reset_index(drop=True)


def ceiling_use(
    resources: pd.DataFrame, years: list[int], *, region_labels: dict[str, str], title: str
) -> Figure | None:
    """Grouped bars: for every ceiling that binds in some period, its utilisation in each period
    (100 % = binding), with the largest shadow price it takes."""
    chosen = binding_by_period(resources)
    if chosen.empty:
        return None
    use = resources.set_index(["region", "resource", "period"])["utilization"].astype(float)
    n, P = len(chosen), len(years)
    fig = new_figure(7.5, 1.8 + 0.2 * n * P + 0.12 * n, constrained=True)
    ax = fig.add_subplot()
    height = 0.8 / P
    shades = (
        [f"C{k}" for k in range(P)] if P > 6 else ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#525252", "#969696"][:P]
    )
    for p, year in enumerate(years):
        values = [use.get((r, k, year), np.nan) for r, k in zip(chosen["region"], chosen["resource"])]
        y = np.arange(n) - 0.4 + height * (p + 0.5)
        shown = np.minimum(np.nan_to_num(values), 1.2)
        ax.barh(y, shown, height * 0.92, color=shades[p], label=str(year), zorder=2)
    ax.axvline(1.0, color="#d7301f", lw=1.2, ls="--", zorder=3)
    labels = [
        f"{k} · {region_labels.get(r, r)}\nλ up to {number(v, 3)}"
        for r, k, v in zip(chosen["region"], chosen["resource"], chosen["price"])
    ]
    ax.set_yticks(np.arange(n), labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.22)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("utilisation = used / available in that year's ceiling (dashed: binding)")
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    handles = [Patch(color=shades[p], label=str(year)) for p, year in enumerate(years)]
    fig.legend(handles=handles, loc="outside lower center", ncols=P, fontsize=8, frameon=False)
    ax.set_title(f"{title}\n{n} ceiling{'s' if n != 1 else ''} binding in some year, most valuable first", fontsize=11)
    return fig


def plot_periods(ctx: Any, phased: Phased, out: Path, paths: dict, captions: dict) -> None:
    """The pictures of a phased run into `out` (docs/run-folder.md#plots): `periods_output.png`,
    `periods_ceilings.png` (when some ceiling binds) and `periods_<cluster>.png` for every cluster."""
    tables = phased.tables
    macro_of: dict[str, str] = {}
    if ctx.dataset is not None:
        macro_of = dict(zip(ctx.dataset.regions["region"].astype(str), ctx.dataset.regions["macro_region"].astype(str)))
    fig = output_timeline(tables["regions"], macro_of, phased.years, title=f"Output by macro-region — {ctx.name}")
    paths["periods:output"] = save(fig, out / "periods_output.png")
    captions["periods:output"] = (
        f"Output of all clusters by macro-region in each period ({OUTPUT_UNIT_TEXT}), "
        "the share of each macro-region in the bars: the transfer over the Plan."
    )
    use = ceiling_use(
        tables["resources"],
        phased.years,
        region_labels=ctx.frame.labels(),
        title=f"Ceiling use per period — {ctx.name}",
    )
    if use is not None:
        paths["periods:ceilings"] = save(use, out / "periods_ceilings.png")
        captions["periods:ceilings"] = (
            "Utilisation of every ceiling that binds in some year, year by year; "
            "λ = the largest shadow price it takes (objective gain per extra unit)."
        )
    resilience = tables["resilience"]
    layout = tables["layout"]
    clusters = list(dict.fromkeys([*(ctx.cluster_order or []), *layout["cluster"].astype(str)]))
    for c in clusters:
        rows = resilience[resilience["cluster"].astype(str) == c]
        targets = dict(zip(rows["period"].astype(int), rows["target"].astype(float)))
        label = ctx.cluster_labels.get(c, c)
        fig = cluster_years(ctx.frame, layout, c, phased.years, label=label, targets=targets, scenario=ctx.name)
        paths[f"periods:{c}"] = save(fig, out / f"periods_{slug(c)}.png")
        captions[f"periods:{c}"] = f"{label}: output by region in each year; framed = site established that year."


def periods_section(report: Any, ctx: Any, paths: dict, captions: dict, phased: Phased) -> None:
    """The report's Periods section: each year's objective, the sites by the year they open, the
    transfer and ceiling charts, and each cluster year by year."""
    report.heading("Periods")
    rows = [
        {
            "year": p["year"],
            "weight": p["weight"],
            "objective": p["objective"],
            "sites": p["sites"],
            "opened": p["opened_sites"],
            "fixed cost": p["fixed_cost"],
        }
        for p in phased.periods
    ]
    if rows:
        report.table(
            pd.DataFrame(rows),
            "Each period: its objective without fixed cost (unweighted), its weight, "
            "its sites and those it opens, and their fixed cost (paid once).",
        )
    opened = phased.opened()
    if len(opened):
        counts = opened.groupby("opened").size()
        report.paragraph(
            "Sites by the year they open: "
            + ", ".join(f"{y}: {n}" for y, n in counts.items())
            + ". A site, once established, stays.",
            "note",
        )
        later = opened[opened["opened"] > phased.years[0]].copy()
        if len(later):
            later.insert(1, "cluster name", [ctx.cluster_labels.get(c, c) for c in later["cluster"]])
            report.table(later, "Sites that open after the first year.", max_rows=30)
    for key in ("periods:output", "periods:ceilings"):
        if key in paths:
            report.image(paths[key], captions.get(key, ""))
    for key, path in paths.items():
        if key.startswith("periods:") and key not in ("periods:output", "periods:ceilings"):
            report.image(path, captions.get(key, ""))
