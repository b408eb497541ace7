"""Scenario files (docs/scenario.md): schema, `extends`, dotted overrides, checks against the dataset.

A scenario is YAML read with a safe loader, merged key by key over the scenario it `extends`,
then overridden by dotted paths (`ceilings.water.scale=0.8`) from the command line or the API.
The merged result is validated by a pydantic schema that forbids unknown keys, and its ids are
checked against the dataset. Every error names the file (or the override) and the key path.

Precedence, lowest first: the schema's neutral values < the parent scenario (recursively) <
the scenario file < overrides. Two overrides of the same key are an error, not "last wins".
"""

from __future__ import annotations

import copy
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from model.errors import InputError

if TYPE_CHECKING:
    from model.dataset import Dataset

Share = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Targets(_Schema):
    """τ: national targets are scaled by `scale` and, per cluster, by `clusters[id]`."""

    scale: NonNegative = 1.0
    clusters: dict[str, NonNegative] = {}


class Ceiling(_Schema):
    """σ for one resource: `scale` for every region, times a per-region factor in `regions`."""

    scale: NonNegative = 1.0
    regions: dict[str, NonNegative] = {}


class Resilience(_Schema):
    """Resilience goals on the critical clusters; `null` switches a goal off."""

    concentration_cap: Share | None = None
    hinterland_share: Share | None = None
    disruption_survival: Share | None = None
    min_sites: Annotated[int, Field(ge=0)] | None = None
    disruptions: Literal["all"] | list[str] = "all"


class DiminishingReturns(_Schema):
    """Output of a cluster in one region beyond `share` of its target earns `factor` of its
    suitability instead of all of it (docs/model.md#diminishing_returns)."""

    share: Annotated[float, Field(gt=0, le=1)]
    factor: Share


class Coordination(_Schema):
    """Coordination goals: macro-region balance, keeping existing output, the sites cap scale,
    diminishing returns of concentration."""

    balance: dict[str, Share] = {}
    keep_existing: Share = 0.0
    max_sites_scale: NonNegative = 1.0
    diminishing_returns: DiminishingReturns | None = None


class LockIn(_Schema):
    """A site that must be established, with at least `min_output` (default: the minimum scale)."""

    cluster: str
    region: str
    min_output: NonNegative | None = None


class LockOut(_Schema):
    """Cells that may not host: a cluster or category, in a region or macro-region; an omitted side matches all."""

    cluster: str | None = None
    category: str | None = None
    region: str | None = None
    macro_region: str | None = None

    @model_validator(mode="after")
    def _one_per_side(self) -> "LockOut":
        if self.cluster is not None and self.category is not None:
            raise ValueError("give cluster or category, not both")
        if self.region is not None and self.macro_region is not None:
            raise ValueError("give region or macro_region, not both")
        return self

    def matches_cluster(self, cluster: str, category: str) -> bool:
        return self.cluster in (None, cluster) and self.category in (None, category)

    def matches_region(self, region: str, macro_region: str) -> bool:
        return self.region in (None, region) and self.macro_region in (None, macro_region)


class GrowthPole(_Schema):
    """A strategy area that must host at least `share` of a category's target output."""

    strategy: str
    category: str
    share: Share


class ObjectiveWeights(_Schema):
    """φ weighs the fixed cost of new sites; κ prices each unit of relocated existing output."""

    fixed_cost_weight: NonNegative = 1.0
    relocation_cost: NonNegative = 0.0


CORRIDOR = "--"
"""Joins the two nodes of a corridor in a key of `chains.corridors` (`anhui--henan`): ids have no
`-` and no `.`, so the key survives a dotted path (`--set chains.corridors.anhui--henan=500`)."""


