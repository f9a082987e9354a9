"""The packaged study table and its harmonization to a common exposure scale.

`load_mg_outcome_studies` reads ``data/mg_outcome_studies.yaml`` (the seed's Table 2 rebuilt, plus
the dichotomous low-Mg hemodialysis cohorts); `harmonize` decides row by row what can be pooled on
one scale and says why the rest cannot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from scipy import stats

from mgckd.exceptions import InputFileError, MissingColumnError, RegistryError, UserInputError
from mgckd.params import parameters
from mgckd.units import convert

Scale = Literal["per_0.1_mmol_l", "low_vs_reference"]
SCALES: tuple[str, ...] = ("per_0.1_mmol_l", "low_vs_reference")
RATIO_MEASURES = ("HR", "OR")
STUDY_COLUMNS = (
    "id",
    "study",
    "in_seed_table2",
    "population",
    "n",
    "women_percent",
    "follow_up",
    "follow_up_months",
    "outcome",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "exposure",
    "per_value",
    "per_unit",
    "contrast",
    "adjustment",
    "status",
    "source",
    "note",
)
"""Columns of a study table, in order (meanings and units: `load_mg_outcome_studies`)."""
_REQUIRED_COLUMNS = (
    "id",
    "study",
    "outcome",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "exposure",
)
_FILE = "mg_outcome_studies.yaml"


@cache
def _packaged() -> tuple[dict[str, Any], pd.DataFrame]:
    text = resources.files("mgckd.evidence").joinpath("data", _FILE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    rows = document.get("studies") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise RegistryError(f"{_FILE}: no 'studies' list")
    frame = pd.DataFrame(rows)
    unknown = set(frame.columns) - set(STUDY_COLUMNS)
    missing = set(STUDY_COLUMNS) - set(frame.columns)
    if unknown or missing:
        raise RegistryError(
            f"{_FILE}: unknown columns {sorted(unknown)}, missing columns {sorted(missing)}"
        )
    if frame["id"].duplicated().any():
        raise RegistryError(
            f"{_FILE}: duplicate ids {sorted(frame['id'][frame['id'].duplicated()])}"
        )
    meta = {key: document[key] for key in ("citation", "columns")}
    return meta, _typed(frame[list(STUDY_COLUMNS)])


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("estimate", "ci_low", "ci_high", "per_value", "follow_up_months", "n"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    if "women_percent" in out:
        out["women_percent"] = pd.to_numeric(out["women_percent"], errors="coerce")
    return out


def load_mg_outcome_studies() -> pd.DataFrame:
    """Published estimates of serum Mg and outcomes in kidney failure, one row per estimate.

    Rows with ``in_seed_table2`` rebuild Table 2 of ter Braake, Shanahan & de Baaij, ATVB 2017
    (seed 001, claim S1-16): eleven cohorts of serum Mg and cardiovascular outcomes. The other
    rows are hemodialysis cohorts with a dichotomous low-Mg contrast (Li 2015, Int Urol Nephrol
    2019, Clin Kidney J 2015). Numbers are as published, not harmonized (see `harmonize`).

    Columns (units in brackets): ``id``; ``study``; ``in_seed_table2``; ``population``;
    ``n`` [patients]; ``women_percent`` [%]; ``follow_up`` (text); ``follow_up_months`` [months];
    ``outcome``; ``measure`` (HR, OR, beta, means, proportions); ``estimate``, ``ci_low``,
    ``ci_high`` (95 % CI; [1] for ratios); ``exposure`` (per_unit, low_vs_reference,
    category_vs_reference, unknown); ``per_value`` and ``per_unit`` (the exposure step, e.g. 1
    mg/dL); ``contrast``; ``adjustment``; ``status`` (confirmed: read in the primary abstract;
    seed_ocr: read off the seed's OCR'd table); ``source``; ``note``.

    The frame's ``attrs`` hold the ``citation`` and the ``columns`` descriptions.

    Examples
    --------
    >>> studies = load_mg_outcome_studies()
    >>> int(studies["in_seed_table2"].sum()), studies["study"][studies["in_seed_table2"]].nunique()
    (17, 11)
    """
    meta, frame = _packaged()
    out = frame.copy()
    out.attrs.update(meta)
    return out


def read_studies(path: str | Path) -> pd.DataFrame:
    """Read a user's study table (.csv, .parquet or a .yaml like the packaged one).

    Needs at least the columns ``id``, ``study``, ``outcome``, ``measure``, ``estimate``,
    ``ci_low``, ``ci_high`` and ``exposure`` (plus ``per_value`` and ``per_unit`` for
    ``per_unit`` rows); other columns of `STUDY_COLUMNS` are filled in empty.
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(file, encoding="utf-8-sig")
        elif suffix == ".parquet":
            frame = pd.read_parquet(file)
        elif suffix in (".yaml", ".yml"):
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
            rows = document.get("studies") if isinstance(document, dict) else document
            frame = pd.DataFrame(rows)
        else:
            raise InputFileError(f"{file}: not a study table; accepted: .csv, .parquet, .yaml")
    except (OSError, ValueError, yaml.YAMLError) as error:
        if isinstance(error, UserInputError):
            raise
        raise InputFileError(f"{file}: cannot be read ({error})") from None
    missing = [column for column in _REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{file}: missing column(s) {', '.join(missing)}; a study table needs "
            f"{', '.join(_REQUIRED_COLUMNS)} (see docs/evidence.md)"
        )
    for column in STUDY_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    if frame["id"].astype(str).duplicated().any():
        raise InputFileError(f"{file}: the column 'id' has duplicates")
    frame["id"] = frame["id"].astype(str)
    if frame["in_seed_table2"].isna().all():
        frame["in_seed_table2"] = False
    return _typed(frame[list(STUDY_COLUMNS)])


