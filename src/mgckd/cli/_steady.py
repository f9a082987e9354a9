"""``mgckd steady``: the steady state of every patient of a scenario file under its conditions
(diet, proteinuria, GFR at a day of its CKD course, parameters), without the interventions:
where the body would settle if nothing changed.

A patient on dialysis has no steady state (sessions make it periodic): `mgckd dialysate`
computes that one. A patient without a steady state is reported with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from mgckd._pint import quantity
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.cli._simulate_calcification import patient_table
from mgckd.exceptions import UserInputError
from mgckd.model import Model, compile_model
from mgckd.simulate import Scenario, Status, read_scenario, steady_state
from mgckd.simulate._result import observables_frame

DIALYSIS_SWITCH = "dialysis_on"


@app.command("steady")
def steady_command(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML), see docs/scenarios.md")],
    at_day: Annotated[
        float,
        typer.Option("--at-day", help="day of the CKD course whose GFR applies (0 = the start)"),
    ] = 0.0,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write the steady states to .csv or .parquet"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Steady state of every patient of a scenario file (interventions not applied)."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: steady states are written as .csv or .parquet")
    if not (np.isfinite(at_day) and at_day >= 0):
        raise UserInputError(f"--at-day {at_day}: give a day ≥ 0 of the scenario's CKD course")
    ready = read_scenario(file)
    if DIALYSIS_SWITCH in ready.model.parameter_names:
        raise UserInputError(
            f"{file}: a patient on dialysis has no steady state (the sessions make it periodic); "
            "use `mgckd dialysate` for the long-run pre- and post-dialysis values"
        )
    frame = steady_frame(ready.model, ready.scenario, t_h=quantity(at_day, "d").to("h").magnitude)
    frame.insert(1, "patient_id", list(ready.patient_ids))
    for i in np.flatnonzero(frame["status"] != Status.SUCCESS.name.lower()):
        err.print(f"warning: {ready.patient_ids[i]}: {frame['message'][i]}", markup=False)
    if out_path is not None:
        write_table(frame, out_path)
    if as_json:
        print_json(frame.replace({np.nan: None}).to_dict(orient="records"))
        return
    out.print(patient_table(f"Steady state (GFR of day {at_day:g})", frame.drop(columns="patient")))
    if out_path is not None:
        out.print(f"steady states written to {out_path}")


def steady_frame(model: Model, scenario: Scenario, *, t_h: float) -> pd.DataFrame:
    """One row per patient: status, message and every observable at its steady state at time
    `t_h` (hours; the parameters of the scenario, its schedule ignored)."""
    compiled = compile_model(model)
    p = compiled.parameter_array(scenario.parameters, scenario.n_patients)
    solved = steady_state(compiled, p, t_h=t_h)
    ok = solved.status == Status.SUCCESS
    with np.errstate(all="ignore"):  # failed patients hold NaN; their status says why
        rules = compiled.reported_rules(t_h, np.where(ok, solved.states, np.nan), p)
    return observables_frame(model, solved.status, rules)