class Chains(_Schema):
    """The resilient network (docs/model.md#chains-corridors-and-backup), used when the dataset has
    chains.csv and corridors.csv: `enabled` switches it off, θ = `transport_cost_scale` scales every
    cluster's transport cost, `recourse` asks that every chain still works under every active
    disruption (needs `resilience.disruption_survival`), and `corridors` overrides corridors.csv's
    capacity of a corridor, `node_a--node_b` (either order) → capacity, null for no limit
    (docs/scenario.md#chains)."""

    enabled: bool = True
    transport_cost_scale: NonNegative = 1.0
    recourse: bool = False
    corridors: dict[str, NonNegative | None] = {}


class Backup(_Schema):
    """Standby capacity of the critical clusters (docs/model.md#backup): `cost` per unit held,
    at least `share` of each critical target held (null: no floor), only in the hinterland when
    `hinterland_only`, counted against the ceilings of `resources`."""

    cost: NonNegative = 0.05
    share: Share | None = None
    hinterland_only: bool = True
    resources: list[str] = ["land"]


class Periods(_Schema):
    """Phasing over the Plan (docs/model.md#periods): the years of the periods, how far each
    period's targets have come from existing output (`progress`, default p/P), each period's weight
    in the objective (`weights`, default 1/P), a factor per resource and period on the ceilings
    (`ceilings`, default 1) and how fast output may decline from one period to the next
    (`decline_limit`, docs/model.md#decline; null: no limit). Every list has one entry per year."""

    years: Annotated[list[int], Field(min_length=1)]
    progress: list[Share] | None = None
    weights: list[Share] | None = None
    ceilings: dict[str, list[NonNegative]] = {}
    decline_limit: Share | None = None

    @field_validator("years")
    @classmethod
    def _increasing(cls, years: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(years, years[1:])):
            raise PydanticCustomError("years", "the years must be strictly increasing")
        return years

    @field_validator("progress", "weights")
    @classmethod
    def _one_per_year(cls, values: list[float] | None, info) -> list[float] | None:
        years = info.data.get("years")
        if values is not None and years is not None and len(values) != len(years):
            raise PydanticCustomError(
                "per_year",
                "needs one entry per year: {entries} given for {count} years",
                {"entries": len(values), "count": len(years)},
            )
        return values


class SolverOptions(_Schema):
    """HiGHS options: seconds, relative MIP gap, threads, random seed, and the solve strategy.

    `strategy`: `branch_and_bound` hands the MIP to HiGHS as it is; `lp_rounding` first solves the
    LP relaxation, rounds it to a site pattern, re-optimises the output for that pattern and starts
    branch and bound from it (or stops there if it is within `mip_gap` of the relaxation's bound);
    `auto` uses `lp_rounding` for models with more than 5,000 site variables.
    `log`: HiGHS's log goes to `solver.log` in the run folder; otherwise nothing from the solver is printed.
    """

    time_limit: Annotated[float, Field(gt=0)] = 60.0
    mip_gap: NonNegative = 1e-4
    threads: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    strategy: Literal["auto", "branch_and_bound", "lp_rounding"] = "auto"
    log: bool = False


class Sweep(_Schema):
    """Parameters to sweep: dotted path -> the values it takes (a grid when several are given)."""

    parameters: dict[str, Annotated[list[Any], Field(min_length=1)]]
    jobs: Annotated[int, Field(ge=1)] = 1