@dataclass(frozen=True, slots=True)
class Harmonized:
    """Rows put on one scale (`included`) and rows that could not be (`excluded`, with reasons).

    Attributes
    ----------
    scale : ``per_0.1_mmol_l`` (ratio per +0.1 mmol/L serum Mg) or ``low_vs_reference`` (lowest
        Mg category vs a higher reference, as published: cut-points differ between studies).
    outcome : the outcome selected.
    measure : the ratio measure selected (HR or OR).
    included : columns ``id``, ``study``, ``log_ratio``, ``se`` (log scale, on `scale`), ``ratio``,
        ``ci_low``, ``ci_high`` (95 %, on `scale`), ``factor`` (multiplier applied to the published
        log ratio), ``contrast``, ``population``.
    excluded : columns ``id``, ``study``, ``reason``.
    """

    scale: str
    outcome: str
    measure: str
    included: pd.DataFrame
    excluded: pd.DataFrame

    @property
    def label(self) -> str:
        """What one pooled number means, e.g. ``HR per +0.1 mmol/L serum Mg, all_cause_death``."""
        if self.scale == "per_0.1_mmol_l":
            step = parameters()["meta_harmonized_mg_step"]
            return f"{self.measure} per +{step.value:g} {step.unit} serum Mg, {self.outcome}"
        return f"{self.measure} lowest Mg category vs reference (cut-points differ), {self.outcome}"


def _z_published() -> float:
    level = parameters()["meta_published_ci_level"].to("1")
    return float(stats.norm.isf((1.0 - level) / 2.0))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _reason(  # noqa: PLR0911  (one return per reason a row cannot be pooled)
    row: Mapping[str, Any], scale: str, outcome: str, measure: str
) -> str | None:
    """Why this row cannot be put on `scale` for `outcome`/`measure`; None when it can."""
    if row["outcome"] != outcome:
        return f"outcome is {row['outcome']}, not {outcome}"
    if row["measure"] not in RATIO_MEASURES:
        return f"measure is {row['measure']}, not a ratio: no log-ratio scale to pool on"
    if row["measure"] != measure:
        return f"measure is {row['measure']}, not {measure}: ratios of different kinds"
    if any(_missing(row[c]) for c in ("estimate", "ci_low", "ci_high")):
        return "no 95 % CI published: no standard error"
    if min(row["estimate"], row["ci_low"], row["ci_high"]) <= 0:
        return "a bound of the CI is printed as 0: the log standard error is undefined"
    if not row["ci_low"] <= row["estimate"] <= row["ci_high"]:
        return "the CI does not contain the estimate"
    wanted = "per_unit" if scale == "per_0.1_mmol_l" else "low_vs_reference"
    categorical = row["exposure"] in ("low_vs_reference", "category_vs_reference")
    if row["exposure"] != wanted and scale == "per_0.1_mmol_l" and categorical:
        return "categorical contrast: the category means and counts a slope needs are not published"
    if row["exposure"] != wanted:
        return f"exposure is {row['exposure']}, not {wanted}"
    no_step = _missing(row["per_value"]) or _missing(row["per_unit"]) or not row["per_unit"]
    if scale == "per_0.1_mmol_l" and no_step:
        return "the exposure step or its unit is not stated: cannot rescale"
    return None


