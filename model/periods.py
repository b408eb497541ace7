"""Phasing over the Plan (docs/model.md#periods): periods, site persistence, orderly transfer.

A scenario with a `periods` key splits the Plan into periods p = 1..P with years Y_p. Every family
of the one-period model holds in every period, on that period's numbers, and two families link the
periods: `persistence` (a site, once established, stays) and `decline` (output may fall at most δ
per period). The model is built in three steps, each vectorised over the cells:

* `instances_by_period(scenario, dataset)` — one `Instance` per period: the targets T_ip move from
  existing output towards T_i, the ceilings are scaled per period, and the link bounds U_irp follow
  (`instance.link_bounds`, the same function the one-period instance uses);
* `formulate_periods(instances, years, weights, decline_limit)` — each period is formulated by
  `formulation.formulate` (a loop over the P periods only) and the periods are stacked: one
  variable group per name, indexed by the one-period key plus the year, columns group-major
  (every period's x, then every period's y, …); every family keeps its name and its keys gain the
  year as their last part; then `persistence`, `decline` and the objective over periods;
* `period_tables(...)` — the solution read back per period into the run folder's tables, each
  with a `period` column (the year), and the objective of each period (summary.json).

With one year and no decline limit the stacked model is the one-period model: the same rows, the
same columns and the same optimum; only the keys carry the year.

Symbols as in `model.formulation`; p period, Y_p its year, w_p its weight, π_p its progress, μ_kp its
ceiling factor, δ the decline limit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse

from model.formulation import Formulation, Rows, Variables, formulate
from model.instance import Instance, backup_sites_fixed_upper, link_bounds
from model.results import layout_tables, network_tables

if TYPE_CHECKING:
    from model.dataset import Dataset
    from model.scenario import Periods, Scenario


# --- the numbers of each period ----------------------------------------------------------------


def progress_of(periods: Periods) -> np.ndarray:
    """(P,) π_p: `periods.progress`, default p/P (evenly spaced, the last = 1)."""
    P = len(periods.years)
    if periods.progress is not None:
        return np.asarray(periods.progress, dtype=float)
    return np.arange(1, P + 1) / P


def weights_of(periods: Periods) -> np.ndarray:
    """(P,) w_p: `periods.weights`, default 1/P each (docs/model.md#periods-objective)."""
    P = len(periods.years)
    if periods.weights is not None:
        return np.asarray(periods.weights, dtype=float)
    return np.full(P, 1.0 / P)


def ceiling_factors(periods: Periods, resources: list[str]) -> np.ndarray:
    """(P, K) μ_kp: `periods.ceilings[k][p]`, default 1."""
    P = len(periods.years)
    mu = np.ones((P, len(resources)))
    for k, resource in enumerate(resources):
        if resource in periods.ceilings:
            mu[:, k] = periods.ceilings[resource]
    return mu


def existing_total(inst: Instance) -> np.ndarray:
    """(I,) Ē_i = Σ_r e_ir: all existing output of each cluster, in allowed cells or not."""
    clusters = {c: n for n, c in enumerate(inst.clusters)}
    total = np.bincount(
        inst.cells["i"].to_numpy(int), weights=inst.cells["existing"].to_numpy(float), minlength=len(inst.clusters)
    )
    unhosted = inst.unhosted_existing
    if len(unhosted):
        total += np.bincount(
            unhosted["cluster"].map(clusters).to_numpy(int),
            weights=unhosted["output"].to_numpy(float),
            minlength=len(inst.clusters),
        )
    return total


def period_instance(base: Instance, progress: float, factors: np.ndarray, existing: np.ndarray) -> Instance:
    """One period's instance: T_ip = Ē_i + (T_i − Ē_i)·π_p, σ_rkp·cap_rk = σ_rk·cap_rk·μ_kp, and U_irp,
    c_i·T_ip from them (docs/model.md#periods). Written T_i·π_p + Ē_i·(1 − π_p), so that π_p = 1
    gives T_i and μ_kp = 1 gives σ_rk·cap_rk exactly, bit for bit."""
    target = base.target * progress + existing * (1.0 - progress)
    ceiling = base.ceiling * factors[None, :]
    upper, cap = link_bounds(target, base.intensity, ceiling, base.critical, base.concentration_cap)
    cells = base.cells.copy()
    i, r = cells["i"].to_numpy(int), cells["r"].to_numpy(int)
    cells["upper"], cells["cap"] = upper[i, r], cap[i, r]
    backup = base.backup
    if backup is not None:  # the backup cells' link bound in the LP with the sites fixed follows the period too
        backup = dataclasses.replace(
            backup,
            sites_fixed_upper=backup_sites_fixed_upper(backup.cells, backup.resources, cells, base.intensity, ceiling),
        )
    return dataclasses.replace(base, target=target, ceiling=ceiling, cells=cells, backup=backup)


def instances_by_period(scenario: Scenario, dataset: Dataset, base: Instance | None = None) -> list[Instance]:
    """One instance per period of `scenario.periods` (docs/model.md#periods); `base` is the
    one-period instance (`Instance.of`), resolved here if not given."""
    base = base if base is not None else Instance.of(scenario, dataset)
    periods = scenario.periods
    assert periods is not None, "a scenario without periods has one instance: Instance.of"
    existing = existing_total(base)
    mu = ceiling_factors(periods, base.resources)
    return [period_instance(base, float(pi), mu[p], existing) for p, pi in enumerate(progress_of(periods))]


# --- stacking the periods ----------------------------------------------------------------------


def with_year(key: Any, year: int) -> tuple:
    """A one-period key with the year as its last part: ("a", "r1") → ("a", "r1", 2026), "a" → ("a", 2026)."""
    return (*key, year) if isinstance(key, tuple) else (key, year)


@dataclass
class Phasing:
    """How a stacked formulation maps to its periods.

    `formulations[p]` is period p's own formulation (its variables, cost and constant; its families
    live on in the stacked model), and `columns[p][j]` the stacked column of its column j.
    """

    years: list[int]
    weights: np.ndarray
    instances: list[Instance]
    formulations: list[Formulation]
    columns: list[np.ndarray]
    decline_limit: float | None = None

    @property
    def last(self) -> int:
        return len(self.years) - 1

    def cell_columns(self, p: int, name: str) -> np.ndarray:
        """Stacked columns of variable group `name` (x or y: one per allowed cell) in period p."""
        f = self.formulations[p]
        start = f.start(name)
        return self.columns[p][start : start + len(f.variable(name).index)]


def _has(f: Formulation, name: str) -> bool:
    return any(v.name == name for v in f.variables)


def _cost(f: Formulation) -> np.ndarray:
    """A formulated model's objective coefficients (every formulation here has its objective)."""
    if f.cost is None:
        raise ValueError("the formulation has no objective yet")
    return f.cost


def _benefit(f: Formulation) -> np.ndarray:
    """The planner's objective of a formulation, kept when a workflow replaced `cost`."""
    return f.benefit if f.benefit is not None else _cost(f)


def _group(f: Formulation, values: np.ndarray, name: str) -> np.ndarray:
    """The values of variable group `name` of one period's formulation (empty if it has none)."""
    if not _has(f, name):
        return np.zeros(0)
    start = f.start(name)
    return values[start : start + len(f.variable(name).index)]


def _remapped(A: scipy.sparse.csr_matrix, columns: np.ndarray, n: int) -> scipy.sparse.csr_matrix:
    """A period's block with its columns renumbered into the stacked model's n columns."""
    B = scipy.sparse.csr_matrix((A.data.copy(), columns[A.indices], A.indptr.copy()), shape=(A.shape[0], n))
    B.sort_indices()
    return B


def _stack_rows(
    family: str, parts: list[tuple[int, Rows]], columns: list[np.ndarray], years: list[int], n: int
) -> Rows:
    """One family's rows of every period as one block: keys with the year, columns renumbered.

    Every field of `Rows` is carried: sparse blocks are renumbered and stacked (a period without
    its own `sites_fixed` statement contributes its `matrix`), per-row arrays are concatenated,
    anything else must agree between the periods.
    """
    out: dict[str, Any] = {}
    for field in dataclasses.fields(Rows):
        values = [getattr(rows, field.name) for _, rows in parts]
        if field.name == "family":
            out[field.name] = family
        elif field.name == "keys":
            out[field.name] = [with_year(key, years[p]) for p, rows in parts for key in rows.keys]
        elif any(scipy.sparse.issparse(v) for v in values):
            out[field.name] = scipy.sparse.vstack(
                [_remapped(v if v is not None else rows.matrix, columns[p], n) for v, (p, rows) in zip(values, parts)],
                format="csr",
            )
        elif all(v is None for v in values):
            out[field.name] = None
        elif isinstance(values[0], np.ndarray):
            out[field.name] = np.concatenate(values)
        else:
            if any(v != values[0] for v in values[1:]):
                raise ValueError(f"family {family}: {field.name} differs between periods")
            out[field.name] = values[0]
    return Rows(**out)


def stack(formulations: list[Formulation], years: list[int]) -> tuple[Formulation, list[np.ndarray]]:
    """The periods' formulations as one: one variable group per name over every period (keys with the
    year, group-major), every family's rows of every period as one block; no objective yet.

    Returns the stacked formulation and, per period, the stacked column of each of its columns.
    """
    names = list(dict.fromkeys(v.name for f in formulations for v in f.variables))
    columns = [np.full(f.num_columns, -1, dtype=np.int64) for f in formulations]
    variables, start = [], 0
    for name in names:
        parts = [(p, f.variable(name)) for p, f in enumerate(formulations) if _has(f, name)]
        index: list = []
        for p, v in parts:
            n = len(v.index)
            first = formulations[p].start(name)
            columns[p][first : first + n] = start + len(index) + np.arange(n)
            index += [with_year(key, years[p]) for key in v.index]
        head = parts[0][1]
        variables.append(
            Variables(
                name,
                index,
                head.binary,
                np.concatenate([v.lower for _, v in parts]),
                np.concatenate([v.upper for _, v in parts]),
                head.doc,
                head.index_set,
            )
        )
        start += len(index)
    stacked = Formulation(variables=variables, maximise=formulations[-1].maximise)
    by_family: dict[str, list[tuple[int, Rows]]] = {}
    for p, f in enumerate(formulations):
        for rows in f.families:
            by_family.setdefault(rows.family, []).append((p, rows))
        stacked.trivially_infeasible += [
            (family, with_year(key, years[p]), short) for family, key, short in f.trivially_infeasible
        ]
    stacked.families = [_stack_rows(family, parts, columns, years, start) for family, parts in by_family.items()]
    return stacked, columns


def add_persistence(f: Formulation, ph: Phasing) -> None:
    """persistence: y_irp − y_ir,p−1 ≥ 0 on A, p ≥ 2 — a site, once established, stays
    (docs/model.md#persistence). Key (cluster, region, year)."""
    if len(ph.years) < 2:
        return
    keys = ph.instances[0].cell_keys
    n = len(keys)
    later = range(1, len(ph.years))
    rows = np.arange(n * len(later))
    now = np.concatenate([ph.cell_columns(p, "y") for p in later])
    before = np.concatenate([ph.cell_columns(p - 1, "y") for p in later])
    f.add(
        "persistence",
        [with_year(key, ph.years[p]) for p in later for key in keys],
        np.r_[rows, rows],
        np.r_[now, before],
        np.r_[np.ones(len(rows)), -np.ones(len(rows))],
        lower=0.0,
    )


def declining_cells(inst: Instance) -> np.ndarray:
    """(cells,) bool: the existing cells whose output the first decline row holds — e_ir > 0 and
    U_ir1 ≥ m_i; an existing cell that cannot hold its minimum scale is relocated instead."""
    cells = inst.cells
    return (cells["existing"].to_numpy(float) > 0) & (
        cells["upper"].to_numpy(float) >= inst.min_scale[cells["i"].to_numpy(int)]
    )


def add_decline(f: Formulation, ph: Phasing, first: np.ndarray | None = None) -> None:
    """decline: x_ir1 ≥ (1 − δ)·e_ir on the existing cells with U_ir1 ≥ m_i, and
    x_irp − (1 − δ)·x_ir,p−1 ≥ 0 on A for p ≥ 2 — output may fall at most δ per period, an orderly
    transfer (docs/model.md#decline). Key (cluster, region, year). Only when δ is given.

    `first` overrides which cells get a first-period row (diagnose: the cells of the strict model).
    """
    if ph.decline_limit is None:
        return
    keep = 1.0 - ph.decline_limit
    inst = ph.instances[0]
    keys = inst.cell_keys
    n = len(keys)
    start = np.flatnonzero(declining_cells(inst) if first is None else first)
    x = [ph.cell_columns(p, "x") for p in range(len(ph.years))]
    later = range(1, len(ph.years))
    m = len(start)
    rows = m + np.arange(n * len(later))
    now = np.concatenate([x[p] for p in later]) if len(later) else np.zeros(0, np.int64)
    before = np.concatenate([x[p - 1] for p in later]) if len(later) else np.zeros(0, np.int64)
    lower = np.r_[keep * inst.cells["existing"].to_numpy(float)[start], np.zeros(len(rows))]
    f.add(
        "decline",
        [with_year(keys[j], ph.years[0]) for j in start] + [with_year(key, ph.years[p]) for p in later for key in keys],
        np.r_[np.arange(m), rows, rows],
        np.r_[x[0][start], now, before],
        np.r_[np.ones(m + len(rows)), -keep * np.ones(len(rows))],
        lower=lower,
    )


PERIOD_FAMILIES: dict[str, Callable[..., None]] = {"persistence": add_persistence, "decline": add_decline}
"""The families across periods (docs/model.md#periods), by name."""


def over_periods(ph: Phasing, of: Callable[[Formulation], np.ndarray], n: int) -> np.ndarray:
    """Σ_p w_p·(period p's coefficients `of(f_p)` without those of y) plus the last period's y
    coefficients unweighted: the fixed cost once per site (docs/model.md#periods-objective)."""
    out = np.zeros(n)
    for p, period in enumerate(ph.formulations):
        own = of(period).copy()
        if _has(period, "y"):
            own[period.start("y") + np.arange(len(period.variable("y").index))] = 0.0
        out[ph.columns[p]] += ph.weights[p] * own
    last = ph.formulations[-1]
    if _has(last, "y"):
        y = last.start("y") + np.arange(len(last.variable("y").index))
        out[ph.columns[-1][y]] += of(last)[y]
    return out


def define_objective(f: Formulation, ph: Phasing) -> None:
    """Σ_p w_p·(period p's objective without fixed cost) − φ·Σ_{A, e=0} f_i·y_irP: the fixed cost
    once per site, from the last period's sites, which are every site ever opened
    (docs/model.md#periods-objective). The periods' constants are weighted as their terms are; the
    planner's objective (`benefit`) is stacked the same way when a workflow set another cost."""
    f.cost = over_periods(ph, _cost, f.num_columns)
    f.benefit = over_periods(ph, _benefit, f.num_columns)
    f.constant = float(sum(w * period.constant for w, period in zip(ph.weights, ph.formulations)))


def formulate_periods(
    instances: list[Instance],
    years: list[int],
    weights: np.ndarray | list[float] | None = None,
    decline_limit: float | None = None,
    *,
    formulations: list[Formulation] | None = None,
    edit: Callable[[Formulation, Instance], None] | None = None,
    first_decline: np.ndarray | None = None,
) -> Formulation:
    """The phased model (docs/model.md#periods): every period formulated by `formulate` (or given
    as `formulations`), `edit` applied to each (a workflow's rows and objective hold in every
    period), stacked, then persistence, decline and the objective over periods.

    `weights` default to 1/P. The result carries its `Phasing` as the attribute `phasing`.
    """
    P = len(instances)
    if len(years) != P:
        raise ValueError(f"{P} instances for {len(years)} years")
    weights = np.full(P, 1.0 / P) if weights is None else np.asarray(weights, dtype=float)
    if formulations is None:
        formulations = [formulate(inst) for inst in instances]
    if edit is not None:
        for f, inst in zip(formulations, instances):
            edit(f, inst)
    stacked, columns = stack(formulations, list(years))
    own = [
        Formulation(variables=f.variables, cost=f.cost, constant=f.constant, maximise=f.maximise, benefit=f.benefit)
        for f in formulations
    ]
    ph = Phasing(list(years), weights, list(instances), own, columns, decline_limit)
    add_persistence(stacked, ph)
    add_decline(stacked, ph, first_decline)
    define_objective(stacked, ph)
    stacked.phasing = ph  # type: ignore[attr-defined]  # read back by run.prepare (Prepared.phasing)
    return stacked


def formulate_scenario(
    scenario: Scenario, dataset: Dataset, edit: Callable[[Formulation, Instance], None] | None = None
) -> tuple[Instance, Formulation]:
    """The phased model of a scenario with `periods`, and the instance of its last period."""
    instances = instances_by_period(scenario, dataset)
    periods = scenario.periods
    assert periods is not None
    return instances[-1], formulate_periods(
        instances, periods.years, weights_of(periods), periods.decline_limit, edit=edit
    )


# --- reading a solution back -------------------------------------------------------------------

OBJECTIVE_TERMS = {"x": "value", "excess": "value", "d": "relocation", "f": "transport", "b": "backup"}
"""The objective term each variable group's cost belongs to (the fixed cost on y is counted apart,
once per site); the constant (existing output that cannot stay) is relocation."""


def formulation_values(model: Any, highs: Any, col_value: np.ndarray) -> np.ndarray:
    """The solution in the formulation's column order (0 for a column in no row or objective)."""
    return np.append(np.asarray(col_value, dtype=float), 0.0)[highs.columns_of(model.formulation_columns)]


def period_objectives(ph: Phasing, values: np.ndarray) -> list[dict[str, Any]]:
    """Per period: its year, weight, objective (the planner's, its own terms without the fixed cost,
    unweighted) and terms, its sites, the sites it opens and their fixed cost (a negative objective
    term, counted once): objective = Σ_p weight·objective_p + Σ_p fixed_cost_p
    (docs/run-folder.md#summaryjson)."""
    out, before = [], None
    for p, (f, year) in enumerate(zip(ph.formulations, ph.years)):
        own = values[ph.columns[p]]
        terms = dict.fromkeys(("value", "relocation", "transport", "backup"), 0.0)
        terms["relocation"] += f.constant
        for v in f.variables:
            if v.name in OBJECTIVE_TERMS and len(v.index):
                span = slice(f.start(v.name), f.start(v.name) + len(v.index))
                terms[OBJECTIVE_TERMS[v.name]] += float(_benefit(f)[span] @ own[span])
        y_columns = f.start("y") + np.arange(len(f.variable("y").index))
        y = np.round(own[y_columns])
        opened = np.maximum(y - (before if before is not None else 0.0), 0.0)
        fixed = _benefit(ph.formulations[-1])[ph.formulations[-1].start("y") + np.arange(len(y))]
        out.append(
            {
                "year": year,
                "weight": float(ph.weights[p]),
                "objective": float(sum(terms.values())),
                "terms": terms,
                "sites": int(y.sum()),
                "opened_sites": int(opened.sum()),
                "fixed_cost": float(fixed @ opened),
            }
        )
        before = y
    return out


def objective_of(periods: list[dict[str, Any]]) -> float:
    """The phased objective from the per-period entries of summary.json."""
    return float(sum(p["weight"] * p["objective"] + p["fixed_cost"] for p in periods))


def objective_terms_over(periods: list[dict[str, Any]]) -> dict[str, float]:
    """The phased objective split into its terms (summary.json `objective_terms`): each term weighted
    over the periods, and the fixed cost of every site once; they sum to the objective."""
    terms = dict.fromkeys(("value", "fixed_cost", "relocation", "transport", "backup"), 0.0)
    for period in periods:
        for name, value in period["terms"].items():
            terms[name] += period["weight"] * value
        terms["fixed_cost"] += period["fixed_cost"]
    return terms


def period_tables(
    ph: Phasing, values: np.ndarray, constraints: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]], dict[str, float]]:
    """The run folder's tables over every period, each with a `period` column (the year), the
    per-period objectives and the objective's terms, from `values` in the stacked formulation's
    column order. layout.csv gains `opened`: the first year in which the cell's site is established
    (docs/run-folder.md#layoutcsv); shadow prices per period come from the LP with the sites fixed;
    flows.csv, backup.csv and recourse.csv, where the run has them, carry the year too."""
    ceilings = constraints[constraints["family"] == "ceiling"]
    per_period: dict[str, list[pd.DataFrame]] = {}
    sites = []
    for p, (inst, year) in enumerate(zip(ph.instances, ph.years)):
        own, f = values[ph.columns[p]], ph.formulations[p]
        x, y = _group(f, own, "x"), _group(f, own, "y")
        backup = np.zeros(len(x))
        if inst.backup is not None:
            backup[inst.backup.cells] = _group(f, own, "b")
        sites.append(np.round(y) > 0.5)
        price = np.zeros((len(inst.regions), len(inst.resources)))
        mine = ceilings[[key[-1] == year for key in ceilings["key"]]]
        if len(mine):
            rn = {r: n for n, r in enumerate(inst.regions)}
            kn = {k: n for n, k in enumerate(inst.resources)}
            price[[rn[key[0]] for key in mine["key"]], [kn[key[1]] for key in mine["key"]]] = mine["shadow_price"]
        tables = layout_tables(inst, x, y, price, backup) | network_tables(inst, x, backup, _group(f, own, "f"))
        for name, table in tables.items():
            per_period.setdefault(name, []).append(table.assign(period=year))
    tables = {name: pd.concat(parts, ignore_index=True) for name, parts in per_period.items()}
    established = np.array(sites)  # (P, cells)
    first = np.where(established.any(axis=0), np.asarray(ph.years)[np.argmax(established, axis=0)], -1)
    cells = ph.instances[0].cells
    opened = pd.DataFrame({"cluster": cells["cluster"], "region": cells["region"], "opened": first})
    layout = tables["layout"].merge(opened, on=["cluster", "region"], how="left")
    layout["opened"] = layout["opened"].where(layout["opened"] >= 0).astype("Int64")
    tables["layout"] = layout
    periods = period_objectives(ph, values)
    return tables, periods, objective_terms_over(periods)