class Scenario(_Schema):
    """A fully merged, validated scenario. `data` is an absolute path once loaded."""

    name: str
    description: str = ""
    extends: str | None = None
    data: str
    targets: Targets = Targets()
    ceilings: dict[str, Ceiling] = {}
    resilience: Resilience = Resilience()
    coordination: Coordination = Coordination()
    lock_in: list[LockIn] = []
    lock_out: list[LockOut] = []
    growth_poles: list[GrowthPole] = []
    objective: ObjectiveWeights = ObjectiveWeights()
    chains: Chains = Chains()
    backup: Backup | None = None
    periods: Periods | None = None
    solver: SolverOptions = SolverOptions()
    sweep: Sweep | None = None

    def resolved(self) -> dict[str, Any]:
        """Every key spelled out, every resource's ceiling listed; what a run writes as scenario.yaml."""
        data = self.model_dump(mode="json")
        data["extends"] = None
        dataset = dataset_of(self)
        data["ceilings"] = {
            k: self.ceilings.get(k, Ceiling()).model_dump(mode="json") for k in dataset.resource_ids
        } | data["ceilings"]
        return data

    def resolved_yaml(self) -> str:
        return yaml.safe_dump(self.resolved(), sort_keys=False, allow_unicode=True)

    def sha256(self) -> str:
        return hashlib.sha256(self.resolved_yaml().encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any]) -> "Scenario":
        """A new scenario with dotted-path overrides applied, validated again."""
        merged = self.model_dump(mode="json")
        provenance = {"": "scenario"}
        _apply_overrides(merged, provenance, overrides)
        scenario = _validate(merged, provenance)
        check_against_dataset(scenario, dataset_of(scenario), provenance)
        return scenario


# --- reading files -------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, None, "scenario file does not exist")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, where, f"not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text") from None
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise InputError(path, None, "a scenario must be a mapping of keys to values")
    return content


def _merge(base: dict, top: dict, provenance: dict[str, str], source: str, prefix: str = "") -> dict:
    """Merge `top` over `base` key by key (mappings recursively, everything else replaced)."""
    out = dict(base)
    for key, value in top.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, provenance, source, path + ".")
        else:
            out[key] = copy.deepcopy(value)
            for old in [p for p in provenance if p == path or p.startswith(path + ".")]:
                del provenance[old]
        provenance[path] = source
    return out


def _read_with_parents(path: Path, provenance: dict[str, str], seen: tuple[Path, ...] = ()) -> dict:
    path = path.resolve()
    if path in seen:
        raise InputError(path, "extends", "scenarios extend each other in a cycle")
    content = _read_yaml(path)
    if "data" in content:
        if not isinstance(content["data"], str):
            raise InputError(path, "data", "must be a path to a dataset folder")
        content["data"] = str((path.parent / content["data"]).resolve())
    parent = content.get("extends")
    merged: dict[str, Any] = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise InputError(path, "extends", "must be a path to a scenario file")
        merged = _read_with_parents(path.parent / parent, provenance, seen + (path,))
        merged.pop("extends", None)
    return _merge(merged, content, provenance, str(path))


def _apply_overrides(data: dict, provenance: dict[str, str], overrides: dict[str, Any]) -> None:
    """Set each dotted path (`__` also separates, for Python keyword arguments) to its value."""
    overrides = {path.replace("__", "."): value for path, value in overrides.items()}
    paths = list(overrides)
    for a in paths:
        for b in paths:
            if a != b and b.startswith(a + "."):
                raise InputError(f"--set {b}", None, f"conflicts with --set {a}: two overrides set the same key")
    for path, value in overrides.items():
        keys = path.split(".")
        node: Any = data
        for key in keys[:-1]:
            if isinstance(node, list):
                node = node[_index(node, key, path)]
            else:
                if not isinstance(node.get(key), (dict, list)):
                    node[key] = {}
                node = node[key]
        last = keys[-1]
        if isinstance(node, list):
            index = _index(node, last, path)
            node[index] = value
        else:
            node[last] = value
        provenance[path] = f"--set {path}"
        if path == "data" and isinstance(value, str):
            node[last] = str(Path(value).resolve())


def _index(node: list, key: str, path: str) -> int:
    if not key.isdigit() or int(key) >= len(node):
        raise InputError(f"--set {path}", None, f"{key!r} is not an index of a list of {len(node)} items")
    return int(key)


def _source_of(path: str, provenance: dict[str, str]) -> str:
    parts = path.split(".")
    for n in range(len(parts), -1, -1):
        prefix = ".".join(parts[:n])
        if prefix in provenance:
            return provenance[prefix]
    return next(iter(provenance.values()), "scenario")


