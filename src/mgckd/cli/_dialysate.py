"""``mgckd dialysate``: compare dialysate Mg prescriptions for one hemodialysis patient.

From the patient's pre-dialysis labs on their current prescription to the predicted long-run
pre-dialysis total and ionized Mg, post-dialysis Mg, phosphate and T50 at each dialysate Mg level,
with a 95 % band from the within-patient variation of Mg (docs/dialysis.md#comparing-dialysate-mg).
A prescription outside the accepted ranges (dialysate Mg 3 mmol/L, say) is refused with one line
naming the field, the value and the range (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.table import Table

from mgckd._atomic import write_text_atomic
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json
from mgckd.cli._lab_flags import (
    AlbuminFlag,
    BicarbonateFlag,
    CalciumFlag,
    ChlorideFlag,
    MagnesiumFlag,
    PhFlag,
    PhosphateFlag,
    PotassiumFlag,
    SodiumFlag,
)
from mgckd.cli._meta import save_figure
from mgckd.exceptions import UserInputError
from mgckd.labs import PatientLabs
from mgckd.params import parameters

if TYPE_CHECKING:
    from mgckd.dialysis._compare import DialysateComparison

TABLE_FILE = "dialysate_comparison.csv"
FIGURE_FILE = "dialysate_comparison.png"
_LABS = (
    "calcium",
    "magnesium",
    "phosphate",
    "albumin",
    "ph",
    "bicarbonate",
    "sodium",
    "potassium",
    "chloride",
)


@app.command("dialysate")
def dialysate_command(
    magnesium: MagnesiumFlag = None,
    calcium: CalciumFlag = None,
    phosphate: PhosphateFlag = None,
    albumin: AlbuminFlag = None,
    ph: PhFlag = None,
    bicarbonate: BicarbonateFlag = None,
    sodium: SodiumFlag = None,
    potassium: PotassiumFlag = None,
    chloride: ChlorideFlag = None,
    current_mg: Annotated[
        float | None,
        typer.Option("--current-dialysate-mg", help="dialysate Mg the labs were drawn on, mmol/L"),
    ] = None,
    levels: Annotated[
        list[float] | None,
        typer.Option("--level", help="a dialysate Mg to compare, mmol/L (repeatable)"),
    ] = None,
    dialysate_ca: Annotated[
        float | None, typer.Option("--dialysate-ca", help="dialysate Ca, mmol/L")
    ] = None,
    blood_flow: Annotated[
        float | None, typer.Option("--blood-flow", help="blood flow, mL/min")
    ] = None,
    dialysate_flow: Annotated[
        float | None, typer.Option("--dialysate-flow", help="dialysate flow, mL/min")
    ] = None,
    hours: Annotated[float | None, typer.Option("--hours", help="session length, h")] = None,
    weekdays: Annotated[
        str | None, typer.Option("--weekdays", help="session days, e.g. mon,wed,fri")
    ] = None,
    modality: Annotated[str, typer.Option("--modality", help="hd or hdf")] = "hd",
    residual_gfr: Annotated[
        float | None, typer.Option("--residual-gfr", help="residual GFR, mL/min (0: anuric)")
    ] = None,
    fluid_gain: Annotated[
        float | None, typer.Option("--fluid-gain", help="interdialytic fluid gain, L/day")
    ] = None,
    model_name: Annotated[
        str,
        typer.Option("--model", help="whole-body (Mg, Ca, phosphate) or magnesium (faster)"),
    ] = "whole-body",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help=f"directory for {TABLE_FILE} and {FIGURE_FILE}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Compare dialysate Mg levels for one patient: predicted long-run pre-dialysis Mg, ionized
    Mg, phosphate and T50 per level.

    Research estimate from a model (docs/dialysis.md), not a treatment instruction.
    """
    from mgckd.dialysis import DialysisPatients, Prescription, Schedule  # noqa: PLC0415
    from mgckd.dialysis._chemistry import hemodialysis_plasma  # noqa: PLC0415
    from mgckd.dialysis._compare import compare_dialysate, plot_dialysate_comparison  # noqa: PLC0415

    given = locals()
    labs = {name: given[name] for name in _LABS if given[name] is not None}
    if "magnesium" not in labs:
        raise UserInputError("--mg: the patient's pre-dialysis total Mg is required")
    patient = PatientLabs.model_validate({"labs": labs})
    measured = {name: patient.internal(name) for name in _LABS}
    plasma = hemodialysis_plasma({k: v for k, v in measured.items() if v is not None})
    model = _model(model_name)
    schedule_fields: dict[str, Any] = {}
    if hours is not None:
        schedule_fields["duration_h"] = hours
    if weekdays is not None:
        schedule_fields["weekdays"] = tuple(d.strip().lower() for d in weekdays.split(","))
    if modality not in ("hd", "hdf"):
        raise UserInputError(f"--modality: {modality!r} is not one of hd, hdf")
    chosen: Literal["hd", "hdf"] = "hdf" if modality == "hdf" else "hd"
    prescription = Prescription(
        **{
            name: value
            for name, value in (
                ("dialysate_mg_mmol_l", current_mg),
                ("dialysate_ca_mmol_l", dialysate_ca),
                ("blood_flow_ml_min", blood_flow),
                ("dialysate_flow_ml_min", dialysate_flow),
            )
            if value is not None
        },
        modality=chosen,
        schedule=Schedule(**schedule_fields),
    )
    patient_fields: dict[str, Any] = {
        name: value
        for name, value in (("residual_gfr_ml_min", residual_gfr), ("fluid_gain_l_d", fluid_gain))
        if value is not None
    }
    patients = DialysisPatients(**patient_fields)
    comparison = compare_dialysate(
        plasma, current=prescription, levels=levels or None, patient=patients, model=model
    )
    written = [] if out_dir is None else _write(comparison, out_dir, plot_dialysate_comparison)
    if as_json:
        frame = comparison.to_frame()
        print_json(
            {
                "levels": frame.to_dict(orient="records"),
                "assumed": list(plasma.assumed),
                "simulated_phosphate": comparison.simulated_phosphate,
                "written": written,
            }
        )
        return
    _render(comparison)
    if plasma.assumed:
        err.print(
            "note: not measured, taken from the reference hemodialysis plasma: "
            + ", ".join(plasma.assumed),
            markup=False,
        )
    if written:
        out.print(f"written: {', '.join(written)}", markup=False)