def harmonize(
    studies: pd.DataFrame | None = None,
    *,
    outcome: str = "all_cause_death",
    scale: Scale | str = "per_0.1_mmol_l",
    measure: str = "HR",
    seed_table2_only: bool = False,
) -> Harmonized:
    """Put the rows of a study table that can be pooled on one scale; list the others with reasons.

    Parameters
    ----------
    studies : a study table (`load_mg_outcome_studies` when None).
    outcome : rows of this outcome only (e.g. ``all_cause_death``, ``cv_death``).
    scale : ``per_0.1_mmol_l``: continuous estimates rescaled to a step of
        ``meta_harmonized_mg_step`` (0.1 mmol/L); ``low_vs_reference``: the lowest Mg category
        vs a higher reference, kept as published.
    measure : ``HR`` or ``OR``; hazard and odds ratios are never mixed.
    seed_table2_only : keep only rows of the seed's Table 2.

    Notes
    -----
    A per-unit estimate of step :math:`s` (in any unit of serum Mg) becomes, for the common step
    :math:`s_0` (0.1 mmol/L), :math:`\\ln R_0 = (s_0 / s)\\,\\ln R` and
    :math:`SE_0 = (s_0 / s)\\,SE`, with :math:`s` converted to mmol/L by `mgckd.units.convert`
    (1 mg/dL = 0.4114 mmol/L, 1 mEq/L = 0.5 mmol/L). This assumes the log ratio is linear in Mg
    over the range, which the original studies assumed when they reported a per-unit estimate.
    :math:`SE = (\\ln U - \\ln L) / (2 z_{0.975})` is read back from the published 95 % CI.

    Categorical contrasts are not rescaled: the cut-points and reference categories differ and
    the category means and counts needed for a dose-response slope (Greenland & Longnecker 1992)
    are not published.
    """
    if scale not in SCALES:
        raise UserInputError(f"scale {scale!r} is not one of {', '.join(SCALES)}")
    if measure not in RATIO_MEASURES:
        raise UserInputError(f"measure {measure!r} is not one of {', '.join(RATIO_MEASURES)}")
    table = load_mg_outcome_studies() if studies is None else studies
    if seed_table2_only:
        table = table[table["in_seed_table2"].fillna(False).astype(bool)]
    z = _z_published()
    step = parameters()["meta_harmonized_mg_step"]
    included: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]
    for row in records:
        reason = _reason(row, scale, outcome, measure)
        if reason is None and scale == "per_0.1_mmol_l":
            try:
                step_mmol = convert(
                    float(row["per_value"]), str(row["per_unit"]), step.unit, analyte="magnesium"
                )
            except UserInputError as error:
                reason = f"exposure unit not usable ({error})"
        if reason is not None:
            excluded.append({"id": row["id"], "study": row["study"], "reason": reason})
            continue
        factor = step.to(step.unit) / step_mmol if scale == "per_0.1_mmol_l" else 1.0
        log_ratio = factor * math.log(row["estimate"])
        se = abs(factor) * (math.log(row["ci_high"]) - math.log(row["ci_low"])) / (2 * z)
        included.append(
            {
                "id": row["id"],
                "study": row["study"],
                "log_ratio": log_ratio,
                "se": se,
                "ratio": math.exp(log_ratio),
                "ci_low": math.exp(factor * math.log(row["ci_low"])),
                "ci_high": math.exp(factor * math.log(row["ci_high"])),
                "factor": factor,
                "contrast": row["contrast"],
                "population": row["population"],
            }
        )
    columns_in = [
        "id",
        "study",
        "log_ratio",
        "se",
        "ratio",
        "ci_low",
        "ci_high",
        "factor",
        "contrast",
        "population",
    ]
    return Harmonized(
        scale=str(scale),
        outcome=outcome,
        measure=measure,
        included=pd.DataFrame(included, columns=columns_in),
        excluded=pd.DataFrame(excluded, columns=["id", "study", "reason"]),
    )