def _validate(data: dict, provenance: dict[str, str]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = _key_path(error["loc"], data)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "this key is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "literal_error" and path.endswith("disruptions"):
            message = "must be `all` or a list of disruption ids"
        if error.get("input") is not None and error["type"] not in ("missing", "extra_forbidden"):
            message += f" (got {error['input']!r})"
        raise InputError(_source_of(path, provenance), path or None, message) from None


def _key_path(loc: tuple, data: Any) -> str:
    """The dotted key path of a validation error's location. Union members and validators add loc
    parts such as "literal['all']" or "function-after[…]"; they are not keys, unless the data has
    them as keys (a corridor `anhui--henan`)."""
    parts, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif any(ch in str(part) for ch in "[(-"):
            continue
        else:
            node = None
        parts.append(str(part))
    return ".".join(parts)


@lru_cache(maxsize=8)
def _cached_dataset(folder: str, stamp: tuple) -> Dataset:
    from model.dataset import load_dataset  # pandas: only once a scenario is valid and needs its data

    return load_dataset(folder)


def dataset_of(scenario: Scenario) -> Dataset:
    """The scenario's dataset, loaded once per folder and modification time."""
    folder = Path(scenario.data)
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.csv"))) if folder.is_dir() else ()
    return _cached_dataset(str(folder), stamp)


def check_against_dataset(scenario: Scenario, dataset: Dataset, provenance: dict[str, str] | None = None) -> None:
    """Every id the scenario names must exist in the dataset; lock-ins must be on cells that can host."""
    provenance = provenance or {"": "scenario"}

    def fail(path: str, problem: str) -> None:
        raise InputError(_source_of(path, provenance), path, problem)

    def known(path: str, value: str | None, ids: list[str], what: str) -> None:
        if value is not None and value not in ids:
            shown = ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")
            fail(path, f"unknown {what} {value!r} (the dataset has {shown})")

    for cluster in scenario.targets.clusters:
        known(f"targets.clusters.{cluster}", cluster, dataset.cluster_ids, "cluster")
    for resource, ceiling in scenario.ceilings.items():
        known(f"ceilings.{resource}", resource, dataset.resource_ids, "resource")
        for region in ceiling.regions:
            known(f"ceilings.{resource}.regions.{region}", region, dataset.region_ids, "region")
    if scenario.resilience.disruptions != "all":
        for n, disruption in enumerate(scenario.resilience.disruptions):
            known(f"resilience.disruptions.{n}", disruption, dataset.disruption_ids, "disruption")
    for macro in scenario.coordination.balance:
        known(f"coordination.balance.{macro}", macro, sorted(set(dataset.regions["macro_region"])), "macro-region")
    for n, lock in enumerate(scenario.lock_out):
        known(f"lock_out.{n}.cluster", lock.cluster, dataset.cluster_ids, "cluster")
        known(f"lock_out.{n}.category", lock.category, dataset.categories, "category")
        known(f"lock_out.{n}.region", lock.region, dataset.region_ids, "region")
        known(
            f"lock_out.{n}.macro_region",
            lock.macro_region,
            sorted(set(dataset.regions["macro_region"])),
            "macro-region",
        )
    scores = dict(zip(zip(dataset.suitability["cluster"], dataset.suitability["region"]), dataset.suitability["score"]))
    category_of = dict(zip(dataset.clusters["cluster"], dataset.clusters["category"]))
    macro_of = dict(zip(dataset.regions["region"], dataset.regions["macro_region"]))
    seen: set[tuple[str, str]] = set()
    for n, lock_in in enumerate(scenario.lock_in):
        known(f"lock_in.{n}.cluster", lock_in.cluster, dataset.cluster_ids, "cluster")
        known(f"lock_in.{n}.region", lock_in.region, dataset.region_ids, "region")
        cell = (lock_in.cluster, lock_in.region)
        if cell in seen:
            fail(f"lock_in.{n}", f"{lock_in.cluster} in {lock_in.region} is locked in twice")
        seen.add(cell)
        if scores.get(cell, 0.0) <= 0:
            fail(
                f"lock_in.{n}",
                f"{lock_in.cluster} cannot be locked in to {lock_in.region}: its suitability score there is 0",
            )
        for m, out in enumerate(scenario.lock_out):
            if out.matches_cluster(lock_in.cluster, category_of[lock_in.cluster]) and out.matches_region(
                lock_in.region, macro_of[lock_in.region]
            ):
                fail(
                    f"lock_in.{n}",
                    f"{lock_in.cluster} in {lock_in.region} is both locked in and locked out (lock_out.{m})",
                )
    for n, pole in enumerate(scenario.growth_poles):
        known(f"growth_poles.{n}.strategy", pole.strategy, dataset.strategies, "strategy")
        known(f"growth_poles.{n}.category", pole.category, dataset.categories, "category")
    if scenario.periods is not None:
        years = len(scenario.periods.years)
        for resource, factors in scenario.periods.ceilings.items():
            known(f"periods.ceilings.{resource}", resource, dataset.resource_ids, "resource")
            if len(factors) != years:
                fail(
                    f"periods.ceilings.{resource}", f"needs one entry per year: {len(factors)} given for {years} years"
                )
    if scenario.backup is not None:
        for n, resource in enumerate(scenario.backup.resources):
            known(f"backup.resources.{n}", resource, dataset.resource_ids, "resource")
    if scenario.chains.recourse:
        if scenario.resilience.disruption_survival is None:
            fail("chains.recourse", "recourse needs resilience.disruption_survival (the share every chain must keep)")
        if not dataset.has_network:
            fail(
                "chains.recourse",
                f"recourse needs chains: the dataset {dataset.folder} has no chains.csv and corridors.csv",
            )
        if not scenario.chains.enabled:
            fail("chains.recourse", "recourse needs chains.enabled: true")
    if scenario.chains.corridors:
        if not dataset.has_network:
            fail("chains.corridors", f"the dataset {dataset.folder} has no corridors.csv")
        corridor_overrides(scenario, dataset, provenance)
    if dataset.has_network and scenario.chains.enabled:
        check_chain_supply(scenario, dataset)


def corridor_overrides(
    scenario: Scenario, dataset: Dataset, provenance: dict[str, str] | None = None
) -> dict[int, float | None]:
    """Row of corridors.csv → the capacity `chains.corridors` gives it (None: no limit). Each key is
    `node_a--node_b` in either order; a key that names no corridor, or a corridor named twice, is an
    error naming the key path (docs/scenario.md#chains)."""

    def problem(path: str, text: str) -> NoReturn:
        raise InputError(_source_of(path, provenance or {"": "scenario"}), path, text)

    corridors = dataset.corridors
    assert corridors is not None
    row_of: dict[tuple[str, str], int] = {}
    for n, (a, b) in enumerate(zip(corridors["node_a"], corridors["node_b"])):
        row_of[(a, b)] = row_of[(b, a)] = n
    named = [f"{a}{CORRIDOR}{b}" for a, b in zip(corridors["node_a"], corridors["node_b"])]
    out: dict[int, float | None] = {}
    for key, capacity in scenario.chains.corridors.items():
        path = f"chains.corridors.{key}"
        ends = key.split(CORRIDOR)
        if len(ends) != 2 or not all(ends):
            problem(path, f"a corridor is written node_a{CORRIDOR}node_b (e.g. {named[0] if named else 'a--b'})")
        row = row_of.get((ends[0], ends[1]))
        if row is None:
            nodes = set(dataset.node_ids)
            unknown = [n for n in ends if n not in nodes]
            if unknown:
                problem(path, f"unknown node {unknown[0]!r} (the dataset's nodes are its regions' `node` ids)")
            near = sorted(b for a, b in row_of if a == ends[0])
            problem(
                path,
                f"unknown corridor {key!r}: corridors.csv has no corridor between {ends[0]} and {ends[1]} "
                f"({ends[0]} has corridors to {', '.join(near) if near else 'no node'})",
            )
        if row in out:
            problem(path, f"the corridor {named[row]} is given twice (a corridor has no direction)")
        out[row] = capacity
    return out


def check_chain_supply(scenario: Scenario, dataset: Dataset) -> None:
    """Σ_j q_ij·T_j ≤ T_i for every upstream cluster i, with the scenario's targets T — with periods in
    every period, with T_ip = Ē_i + (T_i − Ē_i)·π_p (docs/model.md#periods): else no layout can supply the
    chain (docs/model.md#chains). The error names the upstream cluster, the period and both totals."""
    clusters = dataset.clusters.set_index("cluster")["target"]
    final = {c: scenario.targets.scale * scenario.targets.clusters.get(c, 1.0) * float(d) for c, d in clusters.items()}
    targets: list[tuple[int | None, dict[str, float]]] = [(None, final)]
    if scenario.periods is not None:
        existing = dataset.existing.groupby("cluster")["output"].sum().astype(float).to_dict()
        P = len(scenario.periods.years)
        progress = scenario.periods.progress or [(p + 1) / P for p in range(P)]
        targets = [
            (year, {c: t * pi + existing.get(c, 0.0) * (1 - pi) for c, t in final.items()})
            for year, pi in zip(scenario.periods.years, progress)
        ]
    chains, lines = dataset.chains, dataset.lines.get("chains.csv", [])
    assert chains is not None, "check_chain_supply runs on datasets with chains.csv"
    for year, target in targets:
        need: dict[str, float] = {}
        for up, down, q in zip(chains["upstream"], chains["downstream"], chains["per_unit"]):
            need[up] = need.get(up, 0.0) + float(q) * target[down]
        for up, total in need.items():
            if total > target[up] * (1 + 1e-9) + 1e-9:
                first = next(n for n, u in enumerate(chains["upstream"]) if u == up)
                line = f"line {lines[first]}, column upstream" if lines else None
                when = f" in {year}" if year is not None else ""
                raise InputError(
                    dataset.folder / "chains.csv",
                    line,
                    f"chain supply impossible{when}: the clusters downstream of {up} need Σ_j q_ij·T_j = "
                    f"{total:,.6g} of it, but its target T_i is {target[up]:,.6g} (targets of scenario "
                    f"{scenario.name!r}{when})",
                )


def parse_assignment(text: str) -> tuple[str, Any]:
    """`PATH=VALUE` from the command line; VALUE is read as YAML (numbers, null, lists)."""
    if "=" not in text:
        raise InputError(f"--set {text}", None, "expected PATH=VALUE, e.g. ceilings.water.scale=0.8")
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise InputError(f"--set {text}", None, "the path is empty or has an empty part")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise InputError(f"--set {text}", None, "the value is not valid YAML") from None
    return path, value


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read, merge, override and validate a scenario file; its dataset is loaded and checked too.

    Overrides are dotted paths, e.g. ``load_scenario("baseline.yaml", **{"ceilings.water.scale": 0.8})``;
    a double underscore also stands for a dot (``resilience__hinterland_share=0.4``).
    """
    path = Path(path)
    provenance: dict[str, str] = {}
    merged = _read_with_parents(path, provenance)
    merged.pop("extends", None)
    merged.setdefault("name", path.stem)
    provenance.setdefault("name", str(path.resolve()))
    _apply_overrides(merged, provenance, overrides)
    scenario = _validate(merged, provenance)
    if not Path(scenario.data).is_dir():
        raise InputError(_source_of("data", provenance), "data", f"dataset folder {scenario.data} does not exist")
    check_against_dataset(scenario, dataset_of(scenario), provenance)
    return scenario
