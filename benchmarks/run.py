"""Foundation benchmarks: unit conversion and lab assessment throughput, beside the peer (pint).

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); results go to stdout and are
recorded by hand in docs/performance.md with the machine they ran on.
"""

from __future__ import annotations

import platform

import calcification  # benchmarks/calcification.py, beside this file
import chemistry  # benchmarks/chemistry.py, beside this file
import cpp  # benchmarks/cpp.py, beside this file
import dialysis  # benchmarks/dialysis.py, beside this file
import numpy as np
import outcomes  # benchmarks/outcomes.py, beside this file
import physiology  # benchmarks/physiology.py, beside this file
import populations  # benchmarks/populations.py, beside this file
import t50  # benchmarks/t50.py, beside this file
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd._pint import registry
from mgckd.labs import PatientLabs, assess
from mgckd.units import convert

REPEATS = 5


def conversion() -> list[tuple[str, float, str]]:
    """Mg mg/dL -> mmol/L: mgckd (cached factor) vs pint's chemistry context, array and scalars."""
    ureg = registry()
    values = np.random.default_rng(0).uniform(1.0, 4.0, 1_000_000)
    molar_mass = ureg.Quantity(24.305, "g/mol")
    ours = convert(values, "mg/dL", "mmol/L", analyte="magnesium")
    peer = ureg.Quantity(values, "mg/dL").to("mmol/L", "chemistry", mw=molar_mass).magnitude
    np.testing.assert_allclose(ours, peer, rtol=1e-12)
    array_ours = best_of(lambda: convert(values, "mg/dL", "mmol/L", analyte="magnesium"), REPEATS)
    array_peer = best_of(
        lambda: ureg.Quantity(values, "mg/dL").to("mmol/L", "chemistry", mw=molar_mass), REPEATS
    )
    scalars = values[:10_000]
    scalar_ours = best_of(
        lambda: [convert(v, "mg/dL", "mmol/L", analyte="magnesium") for v in scalars], 1
    )
    scalar_peer = best_of(
        lambda: [
            ureg.Quantity(v, "mg/dL").to("mmol/L", "chemistry", mw=molar_mass) for v in scalars
        ],
        1,
    )
    return [
        ("convert 1e6-element array (mgckd)", array_ours, f"{1e6 / array_ours:.3g} values/s"),
        (
            "convert 1e6-element array (pint context)",
            array_peer,
            f"{1e6 / array_peer:.3g} values/s",
        ),
        ("convert 1e4 scalars (mgckd)", scalar_ours, f"{1e4 / scalar_ours:.3g} values/s"),
        ("convert 1e4 scalars (pint context)", scalar_peer, f"{1e4 / scalar_peer:.3g} values/s"),
    ]


def assessment(n: int = 2000) -> list[tuple[str, float, str]]:
    """Build and assess `n` patients with 8 labs each."""
    rng = np.random.default_rng(1)

    def patients() -> list[PatientLabs]:
        return [
            PatientLabs(
                patient_id=f"p{i}",
                age_years=float(rng.uniform(30, 85)),
                sex="female" if i % 2 else "male",
                labs={
                    "magnesium": f"{rng.uniform(1.5, 3.0):.2f} mg/dL",
                    "creatinine": f"{rng.uniform(0.7, 6.0):.2f} mg/dL",
                    "calcium": f"{rng.uniform(8.0, 10.5):.2f} mg/dL",
                    "albumin": f"{rng.uniform(3.0, 4.5):.2f} g/dL",
                    "sodium": f"{rng.uniform(134, 145):.0f} mmol/L",
                    "chloride": f"{rng.uniform(98, 108):.0f} mmol/L",
                    "bicarbonate": f"{rng.uniform(18, 28):.0f} mmol/L",
                    "phosphate": f"{rng.uniform(2.5, 6.5):.2f} mg/dL",
                },
            )
            for i in range(n)
        ]

    batch = patients()
    build = best_of(patients, 3)
    run = best_of(lambda: assess(batch), 3)
    return [
        (f"validate {n} patients' records", build, f"{n / build:.3g} patients/s"),
        (f"assess {n} patients (one batch)", run, f"{n / run:.3g} patients/s"),
    ]


def main() -> None:
    """Run every benchmark and print a table."""
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for name, seconds, rate in conversion() + assessment():
        print(f"{name:45s} {seconds * 1e3:10.2f} ms   {rate}")
    chemistry.main()
    physiology.main()
    dialysis.main()
    cpp.main()
    t50.main()
    outcomes.main()
    calcification.main()
    populations.main([])


if __name__ == "__main__":
    main()