# --- workflows on phased models ----------------------------------------------------------------


def round_sites(prepared: Any, highs: Any, values: np.ndarray, choose: Callable[..., np.ndarray]) -> np.ndarray:
    """A site pattern from the LP relaxation of a phased model: the last period's sites chosen as
    the one-period rounding chooses them (`choose(inst, x)`), then each earlier period keeps those of
    its successor's sites that it would choose itself (so persistence holds), except for a cluster
    that would fall below its minimum number of sites, which keeps its successor's. Standby
    capacity needs its site as output does."""
    ph: Phasing = prepared.phasing
    order = formulation_values(prepared.model, highs, values)
    chosen: list[np.ndarray] = [np.zeros(0, bool)] * len(ph.years)
    for p in range(ph.last, -1, -1):
        inst = ph.instances[p]
        held = order[ph.cell_columns(p, "x")].copy()
        if inst.backup is not None:
            held[inst.backup.cells] += _group(ph.formulations[p], order[ph.columns[p]], "b")
        mine = choose(inst, held)
        if p == ph.last:
            chosen[p] = mine
            continue
        after = chosen[p + 1]
        if p == 0 and ph.decline_limit is not None:
            mine = mine | declining_cells(inst)
        keep = after & mine
        i = inst.cells["i"].to_numpy(int)
        if inst.min_sites is not None:
            count = np.bincount(i[keep], minlength=len(inst.clusters))
            short = inst.critical & (count < inst.min_sites)
            keep = np.where(short[i], after, keep)
        chosen[p] = keep
    pattern = np.asarray(values, dtype=float).copy()
    columns = prepared.model.formulation_columns
    for p in range(len(ph.years)):
        position = highs.columns_of([columns[j] for j in ph.cell_columns(p, "y")])
        present = position >= 0
        pattern[position[present]] = chosen[p][present]
    return pattern
