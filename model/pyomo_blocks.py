"""Pyomo components that hold a constraint family as one sparse block, and the bulk reading of a
Pyomo model for the hand-over to HiGHS.

This is the one module that touches Pyomo's internals (docs/model.md#building-and-solving):
Pyomo's sparse `MatrixConstraint` and its row class, the attributes in which a variable keeps its
bounds, domain and fixed flag, the flag of an active row, and the import hook through which Pyomo
imports scipy.stats along with scipy (`without_scipy_stats`). Reading those in bulk is what makes
the hand-over cost milliseconds rather than seconds at county scale; everything else in the package
uses Pyomo's public interface. `compatibility_problems()` checks every internal used here, and
tests/test_pyomo_blocks.py runs it, so an incompatible Pyomo fails loudly in one place; the
versions it has been tested with are pinned in pyproject.toml (`PYOMO_TESTED`).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo
import pyomo.environ as pyo
from pyomo.core.base.objective import ScalarObjective
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.standard_repn import generate_standard_repn

try:
    from pyomo.core.base.matrix_constraint import MatrixConstraint, _MatrixConstraintData
except ImportError as exc:  # pragma: no cover - only on a Pyomo this package does not support
    raise ImportError(
        f"productive-layout needs Pyomo's sparse MatrixConstraint, which Pyomo {pyomo.version.version} "
        f"does not have ({exc}); install a Pyomo in the range pinned in pyproject.toml"
    ) from None

if TYPE_CHECKING:
    from model.formulation import Rows


def _import_hooks() -> dict | None:
    """The callbacks of Pyomo's import hook by module name (None if this Pyomo keeps them elsewhere)."""
    from pyomo.common import dependencies

    hooks = getattr(getattr(dependencies, "DeferredImportCallbackFinder", None), "_callbacks", None)
    return hooks if isinstance(hooks, dict) else None


def without_scipy_stats() -> None:
    """Keep Pyomo from importing scipy.stats (about 1.4 s, over a third of `layout solve` at province
    scale) the moment scipy is imported: Pyomo's import hook finalises its optional scipy dependency
    that way for its own uses, while this package needs scipy.sparse only. The hook is dropped while
    scipy is not yet imported, so the modules that import Pyomo and then scipy import this module
    between the two. Pyomo's own deferred scipy still resolves (with scipy.stats) if Pyomo uses it."""
    hooks = _import_hooks()
    if hooks is not None and "scipy" not in sys.modules:
        hooks.pop("scipy", None)


without_scipy_stats()

PYOMO_TESTED = ">=6.8,<6.11"
"""The Pyomo versions this module has been tested with; pyproject.toml pins the same range."""

VAR_ATTRIBUTES = ("_lb", "_ub", "_domain", "_fixed", "_value")
"""What a Pyomo variable keeps its bounds, domain, fixed flag and value in (read in bulk below)."""


class _FamilyRow(_MatrixConstraintData):
    """One row of a `FamilyConstraint`, indexed by its family key."""

    __slots__ = ()

    def index(self) -> Any:
        return self.parent_component().rows.keys[self._index]

    def to_bounded_expression(self, evaluate_bounds: bool = False) -> tuple:
        return self.lower, self.body, self.upper


