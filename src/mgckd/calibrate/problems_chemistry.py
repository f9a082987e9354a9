"""The chemistry calibration: albumin binding and the uremic-anion ligand of the ``plasma`` set.

Free: the conditional constants of Ca and Mg on albumin sites and of the lumped uremic-anion
ligand. Targets: ionized Ca and Mg of the reference normal plasma
(``L-normal-plasma-ionized-calcium``, ``L-normal-plasma-ionized-magnesium``) and the ionized
fraction of Mg in hemodialysis and non-dialysis CKD (S0-22), each on its reference plasma. The
prevalences of hypermagnesemia published beside S0-22 are held out for validation
(``L-sakaguchi-2018-ionized-mg``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.chemistry import PlasmaComposition, constant_set, reference_plasma, speciate

_PERCENT = 100.0
_SOLVER_TOLERANCE = 1e-12  # tighter than the default, so that finite differences are clean


def _references() -> PlasmaComposition:
    """normal, ckd and hemodialysis reference plasmas as one batch of three."""
    return PlasmaComposition.concat(
        [reference_plasma(name) for name in ("normal", "ckd", "hemodialysis")]
    )


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[iCa normal (mmol/L), iMg normal (mmol/L), iMg/tMg hemodialysis (%), iMg/tMg CKD (%)]."""
    result = speciate(
        _references(),
        constants=constant_set("plasma", overrides=dict(values)),
        tolerance=_SOLVER_TOLERANCE,
    )
    frame = result.to_frame()
    normal, ckd, hd = 0, 1, 2
    return [
        float(frame["ca_ionized_mmol_l"].iloc[normal]),
        float(frame["mg_ionized_mmol_l"].iloc[normal]),
        _PERCENT * float(frame["mg_ionized_fraction"].iloc[hd]),
        _PERCENT * float(frame["mg_ionized_fraction"].iloc[ckd]),
    ]


@problem("chemistry")
def chemistry() -> Problem:
    """Albumin Ca/Mg binding and uremic-anion binding of the ``plasma`` constant set."""
    return Problem(
        name="chemistry",
        description="albumin Ca and Mg binding and uremic-anion binding (plasma constant set)",
        free=(
            Free("plasma_log_k_caalb", lower=1.0, upper=4.0, start=2.5),
            Free("plasma_log_k_mgalb", lower=1.0, upper=4.0, start=2.0),
            Free("plasma_log_k_uremic_anion", lower=0.0, upper=3.5, start=1.5),
        ),
        targets=(
            Target("L-normal-plasma-ionized-calcium"),
            Target("L-normal-plasma-ionized-magnesium"),
            Target("S0-22", "ionized-to-total Mg ratio, hemodialysis"),
            Target("S0-22", "ionized-to-total Mg ratio, non-dialysis"),
        ),
        model=model,
    )
