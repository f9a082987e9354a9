"""Calciprotein particles and the serum T50 test: CPP kinetics, the in-silico test, curve analysis.

The CPP model (`simulate_t50`, `in_vivo_cpp`) forms amorphous CPP1 from supersaturated serum and
converts them into crystalline CPP2 by nucleation and autocatalytic growth, inhibited by Mg,
fetuin-A and pyrophosphate; it runs the T50 test in silico (Pasch 2012 protocol) and reads its
curves with the analyzer below. See docs/cpp.md.

The T50 curve analyzer reads plate-reader exports (long CSV/Parquet, BMG MARS table view), fits
every well's light-scattering time course with a 4PL or 5PL sigmoid (`fit_wells`), reads off T50
(the time half-way between the fitted plateaus) with QC flags and right-censoring, and summarizes
replicates (`analyze_plate`). See docs/t50.md.

>>> import numpy as np
>>> from mgckd.cpp import fit_wells, t50_curve
>>> t = np.linspace(0.0, 600.0, 121)
>>> fits = fit_wells(t, t50_curve(t, t50_min=330.0, bottom=2e3, top=2e4, slope_per_min=0.05)[None])
>>> round(float(fits.t50_min[0]), 2)
330.0
"""

from mgckd.cpp._analyze import WELL_COLUMNS, T50Analysis, analyze_plate
from mgckd.cpp._assay import AssayProtocol, nephelometry_signal, simulate_t50
from mgckd.cpp._curves import (
    FLAGS,
    MODELS,
    STATUSES,
    Model,
    QualityRules,
    WellFits,
    fit_wells,
    t50_curve,
)
from mgckd.cpp._in_vivo import InVivoCPP, in_vivo_cpp
from mgckd.cpp._kinetics import STATES, KineticParameters, half_conversion_time_min
from mgckd.cpp._plate_io import (
    PLATE_FORMATS,
    PlateFormat,
    PlateReadings,
    read_layout,
    read_plate,
    well_label,
)
from mgckd.cpp._plots import plate_figure, plot_plate, plot_well
from mgckd.cpp._replicates import (
    SAMPLE_COLUMNS,
    ReplicateRules,
    ReplicateSummary,
    summarize_replicates,
)
from mgckd.cpp._result import T50Simulation, plot_t50_curves
from mgckd.cpp._serum import Serum, reference_serum, serum
from mgckd.cpp._solver import DormandPrince
from mgckd.cpp._synthetic import synthetic_plate

__all__ = [
    "FLAGS",
    "MODELS",
    "PLATE_FORMATS",
    "SAMPLE_COLUMNS",
    "STATES",
    "STATUSES",
    "WELL_COLUMNS",
    "AssayProtocol",
    "DormandPrince",
    "InVivoCPP",
    "KineticParameters",
    "Model",
    "PlateFormat",
    "PlateReadings",
    "QualityRules",
    "ReplicateRules",
    "ReplicateSummary",
    "Serum",
    "T50Analysis",
    "T50Simulation",
    "WellFits",
    "analyze_plate",
    "fit_wells",
    "half_conversion_time_min",
    "in_vivo_cpp",
    "nephelometry_signal",
    "plate_figure",
    "plot_plate",
    "plot_t50_curves",
    "plot_well",
    "read_layout",
    "read_plate",
    "reference_serum",
    "serum",
    "simulate_t50",
    "summarize_replicates",
    "synthetic_plate",
    "t50_curve",
    "well_label",
]
