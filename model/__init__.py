"""productive-layout: where industry clusters should grow, under planning ceilings and resilience goals.

The Python API mirrors the command line (docs/api.md):

    >>> import model
    >>> scenario = model.load_scenario("scenarios/baseline.yaml", **{"ceilings.water.scale": 0.9})
    >>> result = model.solve(scenario)
    >>> result.layout.head(); result.write("runs/baseline")

The names below are imported when first used, so that `import model` (and the command line's
help and input errors) does not pay for Pyomo, HiGHS, pandas and matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.dataset import Dataset, load_dataset
    from model.errors import InputError
    from model.results import Result
    from model.run import solve
    from model.scenario import Scenario, load_scenario
    from model.solver import Status

_PUBLIC = {
    "Dataset": "model.dataset",
    "load_dataset": "model.dataset",
    "InputError": "model.errors",
    "Result": "model.results",
    "solve": "model.run",
    "Scenario": "model.scenario",
    "load_scenario": "model.scenario",
    "Status": "model.solver",
}

try:
    __version__ = _metadata.version("productive-layout")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "Dataset",
    "InputError",
    "Result",
    "Scenario",
    "Status",
    "__version__",
    "load_dataset",
    "load_scenario",
    "solve",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'model' has no attribute {name!r}")
