"""``mgckd t50 simulate``: the T50 test in silico, from a patient's labs to T50 and the curve.

One sample from lab flags (the flags of ``mgckd speciate``), or many from a file (the readers of
``mgckd assess``). Fetuin-A and pyrophosphate are rarely measured: given by flag (with their unit)
they apply to every sample, else the reference normal plasma's values are used and the output
says so. The serum's pH matters only through its bicarbonate (the well is buffered): without pH,
or bicarbonate with pCO₂, pH 7.40 is assumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pint
import typer
from rich.table import Table

from mgckd._atomic import write_text_atomic
from mgckd._pint import quantity
from mgckd.cli._assess import read_with_warnings
from mgckd.cli._chemistry import REQUIRED, composition_of, has_ph
from mgckd.cli._console import err, lab_option, out, print_json
from mgckd.cli._lab_flags import (
    AlbuminFlag,
    BicarbonateFlag,
    CalciumFlag,
    ChlorideFlag,
    CitrateFlag,
    LactateFlag,
    MagnesiumFlag,
    Pco2Flag,
    PhFlag,
    PhosphateFlag,
    PotassiumFlag,
    SodiumFlag,
    SulfateFlag,
)
from mgckd.cli._meta import save_figure
from mgckd.cli._t50 import _output_directory, t50_app
from mgckd.exceptions import UserInputError
from mgckd.labs import PatientLabs, lab_column
from mgckd.params import parameters
from mgckd.units import parse_value

if TYPE_CHECKING:
    from mgckd.cpp import T50Simulation

SAMPLES_FILE = "t50_simulated.csv"
CURVES_FILE = "curves.csv"
CURVES_FIGURE = "curves.png"
_INHIBITOR_UNITS = {"fetuin_a_g_l": "g/L", "pyrophosphate_umol_l": "umol/L"}
_LAB_FLAGS = (
    "calcium",
    "magnesium",
    "phosphate",
    "albumin",
    "ph",
    "bicarbonate",
    "pco2",
    "sodium",
    "potassium",
    "chloride",
    "sulfate",
    "citrate",
    "lactate",
)
"""The command's lab parameters: each is named after its analyte (the flags of speciate)."""


def inhibitor_value(text: str | None, field: str) -> float | None:
    """A ``--fetuin-a`` / ``--pyrophosphate`` value with its unit, in the internal unit.

    Raises
    ------
    UserInputError
        When the text is not a number with a unit of the right dimension (the message names the
        field, the value and the accepted unit).

    Examples
    --------
    >>> inhibitor_value("450 mg/L", "fetuin_a_g_l")
    0.45
    """
    if text is None:
        return None
    target = _INHIBITOR_UNITS[field]
    value, unit = parse_value(text)
    try:
        return float(quantity(value, unit or "dimensionless").to(target).magnitude)
    except (pint.errors.PintError, ValueError, AttributeError):
        raise UserInputError(
            f"{field}: {text!r} is not a {target.replace('umol', 'µmol')} quantity (give a value "
            f"and a unit convertible to {target}, e.g. '0.45 g/L' or '450 mg/L')"
        ) from None


