"""Run an exported SBML document in libroadrunner (the ``peers`` extra): the independent check
of the native solver, and the peer of the benchmarks."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import MgckdError

FloatArray = NDArray[np.float64]


def roadrunner_module() -> Any:
    """The roadrunner module, or an error saying how to install it."""
    try:
        return importlib.import_module("roadrunner")
    except ImportError:
        raise MgckdError("libroadrunner is needed: pip install -e '.[peers]'") from None


def load_roadrunner(sbml: str, *, rtol: float = 1e-10, atol: float = 1e-12) -> Any:
    """A RoadRunner instance for `sbml` with CVODE (stiff) at the given tolerances."""
    runner = roadrunner_module().RoadRunner(sbml)
    integrator = runner.getIntegrator()
    integrator.relative_tolerance = rtol
    integrator.absolute_tolerance = atol
    integrator.setValue("stiff", True)
    integrator.setValue("maximum_num_steps", 100_000)
    return runner


def run_roadrunner(
    runner: Any, times_h: ArrayLike, selections: Sequence[str]
) -> dict[str, FloatArray]:
    """Simulate from the runner's current state at `times_h` (hours, first = start) and return
    each selection (a species id gives its amount) by name."""
    times = np.asarray(times_h, dtype=float)
    runner.timeCourseSelections = ["time", *selections]
    result = np.asarray(runner.simulate(times=times))
    return {name: result[:, i + 1] for i, name in enumerate(selections)} | {"time": result[:, 0]}
