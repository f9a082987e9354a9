"""``mgckd speciate``: ionized Ca and Mg, complexes, protein binding and Ca-phosphate saturation.

One sample from flags, or many from a file (CSV/Parquet in the wide or long layout, JSON, FHIR R4;
the readers of ``mgckd assess``). Every value carries its unit and is converted by `mgckd.units`.

Bad input: a file that cannot be read as a whole (an unknown unit, a value that is not a number, a
value outside its hard plausibility range) is refused, the row named (exit 2). Rows that read but
cannot be speciated (a required analyte missing, pH outside 6.8–7.8) are kept in the output with
status ``invalid_input`` and the reason, the other rows are speciated, and a warning on stderr
lists them (exit 0). For one sample from flags, any problem is a one-line error (exit 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from mgckd.chemistry import CONSTANT_SETS, DEFAULT_SET, PlasmaComposition, Speciation, speciate
from mgckd.cli._app import app
from mgckd.cli._assess import read_with_warnings
from mgckd.cli._chemistry import composition_of, ionized_sd, missing_analytes
from mgckd.cli._console import err, out, print_json, write_table
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
from mgckd.exceptions import UserInputError
from mgckd.labs import PatientLabs

_SHOWN = (
    ("ca_ionized_mmol_l", "ionized Ca", "mmol/L"),
    ("ca_ionized_sd_mmol_l", "ionized Ca, SD (calibration)", "mmol/L"),
    ("ca_ionized_fraction", "ionized/total Ca", "1"),
    ("mg_ionized_mmol_l", "ionized Mg", "mmol/L"),
    ("mg_ionized_sd_mmol_l", "ionized Mg, SD (calibration)", "mmol/L"),
    ("mg_ionized_fraction", "ionized/total Mg", "1"),
    ("ca_protein_bound_fraction", "protein-bound Ca", "1"),
    ("mg_protein_bound_fraction", "protein-bound Mg", "1"),
    ("ionic_strength_mol_l", "ionic strength", "mol/L"),
    ("mg_ca_ratio_ionized", "Mg/Ca, ionized", "1"),
    ("si_hydroxyapatite", "SI hydroxyapatite", "log10"),
    ("si_octacalcium_phosphate", "SI octacalcium phosphate", "log10"),
    ("si_brushite", "SI brushite", "log10"),
    ("si_amorphous_calcium_phosphate", "SI amorphous Ca phosphate", "log10"),
)


@app.command("speciate")
def speciate_command(
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
    constants: Annotated[
        str, typer.Option("--constants", help=f"constant set: {', '.join(sorted(CONSTANT_SETS))}")
    ] = DEFAULT_SET,
    species: Annotated[
        bool, typer.Option("--species", help="add every species and activity coefficient")
    ] = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write the table to .csv or .parquet")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Speciate plasma at 37 °C: ionized Ca and Mg, complexes, albumin binding, saturation."""
    if constants not in CONSTANT_SETS:
        raise UserInputError(
            f"--constants {constants!r} is not one of {', '.join(sorted(CONSTANT_SETS))}"
        )
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: the table is written as .csv or .parquet")
    labs = {
        name: value
        for name, value in {
            "calcium": calcium,
            "magnesium": magnesium,
            "phosphate": phosphate,
            "albumin": albumin,
            "ph": ph,
            "bicarbonate": bicarbonate,
            "pco2": pco2,
            "sodium": sodium,
            "potassium": potassium,
            "chloride": chloride,
            "sulfate": sulfate,
            "citrate": citrate,
            "lactate": lactate,
        }.items()
        if value is not None
    }
    if file is None:
        if not labs:
            raise UserInputError("give a file or lab flags (e.g. --ca '2.4 mmol/L'); see --help")
        patients = [PatientLabs.model_validate({"labs": labs})]
        missing = missing_analytes(patients[0])
        if missing:
            raise UserInputError(f"missing required analyte(s): {', '.join(missing)}")
    else:
        if labs:
            raise UserInputError("give a file or lab flags, not both")
        patients = read_with_warnings(file)
    composition = composition_of(patients)
    result = speciate(composition, constants=constants, throw=file is None)
    table = _table(patients, result, composition, species=species)
    _warn_invalid(patients, result)
    if composition.assumed:
        err.print(
            "note: not measured, taken from the reference normal plasma: "
            + ", ".join(composition.assumed),
            markup=False,
        )
    if out_path is not None:
        write_table(table, out_path)
    if as_json:
        print_json(table.replace({np.nan: None}).to_dict(orient="records"))
    elif out_path is None:
        _render(table)
    else:
        out.print(f"{len(table)} rows written to {out_path}")


def _table(
    patients: Sequence[PatientLabs],
    result: Speciation,
    composition: PlasmaComposition,
    *,
    species: bool,
) -> pd.DataFrame:
    """The result's frame with patient ids and, for the calibrated ``plasma`` set, the SD of
    ionized Mg and Ca from calibration uncertainty next to each."""
    frame = result.to_frame(species=species)
    frame.insert(0, "patient_id", [p.patient_id for p in patients])
    if result.constants.name == DEFAULT_SET:
        for column, sd in ionized_sd(composition).items():
            frame.insert(list(frame.columns).index(column.replace("_sd", "")) + 1, column, sd)
    return frame


def _warn_invalid(patients: Sequence[PatientLabs], result: Speciation) -> None:
    failed = np.flatnonzero(~result.converged)
    if not failed.size:
        return
    err.print(
        f"warning: {failed.size} of {len(patients)} samples not speciated (status and reason in "
        "the table):",
        markup=False,
    )
    for i in failed[:20]:
        missing = missing_analytes(patients[i])
        reason = f"missing {', '.join(missing)}" if missing else result.reason[i]
        err.print(f"  row {i + 1} ({patients[i].patient_id}): {reason}", markup=False)
    if failed.size > 20:
        err.print(f"  ... and {failed.size - 20} more", markup=False)


_WIDE_UP_TO = 3  # samples shown side by side; more are shown one row each


def _render(table: pd.DataFrame) -> None:
    if len(table) <= _WIDE_UP_TO:
        shown = Table(title="Plasma speciation at 37 °C", title_justify="left")
        shown.add_column("quantity")
        for pid in table["patient_id"]:
            shown.add_column(str(pid), justify="right")
        shown.add_column("unit")
        shown.add_row("status", *table["status"], "")
        for column, label, unit in _SHOWN:
            if column in table:
                shown.add_row(label, *(f"{v:.4g}" for v in table[column]), unit)
    else:
        brief = [(c, lbl, u) for c, lbl, u in _SHOWN if c in _BRIEF]
        shown = Table(title="Plasma speciation at 37 °C (all columns: --out or --json)")
        shown.add_column("patient")
        shown.add_column("status")
        for _, label, unit in brief:
            shown.add_column(f"{label} ({unit})" if unit != "1" else label, justify="right")
        for _, row in table.iterrows():
            shown.add_row(
                str(row["patient_id"]), str(row["status"]), *(f"{row[c]:.4g}" for c, _, _ in brief)
            )
    out.print(shown)
    out.print(
        "[dim]Research estimates from a speciation model (constants and sources: mgckd params "
        "--module chemistry); not a measurement.[/dim]"
    )


_BRIEF = (
    "ca_ionized_mmol_l",
    "mg_ionized_mmol_l",
    "mg_ionized_fraction",
    "si_hydroxyapatite",
    "si_brushite",
)
