"""``mgckd assess``: interpret one or many patients' labs."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._chemistry import chemistry_findings
from mgckd.cli._console import err, lab_option, out, print_json
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
from mgckd.cli._outcomes import outcome_findings
from mgckd.exceptions import MgckdWarning, UserInputError
from mgckd.labs import Assessment, PatientLabs, assess, read_patients


@app.command("assess")
def assess_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="JSON patient, FHIR R4 bundle, or CSV/Parquet table (see docs/inputs.md)."
        ),
    ] = None,
    patient_id: Annotated[str | None, typer.Option("--id", help="patient identifier")] = None,
    age: Annotated[float | None, typer.Option("--age", help="age, years")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="female or male")] = None,
    dialysis: Annotated[
        str | None, typer.Option("--dialysis", help="none, hemodialysis or peritoneal_dialysis")
    ] = None,
    magnesium: MagnesiumFlag = None,
    magnesium_ionized: Annotated[
        str | None, lab_option("0.55 mmol/L", "--img", "--mg-ionized")
    ] = None,
    calcium: CalciumFlag = None,
    calcium_ionized: Annotated[
        str | None, lab_option("1.2 mmol/L", "--ica", "--ca-ionized")
    ] = None,
    phosphate: PhosphateFlag = None,
    albumin: AlbuminFlag = None,
    creatinine: Annotated[str | None, lab_option("1.1 mg/dL", "--creatinine", "--scr")] = None,
    bicarbonate: BicarbonateFlag = None,
    sodium: SodiumFlag = None,
    potassium: PotassiumFlag = None,
    chloride: ChlorideFlag = None,
    pth: Annotated[str | None, lab_option("65 pg/mL", "--pth")] = None,
    ph: PhFlag = None,
    urine_magnesium: Annotated[str | None, lab_option("4.0 mg/dL", "--urine-mg")] = None,
    urine_creatinine: Annotated[str | None, lab_option("80 mg/dL", "--urine-creatinine")] = None,
    urine_acr: Annotated[str | None, lab_option("30 mg/g", "--acr")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Interpret labs: units, eGFR and KDIGO stage, corrected Ca, anion gap, FEMg, Mg categories,
    and estimated ionized Mg and Ca with Ca-phosphate saturation (speciation)."""
    labs = {
        name: value
        for name, value in {
            "magnesium": magnesium,
            "magnesium_ionized": magnesium_ionized,
            "calcium": calcium,
            "calcium_ionized": calcium_ionized,
            "phosphate": phosphate,
            "albumin": albumin,
            "creatinine": creatinine,
            "bicarbonate": bicarbonate,
            "sodium": sodium,
            "potassium": potassium,
            "chloride": chloride,
            "pth": pth,
            "ph": ph,
            "urine_magnesium": urine_magnesium,
            "urine_creatinine": urine_creatinine,
            "urine_acr": urine_acr,
        }.items()
        if value is not None
    }
    facts = {
        key: value
        for key, value in {
            "patient_id": patient_id,
            "age_years": age,
            "sex": sex,
            "dialysis": dialysis,
        }.items()
        if value is not None
    }
    patients = _patients(file, facts, labs)
    results = interpret(patients)
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    for result in results:
        render(result)


def _patients(file: Path | None, facts: dict[str, Any], labs: dict[str, str]) -> list[PatientLabs]:
    """Patients from the file, with flags added to (and overriding) a single patient."""
    if file is None:
        if not labs:
            raise UserInputError(
                "give a file or at least one lab flag (e.g. --mg '2.1 mg/dL'); see --help"
            )
        return [PatientLabs.model_validate({**facts, "labs": labs})]
    patients = read_with_warnings(file)
    if not (facts or labs):
        return patients
    if len(patients) != 1:
        raise UserInputError(
            f"{file}: lab and patient flags apply to a single patient; it holds {len(patients)}"
        )
    base = patients[0].model_dump(exclude={"labs"})
    merged_labs: dict[str, Any] = {
        name: {"value": v.value, "unit": v.unit, "loinc": v.loinc}
        for name, v in patients[0].labs.items()
    }
    for name, value in labs.items():
        merged_labs.pop(name, None)
        merged_labs[name] = value
    return [PatientLabs.model_validate({**base, **facts, "labs": merged_labs})]


def interpret(patients: list[PatientLabs]) -> list[Assessment]:
    """The labs' assessment plus the plasma-chemistry estimates (ionized Mg and Ca, SIs) and the
    outcome context (published categories the patient falls in)."""
    assessed = assess(patients)
    return [
        replace(result, findings=result.findings + extra + context)
        for result, extra, context in zip(
            assessed,
            chemistry_findings(patients),
            outcome_findings(patients, assessed),
            strict=True,
        )
    ]


def read_with_warnings(file: Path) -> list[PatientLabs]:
    """Read a patients file; what the reader left out is printed as warnings on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MgckdWarning)
        patients = read_patients(file)
    for warning in caught:
        err.print(f"warning: {warning.message}", markup=False)
    return patients


def _short(source: str) -> str:
    """A citation up to its first ';' or ',' (the full one is in --json)."""
    return re.split(r"[;,]", source, maxsplit=1)[0]


def render(result: Assessment) -> None:
    """Print one patient's assessment as tables."""
    out.rule(f"[bold]{result.patient_id}")
    if result.conversions:
        labs = Table(title="Labs", title_justify="left")
        for column in ("analyte", "LOINC", "reported", "internal", "in other units"):
            labs.add_column(column)
        for c in result.conversions:
            others = ", ".join(
                f"{v:.4g} {u}" for u, v in c.in_units.items() if u != c.internal_unit
            )
            labs.add_row(
                c.analyte, c.loinc, c.reported, f"{c.internal_value:.4g} {c.internal_unit}", others
            )
        out.print(labs)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    if result.findings:
        findings = Table(title="Interpretation", title_justify="left")
        for column in ("finding", "value", "category", "source", "note"):
            findings.add_column(column, overflow="fold")
        for f in result.findings:
            value = "not computed" if f.value is None else f"{f.value} {f.unit}".strip()
            findings.add_row(f.label, value, f.category, _short(f.source), f.note)
        out.print(findings)
    out.print(f"[dim]{result.disclaimer}[/dim]")
