"""Why a scenario is infeasible, in the planner's terms (`layout diagnose`, docs/model.md#diagnose).

The elastic model lets every ceiling, resilience and coordination goal, lock and pole give: each
of their rows gets a non-negative slack on the side that binds, and the model minimises the sum
of slacks, each as a share of the dataset's own figure for that row — its limit before the
scenario scales the dataset (the region's capacity for a ceiling, ρ·D_i for a disruption goal) —
so that a ceiling the scenario cut is named before ceilings it left alone (docs/model.md#diagnose). Targets, min_scale and link stay hard — the question is which
ceilings, goals and locks stop the targets being met — unless `relax_targets` lets targets give too.

The link bound U_ir of the normal model is min(c_i·T_i, σ·cap/a): both parts come from
constraints that may give, so in the elastic model link uses U_ir = T_i and the concentration
cap (x_ir ≤ c·T_i) and the ceilings are elastic rows of their own; lock-outs become elastic
rows x_ir ≤ 0 on the cells they close.

With periods (docs/model.md#periods) the elastic model is built for every period and stacked like
the model itself; `decline` may give too, `persistence` stays hard. When the answer involves a
decline limit and a ceiling, diagnose asks the two questions apart — which ceilings must give
while output declines no faster than allowed, and how much faster output must decline while the
ceilings hold — and says where a ceiling tightens faster than existing output may decline.

On a feasible scenario, diagnose reports the binding ceilings and goals with their shadow prices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from model.formulation import Formulation, Variables, formulate, to_pyomo
from model.dataset import Dataset
from model.instance import Instance
from model.results import write_folder
from model.run import as_scenario, solve_prepared, Prepared, prepare
from model.scenario import Scenario, dataset_of
from model.solver import HighsModel, Status

ELASTIC = (
    "ceiling",
    "max_sites",
    "min_sites",
    "hinterland",
    "disruption",
    "balance",
    "keep_existing",
    "lock_in",
    "growth_pole",
    "concentration",
    "lock_out",
    "corridor_capacity",
    "backup_share",
    "recourse_survival",
    "decline",
)
COLUMNS = ["family", "cluster", "region", "resource", "disruption", "shortfall", "unit"]
PERIOD_COLUMN = "period"
"""With periods, diagnosis.csv and binding.csv gain the year of each row (docs/run-folder.md#diagnose-folder)."""
OUTPUT_UNIT = "10^8 yuan"


@dataclass
class Diagnosis:
    """`diagnosis`: the smallest weighted relaxation (empty when feasible); `binding`: constraints at
    their limit with shadow prices (feasible scenarios); `sentences`: the same in words."""

    feasible: bool
    diagnosis: pd.DataFrame
    binding: pd.DataFrame
    sentences: list[str]
    status: Status

    def write(self, folder: str | Path) -> Path:
        files = {
            "diagnosis.csv": lambda p: self.diagnosis.to_csv(p, index=False),
            "diagnosis.txt": lambda p: p.write_text("\n".join(self.sentences) + "\n", encoding="utf-8"),
        }
        if self.feasible:
            files["binding.csv"] = lambda p: self.binding.to_csv(p, index=False)
        return write_folder(folder, files)


def _ids(family: str, key) -> dict[str, str]:
    """The cluster/region/resource/disruption ids a row's key stands for."""
    key = key if isinstance(key, tuple) else (key,)
    if family == "ceiling":
        return {"region": key[0], "resource": key[1]}
    if family in ("max_sites", "min_sites", "hinterland", "target"):
        return {"cluster": key[0]}
    if family in ("disruption", "recourse_survival"):
        return {"cluster": key[0], "disruption": key[1]}
    if family == "backup_share":
        return {"cluster": key[0]}
    if family == "corridor_capacity":
        return {"region": f"{key[0]}->{key[1]}"}  # an arc between two nodes
    if family == "balance":
        return {"region": key[0]}  # a macro-region
    if family == "growth_pole":
        strategy, category = key[0].split(":", 1)
        return {"region": strategy, "cluster": category}  # a strategy area and a category
    return {"cluster": key[0], "region": key[1]}


def _unit(family: str, resource: str | None, units: dict[str, str]) -> str:
    if family == "ceiling":
        return units.get(resource or "", "")
    if family in ("max_sites", "min_sites"):
        return "sites"
    return OUTPUT_UNIT


def _sentence(row: dict, rhs: float, sense: str) -> str:
    f, amount, unit = row["family"], row["shortfall"], row["unit"]
    c, r, k, s = row.get("cluster"), row.get("region"), row.get("resource"), row.get("disruption")
    if f == "ceiling":
        return f"{k} ceiling in {r}: {amount:,.4g} {unit} short (available {rhs:,.4g}, needs {rhs + amount:,.4g}, +{_pct(amount, rhs)})"
    if f == "max_sites":
        return f"max_sites of {c}: {amount:,.4g} more sites needed than the cap of {rhs:,.0f}"
    if f == "min_sites":
        return f"min_sites of {c}: {amount:,.4g} fewer sites than the goal of {rhs:,.0f} can be established"
    if f == "hinterland":
        return f"hinterland goal for {c}: {amount:,.4g} {unit} short of the {rhs:,.4g} required in the hinterland ({_pct(amount, rhs)})"
    if f == "disruption":
        return f"disruption goal for {c} under {s}: {amount:,.4g} {unit} short of the {rhs:,.4g} that must survive ({_pct(amount, rhs)})"
    if f == "recourse_survival":
        return (
            f"recourse for {c} under {s}: the surviving network delivers {amount:,.4g} {unit} less than "
            f"the {rhs:,.4g} the chain must keep, inputs included ({_pct(amount, rhs)})"
        )
    if f == "backup_share":
        return (
            f"backup share of {c}: {amount:,.4g} {unit} of standby capacity short of {rhs:,.4g} ({_pct(amount, rhs)})"
        )
    if f == "corridor_capacity":
        return f"corridor {r}: {amount:,.4g} {unit} more flow than its capacity of {rhs:,.4g} (+{_pct(amount, rhs)})"
    if f == "balance":
        return f"balance goal for the {r} macro-region: {amount:,.4g} {unit} short of {rhs:,.4g} ({_pct(amount, rhs)})"
    if f == "keep_existing":
        return f"keep_existing of {c} in {r}: {amount:,.4g} {unit} short of the {rhs:,.4g} to keep"
    if f == "lock_in":
        return f"lock_in of {c} in {r}: {amount:,.4g} {unit} short of the {rhs:,.4g} locked in"
    if f == "growth_pole":
        return f"growth pole {r} for {c}: {amount:,.4g} {unit} short of {rhs:,.4g} ({_pct(amount, rhs)})"
    if f == "link":
        return (
            f"concentration cap on {c} in {r}: {amount:,.4g} {unit} above the cap of {rhs:,.4g} ({_pct(amount, rhs)})"
        )
    if f == "lock_out":
        return f"lock_out of {c} in {r}: {amount:,.4g} {unit} must be placed in the locked-out cell"
    if f == "target":
        return f"target of {c}: {amount:,.4g} {unit} cannot be produced (of {rhs:,.4g})"
    if f == "decline":
        return f"decline of {c} in {r}: output must fall {amount:,.4g} {unit} more than the decline limit allows"
    return f"{f}: {amount:,.4g} {unit}"


def _pct(amount: float, base: float) -> str:
    return f"{100 * amount / base:,.1f} %" if base > 0 else "from zero"


def _elastic_formulation(strict: Instance, open_inst: Instance) -> tuple[Instance, Formulation]:
    """One period's model before the slacks: link at U = T_i, the concentration cap and the lock-outs
    as rows of their own, no keep_existing on locked-out cells, lock-ins' y = 1 bounds lifted."""
    cells = open_inst.cells.copy()
    cells["upper"] = cells["cap"] = open_inst.target[cells["i"]]  # U = T_i: no ceiling, no cap hidden in link
    inst = dataclasses.replace(
        open_inst, cells=cells, concentration_cap=None, unhosted_existing=strict.unhosted_existing
    )
    f = formulate(inst)
    x = f.start("x")
    keys = inst.cell_keys
    strict_cells = set(strict.cell_keys)
    closed = np.array([key not in strict_cells for key in keys], dtype=bool)
    if strict.concentration_cap is not None:
        capped = np.flatnonzero(strict.critical[cells["i"]])
        f.add(
            "concentration",
            [keys[j] for j in capped],
            np.arange(len(capped)),
            x + capped,
            np.ones(len(capped)),
            upper=strict.concentration_cap * inst.target[cells["i"].to_numpy()[capped]],
        )
    shut = np.flatnonzero(closed)
    row, column = np.arange(len(shut)), x + shut
    if inst.backup is not None:  # a locked-out cell holds no standby capacity either
        position = np.full(len(keys), -1)
        position[inst.backup.cells] = f.start("b") + np.arange(len(inst.backup.cells))
        held = np.flatnonzero(position[shut] >= 0)
        row, column = np.r_[row, held], np.r_[column, position[shut[held]]]
    f.add("lock_out", [keys[j] for j in shut], row, column, np.ones(len(row)), upper=0.0)
    kept = f.family("keep_existing")
    if kept is not None:  # locked-out cells are phased out, not kept
        f.families[f.families.index(kept)] = kept.subset(np.array([k in strict_cells for k in kept.keys], dtype=bool))
    f.variable("y").lower[:] = 0.0  # lock-ins give through their own elastic rows
    return inst, f


def elastic_model(scenario: Scenario, relax_targets: bool = False, elastic: tuple[str, ...] | None = None) -> Prepared:
    """The model with every ceiling, goal, lock and pole made elastic, minimising the weighted slack.

    `elastic` names the families that may give (default: `ELASTIC`, and targets with
    `relax_targets`). `model.slacks` lists (slack variable, family, key, limit) for every elastic row.
    """
    dataset = dataset_of(scenario)
    strict = Instance.of(scenario, dataset)
    open_scenario = scenario.model_copy(update={"lock_out": []})
    open_inst = Instance.of(open_scenario, dataset)
    figure = dataset_figures(dataset, strict)
    phasing = None
    if scenario.periods is None:
        inst, f = _elastic_formulation(strict, open_inst)
    else:  # every period's elastic model, stacked as the model is (docs/model.md#periods)
        from model.periods import declining_cells, formulate_periods, instances_by_period, weights_of

        stricts = instances_by_period(scenario, dataset, strict)
        periods = [
            _elastic_formulation(s, o) for s, o in zip(stricts, instances_by_period(open_scenario, dataset, open_inst))
        ]
        first = dict(zip(stricts[0].cell_keys, declining_cells(stricts[0])))
        f = formulate_periods(
            [inst for inst, _ in periods],
            scenario.periods.years,
            weights_of(scenario.periods),
            scenario.periods.decline_limit,
            formulations=[f for _, f in periods],
            first_decline=np.array([first.get(key, False) for key in periods[0][0].cell_keys]),
        )
        inst, phasing, by_year = periods[-1][0], f.phasing, figure  # type: ignore[attr-defined]

        def figure(family: str, key: Any, limit: float) -> float:  # the dataset's figure: the key without its year
            return by_year(family, key[:-1], limit)

    families = elastic if elastic is not None else ELASTIC + (("target",) if relax_targets else ())
    rows_elastic = [rows for rows in f.families if rows.family in families]
    n = sum(len(rows) for rows in rows_elastic)
    slack = f.add_variables(
        Variables("slack", list(range(n)), False, np.zeros(n), np.full(n, np.inf), "how far an elastic row gives")
    )
    weights, slacks, start = np.zeros(f.num_columns), [], 0
    shortfall_of_target: dict = {}
    for rows in rows_elastic:
        m_rows = len(rows)
        columns = slack[start : start + m_rows]
        gives_upper = np.isfinite(rows.upper) & (~np.isfinite(rows.lower) | (rows.family != "target"))
        rows.add_column(columns, np.where(gives_upper, -1.0, 1.0))
        # a row built in a compact form gives by the same amount; its limit is stated as docs/model.md has it
        limit = rows.stated(np.where(gives_upper, rows.upper, rows.lower))
        size = np.array([figure(rows.family, key, abs(float(lim))) for key, lim in zip(rows.keys, limit)])
        weights[columns] = 1.0 / np.maximum(size, 1e-6)
        slacks += [(start + j, rows.family, key, float(limit[j])) for j, key in enumerate(rows.keys)]
        if rows.family == "target":
            shortfall_of_target = {key: int(column) for key, column in zip(rows.keys, columns)}
        start += m_rows
    disruption = f.family("disruption")
    if shortfall_of_target and disruption is not None and disruption.offset is not None:
        # the compact row counts T_i as produced: what the target falls short of cannot survive either
        of_target = [key[0] if phasing is None else (key[0], key[-1]) for key in disruption.keys]  # (cluster[, year])
        disruption.add_column(np.array([shortfall_of_target[key] for key in of_target]), -disruption.sign)
    f.cost, f.constant, f.maximise = weights, 0.0, False
    m = to_pyomo(f)
    m.slacks = [(m.slack[j], family, key, limit) for j, family, key, limit in slacks]
    return Prepared(scenario, inst, m, 0.0, phasing=phasing)


def dataset_figures(dataset: Dataset, inst: Instance) -> Callable[[str, object, float], float]:
    """figure(family, key, limit): the dataset's own figure for a row, which its shortfall is a share of.

    That is the row's limit before the scenario scales the dataset (σ for ceilings, τ for targets,
    `max_sites_scale` for the sites caps), with the scenario's goals kept: cap_rk for a ceiling, η·D_i
    and ρ·D_i for the hinterland and disruption goals, β_m·Σ_i D_i for balance, share·Σ D_i over the
    category for a growth pole, D_i for a target, a concentration cap and a lock-out, max_sites_i for
    a sites cap, e_ir for a decline row (D_i on a cell without existing output); a lock-in, min_sites
    and keep_existing have no scaled part (`limit` itself).
    docs/model.md#diagnose has the table.
    """
    capacity = dict(zip(zip(dataset.capacity["region"], dataset.capacity["resource"]), dataset.capacity["available"]))
    clusters = dataset.clusters.set_index("cluster")
    target = clusters["target"].astype(float).to_dict()
    max_sites = clusters["max_sites"].astype(float).to_dict()
    by_category = dataset.clusters.groupby("category")["target"].sum().astype(float).to_dict()
    poles = {pole.id: pole.share for pole in inst.growth_poles}
    total = float(sum(target.values()))
    existing = dict(zip(zip(dataset.existing["cluster"], dataset.existing["region"]), dataset.existing["output"]))

    def figure(family: str, key: object, limit: float) -> float:
        key = key if isinstance(key, tuple) else (key,)
        if family == "ceiling":
            return float(capacity[key])
        if family in ("target", "concentration", "lock_out"):
            return target[key[0]]
        if family == "hinterland":
            return (inst.hinterland_share or 0.0) * target[key[0]]
        if family in ("disruption", "recourse_survival"):
            return (inst.disruption_survival or 0.0) * target[key[0]]
        if family == "backup_share" and inst.backup is not None:
            return (inst.backup.share or 0.0) * target[key[0]]
        if family == "balance":
            return inst.balance[key[0]] * total
        if family == "growth_pole":
            return poles[key[0]] * by_category[str(key[0]).split(":", 1)[1]]
        if family == "max_sites":
            return max_sites[key[0]]
        if family == "decline":
            return float(existing.get(key[:2], 0.0)) or target[key[0]]
        return limit

    return figure


@dataclass
class _Relaxation:
    """What one elastic solve found: the status, and each row that gives with its limit."""

    status: Status
    rows: list[dict]
    limits: list[float]
    message: str = ""


def _relax(
    scenario: Scenario, relax_targets: bool, units: dict[str, str], elastic: tuple[str, ...] | None = None
) -> _Relaxation:
    """Solve the elastic model in which the families `elastic` may give (default: all that may)."""
    prepared = elastic_model(scenario, relax_targets, elastic)
    m = prepared.model
    families = elastic if elastic is not None else ELASTIC + (("target",) if relax_targets else ())
    hopeless = [(f, k, v) for f, k, v in m.trivially_infeasible if f not in families]
    if hopeless:
        family, key, short = hopeless[0]
        return _Relaxation(
            Status.INFEASIBLE,
            [],
            [],
            f"{family} {key} has no allowed cell at all (short by {short:,.4g}); "
            + ("" if relax_targets else "run with --relax-targets to let targets give"),
        )
    highs = HighsModel.from_pyomo(m)
    outcome = highs.solve(scenario.solver)
    if outcome.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return _Relaxation(outcome.status, [], [])
    assert outcome.col_value is not None, "a solved outcome has its column values"
    values = np.append(outcome.col_value, 0.0)
    shortfalls = [(family, key, rhs, float(values[highs.column_of(s)])) for s, family, key, rhs in m.slacks]
    shortfalls += [(family, key, short, short) for family, key, short in m.trivially_infeasible]
    rows, limits = [], []
    for family, key, rhs, amount in shortfalls:
        if amount <= 1e-6 * max(1.0, abs(rhs)):
            continue
        name = "link" if family == "concentration" else family
        ids = _ids(family, key)
        row = {"family": name, "cluster": None, "region": None, "resource": None, "disruption": None} | ids
        row |= {"shortfall": amount, "unit": _unit(name, ids.get("resource"), units)}
        if prepared.phasing is not None:
            row[PERIOD_COLUMN] = key[-1]
        rows.append(row)
        limits.append(rhs)
    return _Relaxation(outcome.status, rows, limits)


def _in_words(row: dict, rhs: float) -> str:
    sentence = _sentence(row, rhs, "")
    return f"{row[PERIOD_COLUMN]}: {sentence}" if row.get(PERIOD_COLUMN) is not None else sentence


def diagnose(scenario: Scenario | str | Path, relax_targets: bool = False) -> Diagnosis:
    """The smallest weighted relaxation that restores feasibility, or, if feasible, what binds."""
    scenario = as_scenario(scenario)
    dataset = dataset_of(scenario)
    units = dict(zip(dataset.resources["resource"], dataset.resources["unit"]))
    result = solve_prepared(prepare(scenario))
    if result.solved:
        return _binding(result, units)
    if result.status == Status.ERROR:
        raise RuntimeError(f"the scenario did not solve ({result.message}); diagnose needs a proven answer")

    relaxation = _relax(scenario, relax_targets, units)
    columns = COLUMNS + ([PERIOD_COLUMN] if scenario.periods is not None else [])
    if relaxation.message:
        return Diagnosis(False, pd.DataFrame(columns=columns), pd.DataFrame(), [relaxation.message], Status.INFEASIBLE)
    if relaxation.status not in (Status.OPTIMAL, Status.FEASIBLE):
        hint = "" if relax_targets else " Run with --relax-targets to let the targets give too."
        return Diagnosis(
            False,
            pd.DataFrame(columns=columns),
            pd.DataFrame(),
            [
                f"Even with every ceiling, goal and lock relaxed the targets cannot be met "
                f"(the minimum scales or the allowed cells stand in the way).{hint}"
            ],
            relaxation.status,
        )
    sentences = [_in_words(row, rhs) for row, rhs in zip(relaxation.rows, relaxation.limits)]
    table = pd.DataFrame(relaxation.rows, columns=columns).sort_values(["family", "shortfall"], ascending=[True, False])
    header = (
        f"{scenario.name} is infeasible. The smallest relaxation that restores feasibility "
        f"({len(table)} constraint{'s' if len(table) != 1 else ''}):"
    )
    sentences = [header] + [f"  - {s}" for s in sentences]
    if (
        scenario.periods is not None
        and scenario.periods.decline_limit is not None
        and {"decline", "ceiling"} & set(table["family"])
    ):
        sentences += _tightening(scenario, relax_targets, units, dataset)
    return Diagnosis(False, table.reset_index(drop=True), pd.DataFrame(), sentences, Status.INFEASIBLE)


def _tightening(scenario: Scenario, relax_targets: bool, units: dict[str, str], dataset: Dataset) -> list[str]:
    """Where a ceiling tightens faster than existing output may decline (docs/model.md#decline).

    Two questions apart: with every decline row hard, which ceilings must give; with only the
    decline rows elastic, how much faster output must fall. A ceiling of region r that gives in the
    first answer, and the decline of cells of r that use its resource in the second, are one story:
    "carbon in hebei tightens faster than existing output may decline: …".
    """
    no_decline = tuple(f for f in ELASTIC + (("target",) if relax_targets else ()) if f != "decline")
    ceilings = _relax(scenario, relax_targets, units, no_decline)
    declines = _relax(scenario, relax_targets, units, ("decline",))
    if not ceilings.rows or not declines.rows:
        return []
    intensity = dataset.intensity
    uses = set(
        zip(intensity.loc[intensity["per_unit"] > 0, "cluster"], intensity.loc[intensity["per_unit"] > 0, "resource"])
    )
    assert scenario.periods is not None and scenario.periods.decline_limit is not None
    delta = scenario.periods.decline_limit
    out = []
    given = [(row, rhs) for row, rhs in zip(ceilings.rows, ceilings.limits) if row["family"] == "ceiling"]
    seen: set[tuple[str, str]] = set()
    for row, _ in given:
        region, resource = row["region"], row["resource"]
        cells = [
            d
            for d in declines.rows
            if d["family"] == "decline" and d["region"] == region and (d["cluster"], resource) in uses
        ]
        if not cells or (resource, region) in seen:
            continue
        seen.add((resource, region))
        tight = [(r, l) for r, l in given if (r["region"], r["resource"]) == (region, resource)]
        ceiling_part = "; ".join(
            f"{r[PERIOD_COLUMN]}: {r['shortfall']:,.4g} {r['unit']} short of the {l:,.4g} available "
            f"(+{_pct(r['shortfall'], l)})"
            for r, l in tight
        )
        decline_part = "; ".join(
            f"{d['cluster']} in {d['region']} {d['shortfall']:,.4g} {d['unit']} in {d[PERIOD_COLUMN]}" for d in cells
        )
        out.append(
            f"  {resource} in {region} tightens faster than existing output may decline: with output falling "
            f"at most {100 * delta:.0f} % a period, the {resource} ceiling in {region} must give ({ceiling_part}); "
            f"or, with the ceiling held, output must fall faster than the decline limit allows "
            f"({decline_part})."
        )
    return out


def _binding(result, units: dict[str, str]) -> Diagnosis:
    """Feasible: the ceilings and goals at their limit, with their shadow prices."""
    rows = result.constraints
    phased = result.scenario.periods is not None
    soft = rows[
        rows["family"].isin(ELASTIC)
        & (rows["slack"].abs() <= 1e-6 * np.maximum(1.0, rows["rhs"].abs()))
        & (rows["shadow_price"].abs() > 1e-9)
    ]
    out = []
    for row in soft.itertuples():
        ids = _ids(row.family, row.key)
        out.append(
            {"family": row.family, "cluster": None, "region": None, "resource": None, "disruption": None}
            | ids
            | {
                "limit": row.rhs,
                "shadow_price": row.shadow_price,
                "unit": _unit(row.family, ids.get("resource"), units),
            }
            | ({PERIOD_COLUMN: row.key[-1]} if phased else {})
        )
    binding = pd.DataFrame(
        out,
        columns=["family", "cluster", "region", "resource", "disruption", "limit", "shadow_price", "unit"]
        + ([PERIOD_COLUMN] if phased else []),
    )
    binding = binding.reindex(binding["shadow_price"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    sentences = [
        f"{result.scenario.name} is feasible ({result.status.value}, objective {result.objective:,.1f}). "
        f"{len(binding)} ceilings and goals bind; shadow price = objective change per unit more:"
    ]
    for row in binding.itertuples():
        what = " ".join(str(v) for v in (row.cluster, row.region, row.resource, row.disruption) if pd.notna(v) and v)
        what += f" in {row.period}" if phased else ""
        sentences.append(
            f"  - {row.family} {what}: limit {row.limit:,.4g} {row.unit}, shadow price {row.shadow_price:,.4g}"
        )
    return Diagnosis(True, pd.DataFrame(columns=COLUMNS), binding, sentences, result.status)