def _model(name: str) -> Any:
    from mgckd.physiology import magnesium_model, whole_body_model  # noqa: PLC0415

    models = {"whole-body": whole_body_model, "magnesium": magnesium_model}
    if name not in models:
        raise UserInputError(f"--model: {name!r} is not one of {', '.join(models)}")
    return models[name]()


def _write(comparison: DialysateComparison, directory: Path, plot: Any) -> list[str]:
    if not directory.is_dir():
        raise UserInputError(f"--out {directory}: not a directory")
    try:
        write_text_atomic(directory / TABLE_FILE, comparison.to_frame().to_csv(index=False))
    except OSError as error:
        raise UserInputError(f"--out {directory}: cannot write ({error.strerror})") from None
    save_figure(plot(comparison).figure, directory / FIGURE_FILE)
    return [str(directory / TABLE_FILE), str(directory / FIGURE_FILE)]


def _render(comparison: DialysateComparison) -> None:
    frame = comparison.to_frame()
    table = Table(
        title="Predicted long-run values per dialysate Mg (± half the 95 % band)",
        title_justify="left",
    )
    table.add_column("dialysate Mg")
    for label in ("total Mg", "ionized Mg", "post-dialysis Mg", "phosphate", "T50", "target"):
        table.add_column(label, justify="right")
    for _, row in frame.iterrows():
        cells = [
            f"{row[c]:.2f} ± {(row[f'{c}_high'] - row[f'{c}_low']) / 2:.2f}"
            for c in (
                "mg_total_pre_mmol_l",
                "mg_ionized_pre_mmol_l",
                "mg_total_post_mmol_l",
                "phosphate_pre_mmol_l",
            )
        ]
        half = (row["t50_pre_min_high"] - row["t50_pre_min_low"]) / 2
        t50 = f"{row['t50_pre_min']:.0f} ± {half:.0f}"
        level = f"{row['dialysate_mg_mmol_l']:g} mmol/L" + (" (current)" if row["current"] else "")
        table.add_row(level, *cells, t50, "yes" if row["on_target"] else "no")
    out.print(table)
    note = (
        "" if comparison.simulated_phosphate else " Phosphate: the measured value (not simulated)."
    )
    registry = parameters()
    band = registry["hemodialysis_mg_target_mg_dl"].quantity.to("mg/dL").magnitude
    ion = registry["mg_ionized_reference_range"].quantity.to("mmol/L").magnitude
    out.print(
        f"[dim]mmol/L; T50 in min. Target: total Mg {band[0]:g}-{band[1]:g} mg/dL with ionized Mg "
        f"{ion[0]:g}-{ion[1]:g} mmol/L (S0-23).{note} Research estimate from a model, not a "
        "treatment instruction.[/dim]"
    )
