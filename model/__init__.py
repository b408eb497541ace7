"""productive-layout: where industry clusters should grow, under planning ceilings and resilience goals.

The Python API mirrors the command line:

    >>> import model
    >>> scenario = model.load_scenario("scenarios/baseline.yaml", **{"ceilings.water.scale": 0.9})
    >>> result = model.solve(scenario)
    >>> result.layout.head(); result.write("runs/baseline")
"""
from importlib import metadata as _metadata

from model.dataset import Dataset, load_dataset
from model.errors import InfeasibleError, InputError
from model.results import Result, RunFolder
from model.run import solve
from model.scenario import Scenario, load_scenario
from model.solver import Status

try:
    __version__ = _metadata.version("productive-layout")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["Dataset", "InfeasibleError", "InputError", "Result", "RunFolder", "Scenario", "Status",
           "load_dataset", "load_scenario", "solve", "__version__"]
