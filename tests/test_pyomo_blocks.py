"""The one module that reads Pyomo's internals (model/pyomo_blocks.py) fails loudly, and only here,
on a Pyomo or HiGHS outside the range pyproject.toml pins."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement

from model.pyomo_blocks import PYOMO_TESTED, compatibility_problems
from conftest import ROOT


def _pins() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {r.name: r for r in map(Requirement, project["dependencies"])}


def test_every_pyomo_internal_the_hand_over_reads_is_there():
    assert compatibility_problems() == []


def test_the_installed_solver_stack_is_in_the_tested_range():
    pins = _pins()
    for package in ("pyomo", "highspy"):
        specifier = pins[package].specifier
        assert any(s.operator == "<" for s in specifier), f"{package} needs a tested upper bound in pyproject.toml"
        assert specifier.contains(version(package)), (
            f"{package} {version(package)} is outside the tested range {specifier}: run tests/test_pyomo_blocks.py "
            "and the solver tests on it before widening the pin"
        )
    assert str(pins["pyomo"].specifier) == ",".join(sorted(PYOMO_TESTED.split(","))), (
        "model/pyomo_blocks.py PYOMO_TESTED and the pin in pyproject.toml must agree"
    )


def test_a_new_highs_object_prints_no_banner():
    # HiGHS prints its banner from C++ the first time a Highs object is made in a process: a fresh one here
    probe = "from model.solver import HighsModel, _new_highs\n_new_highs(); _new_highs()"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout + done.stderr
    # and the same probe without the silencing does print it: the test can fail
    loud = subprocess.run([sys.executable, "-c", "import highspy; highspy.Highs()"], capture_output=True, text=True)
    assert "HiGHS" in loud.stdout
