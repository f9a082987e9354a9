"""Write the example T50 plate: a synthetic 96-well NEPHELOstar run as a BMG MARS table view.

Run: python examples/t50/make_plate96.py [output-directory]   (default: beside this script)
Writes plate96_mars.csv (the readings), layout96.csv (well -> sample) and plate96_truth.csv (the
T50 each well was made with). Then: mgckd t50 analyze examples/t50/plate96_mars.csv
--layout examples/t50/layout96.csv --out t50_out

The curves are mgckd's own sigmoid with known parameters and noise (`mgckd.cpp.synthetic_plate`),
not measurements: 32 sera in triplicate, with the situations the analyzer must handle planted in
known wells: two sera without a transition in 600 min (censored), one replicate 90 min late (an
outlier), one noisy well, one bubble (a single high reading) and one overflow reading.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mgckd.cpp import synthetic_plate, t50_curve

HERE = Path(__file__).resolve().parent
SEED = 2012  # the year of Pasch et al., the T50 test's publication
CENSORED_SAMPLES = (7, 23)  # 1-based: made with T50 beyond the 600-min read
CENSORED_T50_MIN = (690.0, 820.0)
OUTLIER_WELL, OUTLIER_SHIFT_MIN = 40, 90.0  # 0-based well index (D05)
NOISY_WELL, NOISY_SD_FRACTION = 61, 0.06  # F02
BUBBLE_WELL, BUBBLE_READING, BUBBLE_HEIGHT = 77, 30, 2.5  # G06, at 150 min, 2.5 rises high
OVERFLOW_WELL, OVERFLOW_READING = 88, 118  # H05, at 590 min

HEADER = (
    "User: USER,Path: C:\\Program Files (x86)\\BMG\\NEPHELOstar\\User\\Data,Test run no.: 118",
    "Test name: T50 serum calcification propensity,Date: 21/11/2026,Time: 09:15:02",
    "ID1: example plate,ID2: synthetic,ID3: ",
    "Nephelometry",
    "",
)


def mars_time(minutes: float) -> str:
    """MARS's time label: whole hours and minutes (``0 h ``, ``1 h 5 min``)."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h "


def main(out: Path) -> None:
    plate, truth = synthetic_plate(n_samples=32, replicates=3, rng=np.random.default_rng(SEED))
    signal = plate.signal.copy()
    t = plate.time_min
    rise = (truth["top"] - truth["bottom"]).to_numpy()

    def move(well: int, t50: float) -> None:
        """Give `well` another T50, keeping its noise and other parameters."""
        row = truth.loc[well]
        shape = {"bottom": row.bottom, "top": row.top, "slope_per_min": row.slope_per_min}
        signal[well] += t50_curve(t, t50_min=t50, **shape) - t50_curve(
            t, t50_min=row.t50_min, **shape
        )
        truth.loc[well, "t50_min"] = t50

    for sample, t50 in zip(CENSORED_SAMPLES, CENSORED_T50_MIN, strict=True):
        for well in np.flatnonzero(truth["sample"] == f"sample {sample}"):
            move(int(well), t50)
    move(OUTLIER_WELL, truth.loc[OUTLIER_WELL, "t50_min"] + OUTLIER_SHIFT_MIN)
    rng = np.random.default_rng(SEED + 1)
    signal[NOISY_WELL] += NOISY_SD_FRACTION * rise[NOISY_WELL] * rng.standard_normal(t.size)
    signal[BUBBLE_WELL, BUBBLE_READING] += BUBBLE_HEIGHT * rise[BUBBLE_WELL]
    cells = np.round(signal).astype(int).astype(str)
    cells[OVERFLOW_WELL, OVERFLOW_READING] = "overflow"

    lines = list(HEADER)
    lines.append(",".join(["Well", "Content", *(["Raw Data (Nephelometry)"] * t.size)]))
    lines.append(",".join(["", "Time", *(mars_time(m) for m in t)]))
    for i, well in enumerate(plate.wells):
        content = plate.content[i].replace("sample ", "Sample X")
        lines.append(",".join([well, content, *cells[i]]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "plate96_mars.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    samples = [f"serum-{int(s.split()[1]):02d}" for s in truth["sample"]]
    layout = ["well,sample", *(f"{w},{s}" for w, s in zip(plate.wells, samples, strict=True))]
    (out / "layout96.csv").write_text("\n".join(layout) + "\n", encoding="utf-8")
    truth.assign(sample=samples)[["well", "sample", "t50_min"]].round(2).to_csv(
        out / "plate96_truth.csv", index=False
    )
    print(f"wrote plate96_mars.csv, layout96.csv, plate96_truth.csv to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
