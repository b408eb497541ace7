"""Charts that are not maps: ceiling heat map, resilience against goals, sweeps, Pareto fronts, moves."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from model.formatting import number, percent
from model.plots.common import BAD, GOOD, NEUTRAL, OUTPUT_UNIT, new_figure
from model.results import BINDING, critical_rows

BINDING_COLOR = "#d7301f"
MAX_HEAT_ROWS = 40
OK_STATUSES = ("optimal",)


def _wrap(text: str, width: int = 16, lines: int = 3) -> str:
    """Wrap to at most `lines` lines, the last one cut with an ellipsis."""
    import textwrap

    out = textwrap.wrap(str(text), width, break_long_words=True) or [""]
    if len(out) > lines:
        out = out[: lines - 1] + [textwrap.shorten(" ".join(out[lines - 1 :]), width, placeholder="…")]
    return "\n".join(out)


def _wrap_unit(text: str, width: int = 20) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width, break_long_words=False)[:3]) or "–"


def utilization_heatmap(
    resources: pd.DataFrame,
    *,
    region_labels: dict[str, str],
    region_order: list[str],
    resource_labels: dict[str, str],
    resource_units: dict[str, str],
    title: str,
) -> Figure:
    """Region × resource utilisation; binding ceilings framed and annotated with their shadow price."""
    df = resources.copy()
    df["region"] = df["region"].astype(str)
    df["resource"] = df["resource"].astype(str)
    util = df.pivot_table(index="region", columns="resource", values="utilization", aggfunc="first")
    price = df.pivot_table(index="region", columns="resource", values="shadow_price", aggfunc="first")
    avail = df.pivot_table(index="region", columns="resource", values="available", aggfunc="first")
    rows: list[str] = [r for r in region_order if r in util.index] + [
        r for r in util.index if r not in set(region_order)
    ]
    cols: list[str] = [k for k in resource_labels if k in util.columns] + [
        k for k in util.columns if k not in resource_labels
    ]
    util, price, avail = util.loc[rows, cols], price.loc[rows, cols], avail.loc[rows, cols]
    note = ""
    allv = util.to_numpy(dtype=float)
    binding_total = int((np.isinf(allv) | (np.nan_to_num(allv, nan=0.0) >= BINDING)).sum())
    if len(rows) > MAX_HEAT_ROWS:
        top = util.replace(np.inf, 10).max(axis=1).sort_values(ascending=False).index[:MAX_HEAT_ROWS]
        keep = [r for r in rows if r in set(top)]
        note = f"the {MAX_HEAT_ROWS} of {len(rows)} regions with the fullest ceilings"
        util, price, avail = util.loc[keep], price.loc[keep], avail.loc[keep]
        rows = keep
    R, K = util.shape
    values = util.to_numpy(dtype=float)
    shown = np.where(np.isinf(values), 1.0, values)
    shown = np.where((avail.to_numpy(dtype=float) <= 0) & ~(values > 0), np.nan, shown)
    label_w = max([len(region_labels.get(r, r)) for r in rows] + [6]) * 0.075
    fig = new_figure(max(6.2, 1.6 + label_w + 1.25 * K), 2.6 + 0.27 * R, constrained=True)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["YlGnBu"].with_extremes(bad="#e6e6e6")
    im = ax.imshow(
        np.ma.masked_invalid(shown),
        cmap=cmap,
        norm=BoundaryNorm(np.linspace(0, 1, 11), cmap.N),
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xticks(
        range(K),
        [f"{_wrap(resource_labels.get(k, k))}\n[{_wrap_unit(resource_units.get(k, '') or '–')}]" for k in cols],
        fontsize=8,
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(R), [region_labels.get(r, r) for r in rows], fontsize=8)
    ax.set_xticks(np.arange(-0.5, K), minor=True)
    ax.set_yticks(np.arange(-0.5, R), minor=True)
    ax.grid(which="minor", color="white", lw=1.2)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(which="major", length=0)
    for i in range(R):
        for j in range(K):
            u = values[i, j]
            if np.isfinite(u) and u >= BINDING or np.isinf(u):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fc=BINDING_COLOR, ec="white", lw=1.2))
                p = price.iat[i, j]
                text = f"λ {number(p, 3)}" if np.isfinite(p) and abs(p) > 1e-9 else "full"
                ax.text(j, i, text, ha="center", va="center", fontsize=7.2, color="white", weight="bold")
            elif np.isfinite(u) and u > 0:
                ax.text(
                    j,
                    i,
                    f"{math.floor(100 * u)}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if u > 0.6 else "#333333",
                )
    for s in ax.spines.values():
        s.set_visible(False)
    cb = fig.colorbar(
        im,
        ax=ax,
        orientation="horizontal",
        fraction=0.035 if R > 15 else 0.08,
        pad=0.015,
        aspect=40,
        format=PercentFormatter(1.0),
    )
    cb.set_label("utilisation = used / available (cell text in %)", fontsize=8.5)
    handles = [
        Patch(
            fc=BINDING_COLOR,
            ec="none",
            label=f"binding ceiling (≥ {100 * BINDING:.1f}%): "
            "λ = shadow price, objective gain per extra unit of the column's resource",
        ),
        Patch(fc="#e6e6e6", ec="none", label="no capacity"),
    ]
    fig.legend(handles=handles, loc="outside lower center", fontsize=7.5, frameon=False, ncols=1)
    sub = f"{binding_total} binding ceiling{'s' if binding_total != 1 else ''}" + (f"; {note}" if note else "")
    ax.set_title(f"{title}\n{sub}", fontsize=11, pad=10)
    return fig


def resilience_chart(
    resilience: pd.DataFrame, goals: dict, *, cluster_labels: dict[str, str], title: str
) -> Figure | None:
    """Per critical cluster: sites, largest regional share, hinterland share, worst surviving share vs goals."""
    res = resilience.copy()
    if "critical" in res.columns:
        res = critical_rows(res)
    if res.empty:
        return None
    res = res.iloc[::-1].reset_index(drop=True)  # first cluster on top
    labels = [cluster_labels.get(c, c) for c in res["cluster"]]
    panels = [
        ("sites", "sites", "min_sites", ">=", "number of sites"),
        ("max_region_share", "largest regional share", "concentration_cap", "<=", "share of target"),
        ("hinterland_share", "hinterland share", "hinterland_share", ">=", "share of target"),
        (
            "worst_surviving_share",
            "worst-disruption survival",
            "disruption_survival",
            ">=",
            "share of target surviving",
        ),
    ]
    n = len(res)
    label_w = max(len(s) for s in labels) * 0.07
    fig = new_figure(max(11.5, 9.5 + label_w), max(3.0, 2.0 + 0.36 * n), constrained=True)
    axes = fig.subplots(1, 4, sharey=True)
    y = np.arange(n)
    for ax, (col, name, goal_key, sense, xlabel) in zip(axes, panels):
        vals = pd.to_numeric(res.get(col), errors="coerce").to_numpy(dtype=float) if col in res else np.full(n, np.nan)
        goal = goals.get(goal_key) if goals else None
        share = col != "sites"
        if goal is None:
            colors = [NEUTRAL] * n
            gtext = "goal off"
        else:
            ok = vals >= goal - 1e-6 if sense == ">=" else vals <= goal + 1e-6
            colors = [GOOD if o else BAD for o in ok]
            gtext = f"goal {'≥' if sense == '>=' else '≤'} {percent(goal) if share else int(goal)}"
        ax.barh(y, np.nan_to_num(vals), color=colors, height=0.62, zorder=2)
        top = np.nanmax(np.append(vals, [goal or 0, 0])) if n else 1
        if share:
            xmax = 1.0 if top <= 1 else top * 1.05
            ax.set_xlim(0, xmax * 1.22)
            if xmax <= 1:
                ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            xmax = max(top, 1)
            ax.set_xlim(0, xmax * 1.3 + 0.5)
            ax.xaxis.get_major_locator().set_params(integer=True)
        if goal is not None:
            ax.axvline(goal, color="#222222", ls="--", lw=1.2, zorder=3)
        xlim = ax.get_xlim()[1]
        box = dict(boxstyle="square,pad=0.12", fc="white", ec="none", alpha=0.9)
        for yi, v in zip(y, vals):
            if not np.isfinite(v):
                ax.text(0.01, yi, "n/a", va="center", fontsize=7, color="#777777", transform=ax.get_yaxis_transform())
                continue
            ax.text(
                v + 0.012 * xlim,
                yi,
                percent(v) if share else f"{v:.0f}",
                va="center",
                ha="left",
                fontsize=7.2,
                zorder=4,
                bbox=box,
            )
            if col == "worst_surviving_share" and "worst_disruption" in res:
                d = res["worst_disruption"].iloc[yi]
                if isinstance(d, str) and d:
                    d = _wrap(d.replace("_", " "), 20, 2)
                    inside = v >= 0.45 * xlim
                    ax.text(
                        0.015 * xlim if inside else v + 0.14 * xlim,
                        yi,
                        d,
                        va="center",
                        ha="left",
                        fontsize=6.3,
                        color="white" if inside else "#444444",
                        zorder=4,
                        style="italic",
                        linespacing=0.9,
                    )
        ax.set_title(f"{name}\n({gtext})", fontsize=9.5)
        ax.set_xlabel(xlabel, fontsize=8.5)
        ax.grid(axis="x", color="#eeeeee", zorder=0)
        ax.tick_params(labelsize=8)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
    axes[0].set_yticks(y, labels, fontsize=8.5)
    axes[0].set_ylim(-0.6, n - 0.4)
    handles = [
        Patch(color=GOOD, label="goal met"),
        Patch(color=BAD, label="goal missed"),
        Patch(color=NEUTRAL, label="no goal set"),
        Line2D([], [], color="#222222", ls="--", label="goal"),
        Line2D([], [], ls="", label="$\\it{italics}$: the disruption that hurts the chain most"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=12, weight="bold")
    return fig


def largest_moves(
    changes: pd.DataFrame, *, cluster_labels: dict[str, str], region_labels: dict[str, str], title: str, count: int = 15
) -> Figure:
    """Horizontal bars of the cells whose output changed most between two runs (B − A)."""
    df = changes.copy()
    df["delta"] = pd.to_numeric(df["delta"], errors="coerce").fillna(0.0)
    df = df[df["delta"].abs() > 1e-9]
    longest = max([len(str(c)) + len(str(r)) for c, r in zip(df["cluster"], df["region"])] + [20])
    fig = new_figure(min(16.0, 6.5 + 0.075 * longest), 2.0 + 0.33 * max(1, min(count, len(df))), constrained=True)
    ax = fig.add_subplot()
    if df.empty:
        ax.text(0.5, 0.5, "no output moved between the two runs", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title)
        return fig
    df = df.reindex(df["delta"].abs().sort_values(ascending=False).index).head(count).iloc[::-1]

    def status(row) -> str:
        a, b = row.get("established_a"), row.get("established_b")
        try:
            a, b = int(float(a or 0)), int(float(b or 0))
        except (TypeError, ValueError):
            return ""
        return " (opened)" if b > a else " (closed)" if a > b else ""

    labels = [
        f"{cluster_labels.get(str(c), c)} · {region_labels.get(str(r), r)}{status(row)}"
        for (_, row), c, r in zip(df.iterrows(), df["cluster"], df["region"])
    ]
    y = np.arange(len(df))
    colors = ["#b2182b" if d > 0 else "#2166ac" for d in df["delta"]]
    ax.barh(y, df["delta"], color=colors, height=0.65, zorder=2)
    ax.axvline(0, color="#333333", lw=0.8)
    m = df["delta"].abs().max()
    ax.set_xlim(-1.12 * m if (df["delta"] < 0).any() else -0.75 * m, 1.12 * m if (df["delta"] > 0).any() else 0.75 * m)
    # the numbers go on the other side of the zero line, where the row is empty
    out_a = df["output_a"] if "output_a" in df else pd.Series(np.nan, index=df.index)
    out_b = df["output_b"] if "output_b" in df else pd.Series(np.nan, index=df.index)
    for yi, d, a, b in zip(
        y, df["delta"], pd.to_numeric(out_a, errors="coerce"), pd.to_numeric(out_b, errors="coerce")
    ):
        text = f"{'+' if d > 0 else '−'}{number(abs(d), 3)}"
        if np.isfinite(a) and np.isfinite(b):
            text += f"  ({number(a, 3)} → {number(b, 3)})"
        ax.text(
            -0.015 * m if d > 0 else 0.015 * m,
            float(yi),
            text,
            va="center",
            ha="right" if d > 0 else "left",
            fontsize=7.5,
            color="#333333",
        )
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"change in output, B − A ({OUTPUT_UNIT})")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    handles = [Patch(color="#b2182b", label="more in B"), Patch(color="#2166ac", label="less in B")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11, weight="bold")
    return fig


def _numeric(series: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """x positions for a swept column: numbers as they are, anything else as ordered categories."""
    num = pd.to_numeric(series, errors="coerce")
    if num.notna().all():
        return num.to_numpy(dtype=float), None
    cats = list(dict.fromkeys(series.astype(str)))
    return np.array([cats.index(v) for v in series.astype(str)], dtype=float), cats


STATUS_STYLE: dict[str, dict[str, str | None]] = {
    "optimal": dict(marker="o", color=None, label="optimal"),
    "feasible": dict(marker="^", color="#ff7f00", label="feasible, not proven optimal"),
    "infeasible": dict(marker="X", color="#d73027", label="infeasible (no value: marked on the axis)"),
    "error": dict(marker="s", color="#7f7f7f", label="error (no value: marked on the axis)"),
}


def status_handles(seen: set[str], color: str) -> list[Artist]:
    """Legend entries for the solve statuses among `seen`, in `STATUS_STYLE` order (`color` where a
    status has none of its own)."""
    return [
        Line2D(
            [],
            [],
            ls="",
            marker=STATUS_STYLE[s]["marker"],
            color=STATUS_STYLE[s]["color"] or color,
            markeredgecolor="#222222",
            label=STATUS_STYLE[s]["label"],
        )
        for s in STATUS_STYLE
        if s in seen
    ]


def sweep_chart(
    sweep: pd.DataFrame, swept: list[str], tipping: pd.DataFrame | None, *, title: str, objective_label: str
) -> Figure:
    """Objective and resilience against the first swept parameter; tipping points as bands."""
    param = swept[0]
    others = swept[1:]
    x_all, cats = _numeric(sweep[param])
    df = sweep.assign(_x=x_all)
    groups = [((), df)] if not others else list(df.groupby(others, sort=True))
    panels = [("objective", objective_label)]
    if "resilience" in df.columns and pd.to_numeric(df["resilience"], errors="coerce").notna().any():
        panels.append(("resilience", "resilience (worst surviving share)"))
    fig = new_figure(9.0, 2.2 + 2.6 * len(panels), constrained=True)
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    status = df.get("status", pd.Series(["optimal"] * len(df))).astype(str).str.lower()
    palette = matplotlib.colormaps["tab10"]
    seen = set()
    for ax, (col, ylabel) in zip(axes, panels):
        yv = pd.to_numeric(df[col], errors="coerce")
        for g, (key, sub) in enumerate(groups):
            color = palette(g % 10)
            lab = ", ".join(f"{o}={v}" for o, v in zip(others, key if isinstance(key, tuple) else (key,))) or None
            order = np.argsort(sub["_x"].to_numpy())
            xs = sub["_x"].to_numpy()[order]
            ys = yv.loc[sub.index].to_numpy(dtype=float)[order]
            ok = status.loc[sub.index].to_numpy()[order]
            good = np.isin(ok, OK_STATUSES + ("feasible",)) & np.isfinite(ys)
            ax.plot(xs[good], ys[good], "-", color=color, lw=1.6, label=lab if ax is axes[0] else None, zorder=3)
            for st, style in STATUS_STYLE.items():
                m = ok == st
                if st == "optimal":
                    m = m | ~np.isin(ok, list(STATUS_STYLE))
                if not m.any():
                    continue
                fin = m & np.isfinite(ys)
                c = style["color"] or color
                if fin.any():
                    ax.scatter(
                        xs[fin],
                        ys[fin],
                        marker=style["marker"],
                        s=46 if st != "optimal" else 26,
                        color=c,
                        edgecolors="white" if st == "optimal" else "#222222",
                        linewidths=0.6,
                        zorder=4,
                    )
                nonfin = m & ~np.isfinite(ys)
                if nonfin.any():
                    ax.scatter(
                        xs[nonfin],
                        np.full(nonfin.sum(), 0.03),
                        marker=style["marker"],
                        s=60,
                        color=c,
                        edgecolors="#222222",
                        linewidths=0.6,
                        zorder=4,
                        transform=ax.get_xaxis_transform(),
                        clip_on=False,
                    )
                seen.add(st)
        if col == "resilience":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.4g}%"))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
        ax.set_ylabel(ylabel)
        ax.grid(color="#eeeeee", zorder=0)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
    bands = 0
    if tipping is not None and len(tipping):
        tp = tipping
        if "parameter" in tp.columns:
            tp = tp[tp["parameter"].astype(str) == param] if (tp["parameter"].astype(str) == param).any() else tp
        for _, row in tp.iterrows():
            a, b = row.get("from_value"), row.get("to_value")
            if cats is not None:
                a = cats.index(str(a)) if str(a) in cats else np.nan
                b = cats.index(str(b)) if str(b) in cats else np.nan
            a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
            if not (np.isfinite(a) and np.isfinite(b)):
                continue
            lo, hi = min(a, b), max(a, b)
            gap = 0.012 * ((np.nanmax(x_all) - np.nanmin(x_all)) or 1.0)  # adjacent bands stay apart
            for ax in axes:
                ax.axvspan(lo + gap, hi - gap, color="#fdb863", alpha=0.35, lw=0, zorder=1)
            changed = row.get("changed_cells")
            if changed is not None and np.isfinite(pd.to_numeric(changed, errors="coerce")):
                axes[0].text(
                    (lo + hi) / 2,
                    0.98,
                    f"{int(float(changed))} cells\nchange",
                    transform=axes[0].get_xaxis_transform(),
                    ha="center",
                    va="top",
                    fontsize=7,
                    color="#8c510a",
                )
            bands += 1
    finite_x = x_all[np.isfinite(x_all)]
    if finite_x.size:
        span = (finite_x.max() - finite_x.min()) or 1.0
        axes[-1].set_xlim(finite_x.min() - 0.05 * span, finite_x.max() + 0.05 * span)
    if cats is not None:
        axes[-1].set_xticks(range(len(cats)), cats, rotation=30 if max(map(len, cats)) > 8 else 0)
    axes[-1].set_xlabel(param)
    handles: list[Artist] = status_handles(seen, "#1f77b4")
    if bands:
        handles.append(Patch(color="#fdb863", alpha=0.5, label="tipping point: the layout changes"))
    if others:
        h0, l0 = axes[0].get_legend_handles_labels()
        handles = h0 + handles
    fig.legend(
        handles=handles, loc="outside lower center", ncols=min(4, max(1, len(handles))), fontsize=8, frameon=False
    )
    fig.suptitle(title, fontsize=12, weight="bold")
    return fig


def pareto_chart(
    front: pd.DataFrame,
    *,
    title: str,
    x_label: str,
    objective_label: str,
    percent_x: bool = False,
    maximise_x: bool = True,
) -> Figure:
    """The trade-off front: value of the `against` criterion on x, objective on y, points labelled.

    Labels go on the outer side of the front (up and away from the dominated side), off the line.
    """
    df = front.copy()
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df["objective"] = pd.to_numeric(df["objective"], errors="coerce")
    status = df.get("status", pd.Series(["optimal"] * len(df))).astype(str).str.lower()
    fig = new_figure(8.5, 6.0, constrained=True)
    ax = fig.add_subplot()
    ok = df[np.isfinite(df["value"]) & np.isfinite(df["objective"])].sort_values("value")
    ax.plot(ok["value"], ok["objective"], "-", color="#4575b4", lw=1.6, zorder=2)
    seen = set()
    for st, style in STATUS_STYLE.items():
        m = (status == st) if st != "optimal" else (status == st) | ~status.isin(list(STATUS_STYLE))
        sub = df[m & np.isfinite(df["value"]) & np.isfinite(df["objective"])]
        if len(sub):
            ax.scatter(
                sub["value"],
                sub["objective"],
                marker=style["marker"],
                s=60,
                color=style["color"] or "#4575b4",
                edgecolors="#222222",
                linewidths=0.6,
                zorder=3,
            )
            seen.add(st)

    def span(v: pd.Series) -> float:
        r = float(v.max() - v.min()) if len(v) > 1 else 0.0
        return r if r > 0 else (0.05 * abs(float(v.mean())) if len(v) and v.mean() else 1.0)

    xr, yr = span(ok["value"]), span(ok["objective"])
    if len(ok) == 1:
        ax.text(
            0.5,
            0.92,
            "a single point: this criterion does not trade off against the objective",
            transform=ax.transAxes,
            ha="center",
            fontsize=8.5,
            color="#555555",
        )
    for k, (_, row) in enumerate(ok.iterrows()):
        name = str(row.get("point", k))
        name = f"P{name}" if name.replace(".", "").isdigit() else name
        xv = percent(row["value"], 1) if percent_x else number(row["value"], 3)
        ax.annotate(
            f"{name}\n{xv}, {number(row['objective'], 4)}",
            (row["value"], row["objective"]),
            xytext=(7 if maximise_x else -7, 7),
            textcoords="offset points",
            fontsize=7.2,
            ha="left" if maximise_x else "right",
            va="bottom",
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#cccccc", lw=0.5, alpha=0.85),
        )
    if len(ok):
        left, right = (0.08, 0.25) if maximise_x else (0.25, 0.08)
        ax.set_xlim(ok["value"].min() - left * xr, ok["value"].max() + right * xr)
        ax.set_ylim(ok["objective"].min() - 0.08 * yr, ok["objective"].max() + 0.18 * yr)
    bad = df[~(np.isfinite(df["value"]) & np.isfinite(df["objective"]))]
    if len(bad):
        ax.text(
            0.99 if maximise_x else 0.01,
            0.01,
            f"{len(bad)} point(s) without a solution: "
            + ", ".join(f"{p} ({s})" for p, s in zip(bad.get("point", bad.index), status.loc[bad.index])),
            transform=ax.transAxes,
            fontsize=7.5,
            color=BAD,
            va="bottom",
            ha="right" if maximise_x else "left",
        )
    if percent_x:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.4g}%"))
    ax.set_xlabel(x_label)
    ax.set_ylabel(objective_label)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    if not percent_x:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.grid(color="#eeeeee", zorder=0)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    handles = status_handles(seen, "#4575b4")
    if handles:
        ax.legend(handles=handles, loc="lower left" if maximise_x else "lower right", fontsize=8)
    ax.set_title(title, fontsize=11, weight="bold")
    return fig