class FamilyConstraint(MatrixConstraint):
    """A constraint family as one sparse block: `m.ceiling["shanghai", "water"]` is the row
    lower ≤ Σ_j A[row, j]·columns[j] ≤ upper; `rows` holds the block for a direct hand-over."""

    def __init__(self, rows: Rows, columns: tuple):
        A = rows.matrix
        super().__init__(A.data, A.indices, A.indptr, _pyomo_bounds(rows.lower), _pyomo_bounds(rows.upper), columns)
        self.rows = rows
        self._position: dict | None = None

    def construct(self, data: Any = None) -> None:
        if self.is_constructed():
            return
        self._constructed: bool = True
        ref = weakref.ref(self)
        self._data = tuple(_FamilyRow(j, ref) for j in range(len(self._lower)))

    def _row_of(self) -> dict:
        if self._position is None:
            self._position = {k: j for j, k in enumerate(self.rows.keys)}
        return self._position

    def __getitem__(self, key: Any) -> _FamilyRow:
        return self._data[self._row_of()[key]]

    def __iter__(self) -> Iterator:
        return iter(self.rows.keys)

    def keys(self, sort: Any = None) -> Iterator:
        """The family's keys, in row order (rows are already in the family's order)."""
        return iter(self.rows.keys)

    def values(self, sort: Any = None) -> Iterator:
        return iter(self._data)

    def items(self, sort: Any = None) -> Iterator:
        return zip(self.rows.keys, self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._row_of()

    @property
    def columns(self) -> tuple:
        """The Pyomo variables the block's column numbers refer to."""
        return self._x

    def active_rows(self) -> np.ndarray:
        """(rows,) bool: the rows nobody has deactivated."""
        return np.fromiter((row._active for row in self._data), bool, len(self._data))


class FamilyObjective(ScalarObjective):
    """The objective cost·columns + constant: an ordinary Pyomo objective that also keeps its cost
    vector, so the hand-over need not walk the expression while it is the one built here."""

    def __init__(self, cost: np.ndarray, columns: tuple, constant: float, maximise: bool):
        used = np.flatnonzero(cost)
        super().__init__(
            expr=LinearExpression(
                constant=float(constant), linear_coefs=cost[used].tolist(), linear_vars=[columns[j] for j in used]
            ),
            sense=pyo.maximize if maximise else pyo.minimize,
        )
        self.cost, self.columns, self.constant = cost, columns, float(constant)
        self._built = None

    def construct(self, data: Any = None) -> None:
        super().construct(data)
        self._built = self.expr

    @property
    def as_built(self) -> bool:
        """True while the expression is still the one made from `cost` (no one has set another)."""
        return self._built is not None and self.expr is self._built


def _pyomo_bounds(bounds: np.ndarray) -> list:
    """Bounds as Pyomo keeps them: floats, None where there is none."""
    out = bounds.astype(object)
    out[~np.isfinite(bounds)] = None
    return out.tolist()


def linear_rows(component: Any) -> Iterator[tuple[Any, np.ndarray, list, float, float]]:
    """(key, coefficients, variables, lower, upper) of each active row of an ordinary linear
    constraint (±inf where a bound is absent), the body's constant moved to the bounds."""
    for key, row in component.items():
        if not row.active:
            continue
        repn = generate_standard_repn(row.body, compute_values=True, quadratic=False)
        if not repn.is_linear():
            raise ValueError(f"constraint {row.name} is not linear")
        lower = -np.inf if row.lower is None else float(pyo.value(row.lower))
        upper = np.inf if row.upper is None else float(pyo.value(row.upper))
        yield (
            key,
            np.asarray(repn.linear_coefs, dtype=float),
            list(repn.linear_vars),
            lower - float(repn.constant),
            upper - float(repn.constant),
        )


def objective_of(model: pyo.ConcreteModel) -> tuple[bool, list | tuple, np.ndarray, float]:
    """(maximise, variables, coefficients, constant) of the model's one active (linear) objective."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise ValueError(f"the model needs exactly one active objective, it has {len(objectives)}")
    objective = objectives[0]
    if isinstance(objective, FamilyObjective) and objective.as_built:
        return objective.sense == pyo.maximize, objective.columns, objective.cost, objective.constant
    repn = generate_standard_repn(objective.expr, compute_values=True, quadratic=False)
    if not repn.is_linear():
        raise ValueError(f"objective {objective.name} is not linear")
    return (
        objective.sense == pyo.maximize,
        list(repn.linear_vars),
        np.asarray(repn.linear_coefs, dtype=float),
        float(repn.constant),
    )


def column_bounds(variables: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds (±inf where none; the value where fixed) and integrality of each variable."""
    n = len(variables)
    lower, upper = _floats([v._lb for v in variables], -np.inf), _floats([v._ub for v in variables], np.inf)
    if lower is None or upper is None:  # bounds that are expressions: let Pyomo evaluate them
        bounds = [v.bounds for v in variables]
        lower = np.array([-np.inf if lb is None else lb for lb, _ in bounds], dtype=float)
        upper = np.array([np.inf if ub is None else ub for _, ub in bounds], dtype=float)
    kinds: dict[int, tuple[float, float, bool]] = {}  # id of a domain -> its interval and integrality
    kind = np.empty(n, dtype=np.int64)
    for j, v in enumerate(variables):
        domain = v._domain
        kind[j] = id(domain)
        if id(domain) not in kinds:
            lb, ub, _ = domain.get_interval()
            kinds[id(domain)] = (-np.inf if lb is None else lb, np.inf if ub is None else ub, v.is_integer())
    integer = np.zeros(n, dtype=bool)
    for key, (lb, ub, is_integer) in kinds.items():
        mask = kind == key
        np.maximum(lower, lb, out=lower, where=mask)
        np.minimum(upper, ub, out=upper, where=mask)
        integer[mask] = is_integer
    for fixed in np.flatnonzero([v._fixed for v in variables]):
        lower[fixed] = upper[fixed] = variables[fixed]._value
    return lower, upper, integer


def _floats(values: list, infinite: float) -> np.ndarray | None:
    """`values` as floats with None → ±inf, or None if some value is not a plain number."""
    try:
        return np.array([infinite if v is None else v for v in values], dtype=float)
    except TypeError:
        return None


def compatibility_problems() -> list[str]:
    """What this module needs of Pyomo's internals and the installed Pyomo lacks (empty: all there).

    Builds a two-variable model with a `FamilyConstraint` and checks each internal against the public
    answer Pyomo gives for it.
    """
    import scipy.sparse

    from model.formulation import Rows

    problems: list[str] = []
    m = pyo.ConcreteModel()
    m.v = pyo.Var([0, 1], within=pyo.NonNegativeReals, bounds=(0, 5), dense=True)
    m.b = pyo.Var(within=pyo.Binary)
    columns = (m.v[0], m.v[1], m.b)
    rows = Rows(
        "probe",
        ["first", "second"],
        scipy.sparse.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -3.0]])),
        np.array([1.0, -np.inf]),
        np.array([4.0, 0.0]),
    )
    try:
        m.probe = FamilyConstraint(rows, columns)
        if list(m.probe.columns) != list(columns):
            problems.append("MatrixConstraint no longer keeps its variables in `_x`")
        if m.probe["second"].index() != "second" or m.probe["first"].upper != 4.0:
            problems.append("a MatrixConstraint row no longer knows its position (`_index`) or its bounds")
        m.probe["second"].deactivate()
        if list(m.probe.active_rows()) != [True, False]:
            problems.append("a constraint row no longer keeps its active flag in `_active`")
        lower, _, upper = m.probe["first"].to_bounded_expression()
        if (lower, upper) != (1.0, 4.0):
            problems.append("a MatrixConstraint row's bounded expression changed")
    except (AttributeError, TypeError) as exc:
        problems.append(f"MatrixConstraint changed: {exc}")
    m.v[1].fix(2.0)
    if _import_hooks() is None:
        problems.append(
            "Pyomo's import hook no longer keeps its callbacks in `DeferredImportCallbackFinder._callbacks`"
        )
    for attribute in VAR_ATTRIBUTES:
        if not hasattr(m.v[0], attribute):
            problems.append(f"a Pyomo variable no longer has `{attribute}`")
    if not problems:
        lower, upper, integer = column_bounds(list(columns))
        public = [(v.lb if not v.fixed else v.value, v.ub if not v.fixed else v.value, v.is_integer()) for v in columns]
        if [(float(a), float(b), bool(c)) for a, b, c in zip(lower, upper, integer)] != [
            (float(a), float(b), c) for a, b, c in public
        ]:
            problems.append("variable bounds read in bulk differ from Pyomo's own `lb`, `ub` and `fixed`")
    return [f"Pyomo {pyomo.version.version} (tested {PYOMO_TESTED}): {p}" for p in problems]