@t50_app.command("simulate")
def simulate_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV/Parquet table, JSON or FHIR R4 bundle (see docs/inputs.md)."),
    ] = None,
    calcium: CalciumFlag = None,
    magnesium: MagnesiumFlag = None,
    phosphate: PhosphateFlag = None,
    albumin: AlbuminFlag = None,
    ph: PhFlag = None,
    bicarbonate: BicarbonateFlag = None,
    pco2: Pco2Flag = None,
    sodium: SodiumFlag = None,
    potassium: PotassiumFlag = None,
    chloride: ChlorideFlag = None,
    sulfate: SulfateFlag = None,
    citrate: CitrateFlag = None,
    lactate: LactateFlag = None,
    fetuin_a: Annotated[str | None, lab_option("0.45 g/L", "--fetuin-a")] = None,
    pyrophosphate: Annotated[str | None, lab_option("3.0 umol/L", "--pyrophosphate")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help=f"directory for {SAMPLES_FILE}, {CURVES_FILE}, {CURVES_FIGURE}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Simulate the T50 test (Pasch 2012 protocol) on a serum: nephelometry curve and T50.

    Research estimate from a calibrated model (docs/cpp.md), not a measurement.
    """
    from mgckd.cpp import plot_t50_curves, serum, simulate_t50  # noqa: PLC0415  (load on use)

    given = locals()
    labs = {name: given[name] for name in _LAB_FLAGS if given[name] is not None}
    inhibitors = {
        "fetuin_a_g_l": inhibitor_value(fetuin_a, "fetuin_a_g_l"),
        "pyrophosphate_umol_l": inhibitor_value(pyrophosphate, "pyrophosphate_umol_l"),
    }
    directory = None if out_dir is None else _output_directory(out_dir)
    patients = _patients(file, labs)
    reference_ph = parameters()["reference_normal_plasma_ph"].to("1")
    ph_assumed = np.array([not has_ph(p) for p in patients])
    measured_ph = lab_column(patients, "ph")
    composition = composition_of(patients, ph=np.where(ph_assumed, reference_ph, measured_ph))
    sample = serum(composition, **inhibitors)
    result = simulate_t50(sample, throw=file is None)
    assumed = [*sample.assumed, *(["ph"] if ph_assumed.any() else [])]
    ids = [p.patient_id or f"row {i + 1}" for i, p in enumerate(patients)]
    written = [] if directory is None else _write(result, ids, directory, plot_t50_curves)
    if as_json:
        print_json(_json(result, ids, assumed, written))
        return
    _render(result, ids)
    if assumed:
        err.print(
            "note: not measured, taken from the reference normal plasma: " + ", ".join(assumed),
            markup=False,
        )
    if written:
        out.print(f"written: {', '.join(written)}", markup=False)


def _patients(file: Path | None, labs: dict[str, str]) -> list[PatientLabs]:
    """One patient from the flags, or the file's patients (not both)."""
    if file is not None:
        if labs:
            raise UserInputError("give a file or lab flags, not both")
        return read_with_warnings(file)
    if not labs:
        raise UserInputError("give a file or lab flags (e.g. --ca '2.4 mmol/L'); see --help")
    patient = PatientLabs.model_validate({"labs": labs})
    missing = [name for name in REQUIRED if patient.internal(name) is None]
    if missing:
        raise UserInputError(f"missing required analyte(s): {', '.join(missing)}")
    return [patient]


def _frame_records(result: T50Simulation, ids: list[str]) -> list[dict[str, Any]]:
    frame = result.to_frame()
    frame.insert(0, "patient_id", ids)
    rows = frame.replace({np.nan: None}).to_dict(orient="records")
    return [{str(key): value for key, value in row.items()} for row in rows]


def _json(
    result: T50Simulation, ids: list[str], assumed: list[str], written: list[str]
) -> dict[str, Any]:
    signal = np.where(np.isfinite(result.signal), result.signal, np.nan)
    return {
        "samples": _frame_records(result, ids),
        "curves": {
            "time_min": result.time_min.tolist(),
            "signal_rnu": [
                [None if np.isnan(v) else float(v) for v in row] for row in signal.tolist()
            ],
        },
        "assumed": assumed,
        "written": written,
    }


def _write(result: T50Simulation, ids: list[str], directory: Path, plot: Any) -> list[str]:
    samples = result.to_frame()
    samples.insert(0, "patient_id", ids)
    curves = result.curves_frame()
    curves.insert(0, "patient_id", [ids[i] for i in curves.pop("sample")])
    try:
        write_text_atomic(directory / SAMPLES_FILE, samples.to_csv(index=False))
        write_text_atomic(directory / CURVES_FILE, curves.to_csv(index=False))
    except OSError as error:
        raise UserInputError(f"--out {directory}: cannot write ({error.strerror})") from None
    save_figure(plot(result, labels=ids).figure, directory / CURVES_FIGURE)
    return [str(directory / name) for name in (SAMPLES_FILE, CURVES_FILE, CURVES_FIGURE)]


def _render(result: T50Simulation, ids: list[str]) -> None:
    frame = result.to_frame()
    table = Table(title="In-silico T50 test (Pasch 2012 protocol)", title_justify="left")
    for column in ("patient", "T50 (min)", "status", "SI HAP (well)", "ionized Mg (well)"):
        table.add_column(column, justify="left" if column in ("patient", "status") else "right")
    for i, name in enumerate(ids):
        reason = str(frame["reason"].iloc[i])
        status = str(frame["status"].iloc[i])
        table.add_row(
            name,
            str(frame["t50_report"].iloc[i]) or "-",
            f"{status}: {reason}" if reason else status,
            f"{frame['well_si_hydroxyapatite'].iloc[i]:.2f}",
            f"{frame['well_mg_ionized_mmol_l'].iloc[i]:.3f} mmol/L",
        )
    out.print(table)
    out.print(
        "[dim]Simulated with a calibrated CPP model (docs/cpp.md): healthy adults about 330 min, "
        "hemodialysis 230-290. Research estimate, not a measurement.[/dim]"
    )
