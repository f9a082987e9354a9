"""``mgckd trial``: repeated virtual trials of a design file — the distribution of each
endpoint's effect estimate, the power, whether the published result is covered; optionally the
sample size for a target power."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.exceptions import UserInputError
from mgckd.trials import SampleSize, TrialResult, read_trial, run_trial, sample_size


def _covered(value: object) -> str:
    return "yes" if value else "NO"


def _print_result(result: TrialResult) -> None:
    design = result.design
    pool = design.pool_patients
    drawn = "" if pool is None else f" drawn from {pool} virtual patients simulated in every arm"
    out.print(
        f"{design.name}\n{result.repeats} virtual trials of {result.n_patients} patients{drawn} "
        f"({result.data.eligible / result.data.screened:.1%} of screened patients eligible), "
        f"alpha {design.alpha:g}, seed {result.data.seed}"
    )
    arms = [a.name for a in design.arms]
    for row in result.summary().itertuples(index=False):
        value = row.published
        published = (
            f"; published {value:.4g}: {'covered' if row.covered else 'NOT covered'}"
            if isinstance(value, float) and math.isfinite(value)
            else ""
        )
        arm_values = ", ".join(f"{arm} {getattr(row, f'{arm}_median'):.4g}" for arm in arms)
        covered = result.endpoints[str(row.endpoint)].arms_covered(arms)
        arm_coverage = ", ".join(f"{k} {_covered(v)}" for k, v in covered.items())
        out.print(
            f"{row.endpoint}{' *' if row.primary else ''} ({row.method}, {row.unit}): "
            f"{row.estimate_median:.4g} [{row.estimate_p2_5:.4g}, {row.estimate_p97_5:.4g}]; "
            f"arms {arm_values}; power {row.power:.2f}{published}"
            + (f"; published arm values covered: {arm_coverage}" if arm_coverage else ""),
            markup=False,
        )
    out.print(
        "* primary; estimate: median [2.5 %, 97.5 %] over the virtual trials; arms: median of "
        "each arm's statistic",
        markup=False,
    )
    for note in result.notes():
        err.print(f"note: {note}", markup=False)


def _print_sample_size(found: SampleSize) -> None:
    if found.n_patients is None:
        out.print(
            f"sample size: power {found.power:.2f} at n = {found.n_max} is below the target "
            f"{found.target_power:.2f}; raise --n-max"
        )
        return
    out.print(
        f"sample size: {found.n_patients} patients reach power {found.power:.2f} (target "
        f"{found.target_power:.2f}; {found.repeats} virtual trials each, seed {found.seed})"
    )


@app.command("trial")
def trial_command(
    file: Annotated[Path, typer.Argument(help="trial design (YAML), see docs/trials.md")],
    repeats: Annotated[
        int | None, typer.Option("--repeats", help="virtual trials (default: the design's)")
    ] = None,
    n_patients: Annotated[
        int | None, typer.Option("--n", help="patients per trial (default: the design's)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed")] = None,
    pool: Annotated[
        int | None,
        typer.Option(
            "--pool", help="virtual patients simulated in every arm (default: the design's)"
        ),
    ] = None,
    skip_unavailable: Annotated[
        bool,
        typer.Option(
            "--skip-unavailable", help="leave out endpoints whose measure is not built yet"
        ),
    ] = False,
    find_n: Annotated[
        bool, typer.Option("--sample-size", help="search the patients for --target-power")
    ] = False,
    target_power: Annotated[float, typer.Option("--target-power")] = 0.8,
    n_max: Annotated[
        int | None, typer.Option("--n-max", help="largest trial the search tries")
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write every virtual trial's estimates")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Run repeated virtual trials of a design file."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: estimates are written as .csv or .parquet")
    design = read_trial(file)
    result = run_trial(
        design,
        repeats=repeats,
        n_patients=n_patients,
        seed=seed,
        pool_patients=pool,
        skip_unavailable=skip_unavailable,
    )
    found = (
        sample_size(
            design,
            target_power=target_power,
            n_max=n_max,
            repeats=repeats,
            seed=seed,
            pool_patients=pool,
            skip_unavailable=skip_unavailable,
        )
        if find_n
        else None
    )
    if out_path is not None:
        write_table(result.to_frame(), out_path)
    if as_json:
        print_json(result.to_dict() | {"sample_size": None if found is None else found.to_dict()})
        return
    _print_result(result)
    if found is not None:
        _print_sample_size(found)
    if out_path is not None:
        out.print(f"estimates written to {out_path}")
