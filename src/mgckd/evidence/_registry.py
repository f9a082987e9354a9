"""Registry analysis: Mg categories × phosphate in logistic or Cox models, splines, PAF.

One entry point, `analyze_registry`, on a table prepared by `prepare_registry` (or a file read by
`read_registry`). Formulas and references in docs/evidence.md.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from mgckd._version import __version__
from mgckd.evidence._splines import rcs_basis, rcs_knots
from mgckd.evidence._table import (
    MG_COLUMN,
    PHOSPHATE_COLUMN,
    LabColumn,
    prepare_registry,
    read_table,
)
from mgckd.exceptions import (
    MissingColumnError,
    SeparationError,
    TooFewEventsError,
    UserInputError,
)
from mgckd.labs import hemodialysis_band
from mgckd.params import parameters
from mgckd.units import convert

Model = Literal["logistic", "cox"]
PafInterval = Literal["delta", "bootstrap"]
HEMODIALYSIS = "hemodialysis"
ASSOCIATION_NOTE = (
    "Adjusted associations in the analysed population, not causal effects; a population "
    "attributable fraction assumes the association is causal. Not treatment instructions."
)
_PHOSPHATE_TERM = "phosphate"


# --- categories ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MgCategories:
    """How serum Mg is cut into categories, the model reference and the PAF reference."""

    labels: tuple[str, ...]
    edges_mg_dl: tuple[float, ...]
    reference: str
    paf_reference: str
    description: str


def _label_edges(edges: Sequence[float]) -> tuple[str, ...]:
    e = [f"{x:.3g}" for x in edges]
    middle = [f"{low} to <{high}" for low, high in itertools.pairwise(e)]
    return (f"<{e[0]}", *middle, f">={e[-1]}")


def categorize_mg(
    spec: str | Sequence[float],
    mg_mmol_l: NDArray[np.float64],
    *,
    reference: str | None = None,
    paf_reference: str | None = None,
) -> tuple[MgCategories, NDArray[np.str_]]:
    """Categories of serum Mg and each patient's label.

    `spec` is ``"hemodialysis"`` (the JSDT bands < 2.7, 2.7 to < 3.1, >= 3.1 mg/dL of
    `mgckd.labs.hemodialysis_band`, S0-18), ``"quantiles:N"`` (N groups of equal size), or a
    sequence of cut-points in mg/dL. A value on a cut-point belongs to the upper category. The
    model reference defaults to the lowest category (as in S0-19); the PAF reference, the
    category everyone is moved to in the counterfactual, defaults to 2.7 to < 3.1 mg/dL for the
    hemodialysis bands (the best-survival band of S0-18) and to the highest category otherwise.
    """
    if isinstance(spec, str) and spec == HEMODIALYSIS:
        labels_all = hemodialysis_band(mg_mmol_l)
        registered = parameters()["mg_hemodialysis_band_edges"].value
        edges = tuple(float(v) for v in np.atleast_1d(np.asarray(registered, dtype=np.float64)))
        labels = _label_edges(edges)
        default_paf = labels[1]
        description = "JSDT hemodialysis bands (S0-18)"
    else:
        mg_dl = convert(mg_mmol_l, "mmol/L", "mg/dL", analyte="magnesium")
        if isinstance(spec, str):
            if not spec.startswith("quantiles:"):
                raise UserInputError(
                    f"Mg categories {spec!r}: use 'hemodialysis', 'quantiles:N' or cut-points "
                    "in mg/dL such as '2.3,2.9'"
                )
            try:
                groups = int(spec.split(":", 1)[1])
            except ValueError:
                raise UserInputError(f"Mg categories {spec!r}: N must be a whole number") from None
            if not 2 <= groups <= 10:
                raise UserInputError(f"Mg categories {spec!r}: N must be 2 to 10")
            cut = np.quantile(mg_dl, np.arange(1, groups) / groups)
            edges = tuple(float(round(x, 2)) for x in cut)
            description = f"{groups} quantile groups of serum Mg"
        else:
            edges = tuple(float(x) for x in spec)
            description = "cut-points given by the user"
        if len(edges) < 1 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise UserInputError(f"Mg cut-points {list(edges)} must be increasing and distinct")
        labels = _label_edges(edges)
        index = np.searchsorted(np.asarray(edges), mg_dl * (1 + 1e-12), side="right")
        labels_all = np.asarray(labels)[index]
        default_paf = labels[-1]
    ref = labels[0] if reference is None else reference
    paf_ref = default_paf if paf_reference is None else paf_reference
    for name, value in (("reference", ref), ("PAF reference", paf_ref)):
        if value not in labels:
            raise UserInputError(f"Mg {name} {value!r} is not one of {', '.join(labels)}")
    return (
        MgCategories(labels, edges, ref, paf_ref, description),
        np.asarray(labels_all, dtype=str),
    )


# --- design and fit -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Design:
    """Design matrix columns (no intercept) with the names of the Mg and interaction terms."""

    names: tuple[str, ...]
    matrix: NDArray[np.float64]
    mg_terms: tuple[str, ...]
    interaction_terms: tuple[str, ...]


def _adjusters(frame: pd.DataFrame, adjust: Sequence[str]) -> tuple[list[str], list[NDArray[Any]]]:
    names: list[str] = []
    columns: list[NDArray[Any]] = []
    for column in adjust:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            levels = sorted(values.astype(str).unique())
            for level in levels[1:]:
                names.append(f"{column}[{level}]")
                columns.append((values.astype(str) == level).to_numpy(dtype=np.float64))
        else:
            names.append(column)
            columns.append(values.to_numpy(dtype=np.float64))
    return names, columns


@dataclass(frozen=True, slots=True)
class _Data:
    """The complete rows of one analysis and everything needed to build and fit its models."""

    model: str
    frame: pd.DataFrame
    labels: NDArray[np.str_]
    event: NDArray[np.float64]
    time: NDArray[np.float64] | None
    categories: MgCategories
    adjust: tuple[str, ...]
    step_mmol_l: float
    centre_mmol_l: float

    @property
    def phosphate(self) -> NDArray[np.float64]:
        """Phosphate in steps from the centre."""
        values = self.frame[PHOSPHATE_COLUMN].to_numpy(dtype=np.float64)
        return (values - self.centre_mmol_l) / self.step_mmol_l

    def design(self, *, interaction: bool) -> _Design:
        """Mg-category indicators, phosphate, (interactions,) adjusters."""
        phosphate = self.phosphate
        others = [c for c in self.categories.labels if c != self.categories.reference]
        mg_terms = tuple(f"mg[{label}]" for label in others)
        names: list[str] = [*mg_terms, _PHOSPHATE_TERM]
        columns: list[NDArray[Any]] = [
            (self.labels == label).astype(np.float64) for label in others
        ]
        columns.append(phosphate)
        interaction_terms: tuple[str, ...] = ()
        if interaction:
            interaction_terms = tuple(f"{_PHOSPHATE_TERM}:{term}" for term in mg_terms)
            names += interaction_terms
            columns += [(self.labels == label) * phosphate for label in others]
        adjust_names, adjust_columns = _adjusters(self.frame, self.adjust)
        return _Design(
            tuple(names + adjust_names),
            np.column_stack(columns + adjust_columns),
            mg_terms,
            interaction_terms,
        )

    def resample(self, rows: NDArray[np.int_]) -> _Data:
        """The same analysis on rows drawn (with repetition) by index."""
        return replace(
            self,
            frame=self.frame.iloc[rows].reset_index(drop=True),
            labels=self.labels[rows],
            event=self.event[rows],
            time=None if self.time is None else self.time[rows],
        )


@dataclass(frozen=True, slots=True)
class _Fit:
    names: tuple[str, ...]
    params: NDArray[np.float64]
    cov: NDArray[np.float64]
    llf: float


def _max_log_ratio() -> float:
    return parameters()["registry_separation_max_abs_log_ratio"].to("1")


def _fit(data: _Data, names: tuple[str, ...], x: NDArray[np.float64]) -> _Fit:
    """Fit the logistic (with intercept) or Cox (Efron ties) model; refuse separated fits."""
    import statsmodels.api as sm  # noqa: PLC0415  (heavy; imported when a model is fitted)
    from statsmodels.duration.hazard_regression import PHReg  # noqa: PLC0415
    from statsmodels.tools.sm_exceptions import (  # noqa: PLC0415
        ConvergenceWarning,
        PerfectSeparationWarning,
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if data.model == "logistic":
                design = np.column_stack([np.ones(len(data.event)), x])
                result = sm.Logit(data.event, design).fit(disp=0, method="newton", maxiter=100)
                all_names = ("const", *names)
                converged = bool(result.mle_retvals.get("converged", True))
            else:
                # Efron's tie correction; with no tied event times it equals Breslow's, which
                # statsmodels computes about twice as fast.
                event_times = data.time[data.event == 1] if data.time is not None else []
                tied = len(np.unique(event_times)) < len(event_times)
                ties = "efron" if tied else "breslow"
                result = PHReg(data.time, x, status=data.event, ties=ties).fit()
                all_names = names
                converged = bool(getattr(result, "converged", True))
        except np.linalg.LinAlgError:
            raise SeparationError(
                f"the {data.model} model cannot be estimated: its design matrix is singular (a "
                "category or adjuster is empty or collinear with another)"
            ) from None
    separated = [w for w in caught if issubclass(w.category, PerfectSeparationWarning)]
    unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    params = np.asarray(result.params, dtype=np.float64)
    cov = np.asarray(result.cov_params(), dtype=np.float64)
    bad = [
        name
        for name, b, v in zip(all_names, params, np.diag(cov), strict=True)
        if name != "const" and (not np.isfinite(v) or v <= 0 or abs(b) > _max_log_ratio())
    ]
    if separated or bad or not converged or unconverged:
        where = f": check {', '.join(bad)}" if bad else ""
        raise SeparationError(
            f"the {data.model} model has no finite estimate (outcome perfectly or "
            f"quasi-perfectly separated, or the fit did not converge){where}; merge categories "
            "or drop adjusters"
        )
    return _Fit(tuple(all_names), params, cov, float(result.llf))


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InteractionTest:
    """Likelihood-ratio test of the Mg-category × phosphate terms (all zero)."""

    statistic: float
    df: int
    p_value: float
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttributableFraction:
    """Population attributable fraction of serum Mg categories, with its CI.

    `method` names the estimator (standardization for logistic models, Bruzzi's case-based
    formula with hazard ratios for Cox models); `ci_method` says how the CI was made (``delta``
    on log(1 - PAF), covariates held fixed; or ``bootstrap`` percentile, with its seed).
    """

    value: float
    ci: tuple[float, float]
    reference: str
    method: str
    ci_method: str
    seed: int | None = None
    n_bootstrap: int | None = None


@dataclass(frozen=True, slots=True)
class SplineCurve:
    """Ratio of the outcome across serum Mg from a restricted cubic spline (Mg in mg/dL)."""

    knots_mg_dl: tuple[float, ...]
    reference_mg_dl: float
    curve: pd.DataFrame
    nonlinearity_p_value: float


@dataclass(frozen=True, slots=True)
class RegistryAnalysis:
    """Everything `analyze_registry` found; tables in `to_frame`, text in `summary`.

    Attributes
    ----------
    model, measure : ``logistic``/``OR`` or ``cox``/``HR``.
    outcome, time : the outcome (0/1) column and, for Cox models, the time column.
    population : who the rows are (as the caller described them).
    n, n_events, n_dropped : rows analysed, events among them, rows dropped for missing values.
    categories : the Mg categories, model reference and PAF reference.
    category_counts : rows and events per Mg category.
    adjust : adjustment columns.
    phosphate_step, phosphate_centre : the phosphate step the ratios are per and the value the
        model is centred at (text with unit).
    coefficients : every model term: ``term``, ``log_ratio``, ``se``, ``ratio``, ``ci_low``,
        ``ci_high``, ``p_value``.
    phosphate_by_mg : the phosphate ratio per step within each Mg category.
    mg_by_category : each Mg category vs the reference, at the centre phosphate.
    interaction : the likelihood-ratio test of effect modification (None without interaction).
    paf : population attributable fraction of Mg (None when not asked).
    spline : the restricted-cubic-spline curve of Mg (None when not asked).
    lab_columns : where Mg and phosphate were read, in which unit.
    level : CI coverage.
    metadata : mgckd version, seeds, options.
    """

    model: str
    measure: str
    outcome: str
    time: str | None
    population: str
    n: int
    n_events: int
    n_dropped: int
    categories: MgCategories
    category_counts: pd.DataFrame
    adjust: tuple[str, ...]
    phosphate_step: str
    phosphate_centre: str
    coefficients: pd.DataFrame
    phosphate_by_mg: pd.DataFrame
    mg_by_category: pd.DataFrame
    interaction: InteractionTest | None
    paf: AttributableFraction | None
    spline: SplineCurve | None
    lab_columns: tuple[LabColumn, ...]
    level: float
    metadata: dict[str, Any] = field(default_factory=dict)
    _fit: _Fit | None = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: ``section`` (coefficient, phosphate_by_mg, mg_by_category, paf), ``name``,
        ``ratio``, ``ci_low``, ``ci_high``, ``p_value``."""
        parts = [
            self.coefficients.rename(columns={"term": "name"}).assign(section="coefficient"),
            self.phosphate_by_mg.rename(columns={"mg_category": "name"}).assign(
                section="phosphate_by_mg"
            ),
            self.mg_by_category.rename(columns={"mg_category": "name"}).assign(
                section="mg_by_category"
            ),
        ]
        if self.paf is not None:
            parts.append(
                pd.DataFrame(
                    [
                        {
                            "section": "paf",
                            "name": f"Mg categories vs {self.paf.reference}",
                            "ratio": self.paf.value,
                            "ci_low": self.paf.ci[0],
                            "ci_high": self.paf.ci[1],
                        }
                    ]
                )
            )
        columns = ["section", "name", "ratio", "ci_low", "ci_high", "p_value"]
        return pd.concat([p.reindex(columns=columns) for p in parts], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "model": self.model,
            "measure": self.measure,
            "outcome": self.outcome,
            "time": self.time,
            "population": self.population,
            "n": self.n,
            "n_events": self.n_events,
            "n_dropped": self.n_dropped,
            "mg_categories": {
                "labels": list(self.categories.labels),
                "edges_mg_dl": list(self.categories.edges_mg_dl),
                "reference": self.categories.reference,
                "paf_reference": self.categories.paf_reference,
                "description": self.categories.description,
            },
            "category_counts": self.category_counts.to_dict("records"),
            "adjust": list(self.adjust),
            "phosphate_step": self.phosphate_step,
            "phosphate_centre": self.phosphate_centre,
            "coefficients": self.coefficients.to_dict("records"),
            "phosphate_by_mg": self.phosphate_by_mg.to_dict("records"),
            "mg_by_category": self.mg_by_category.to_dict("records"),
            "interaction": None
            if self.interaction is None
            else {
                "lr_statistic": self.interaction.statistic,
                "df": self.interaction.df,
                "p_value": self.interaction.p_value,
                "terms": list(self.interaction.terms),
            },
            "paf": None
            if self.paf is None
            else {
                "value": self.paf.value,
                "ci": list(self.paf.ci),
                "reference": self.paf.reference,
                "method": self.paf.method,
                "ci_method": self.paf.ci_method,
                "seed": self.paf.seed,
                "n_bootstrap": self.paf.n_bootstrap,
            },
            "spline": None
            if self.spline is None
            else {
                "knots_mg_dl": list(self.spline.knots_mg_dl),
                "reference_mg_dl": self.spline.reference_mg_dl,
                "nonlinearity_p_value": self.spline.nonlinearity_p_value,
                "curve": self.spline.curve.to_dict("records"),
            },
            "lab_columns": [
                {
                    "analyte": c.analyte,
                    "header": c.header,
                    "unit": c.unit,
                    "soft_outside": c.soft_outside,
                }
                for c in self.lab_columns
            ],
            "level": self.level,
            "metadata": self.metadata,
            "note": ASSOCIATION_NOTE,
        }

    def summary(self) -> str:
        """A readable report of the main numbers."""
        pct = f"{100 * self.level:g} % CI"
        lines = [
            f"{self.model} model of {self.outcome} ({self.measure}); population: "
            f"{self.population or 'not described'}",
            f"{self.n} rows, {self.n_events} events, {self.n_dropped} dropped for missing values; "
            f"adjusted for {', '.join(self.adjust) or 'nothing'}",
            f"Mg categories: {self.categories.description}; reference {self.categories.reference}",
            f"phosphate effect per +{self.phosphate_step} within Mg categories:",
        ]
        for row in self.phosphate_by_mg.itertuples():
            lines.append(
                f"  Mg {row.mg_category}: {self.measure} {row.ratio:.3f} "
                f"({pct} {row.ci_low:.3f}-{row.ci_high:.3f})"
            )
        if self.interaction is not None:
            lines.append(
                f"Mg × phosphate interaction: LR chi² {self.interaction.statistic:.2f}, "
                f"df {self.interaction.df}, P = {self.interaction.p_value:.3g}"
            )
        lines.append(
            f"Mg categories vs {self.categories.reference} at phosphate {self.phosphate_centre}:"
        )
        for row in self.mg_by_category.itertuples():
            lines.append(
                f"  Mg {row.mg_category}: {self.measure} {row.ratio:.3f} "
                f"({pct} {row.ci_low:.3f}-{row.ci_high:.3f})"
            )
        if self.paf is not None:
            lines.append(
                f"population attributable fraction of Mg (everyone moved to "
                f"{self.paf.reference}): {100 * self.paf.value:.1f} % ({pct} "
                f"{100 * self.paf.ci[0]:.1f} to {100 * self.paf.ci[1]:.1f} %), {self.paf.method}; "
                f"CI: {self.paf.ci_method}"
            )
        if self.spline is not None:
            curve = self.spline.curve
            nadir = float(curve["mg_mg_dl"].to_numpy()[int(np.argmin(curve["ratio"].to_numpy()))])
            lines.append(
                f"spline of Mg ({len(self.spline.knots_mg_dl)} knots): lowest {self.measure} at "
                f"{nadir:.2f} mg/dL; non-linearity P = {self.spline.nonlinearity_p_value:.3g}"
            )
        for column in self.lab_columns:
            if column.soft_outside:
                lines.append(
                    f"note: {column.soft_outside} {column.analyte} value(s) in column "
                    f"{column.header!r} outside the usual range; check the unit ({column.unit})"
                )
        lines.append(ASSOCIATION_NOTE)
        return "\n".join(lines)


# --- the entry point ----------------------------------------------------------------------------


def read_registry(
    path: str | Path, *, mg_unit: str | None = None, phosphate_unit: str | None = None
) -> tuple[pd.DataFrame, tuple[LabColumn, LabColumn]]:
    """Read a CSV or Parquet registry table and convert its Mg and phosphate columns
    (`prepare_registry`); errors name the file."""
    frame = read_table(path)
    try:
        return prepare_registry(frame, mg_unit=mg_unit, phosphate_unit=phosphate_unit)
    except UserInputError as error:
        raise type(error)(f"{path}: {error}") from None


def _binary(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64)
    numeric = pd.to_numeric(values, errors="coerce")
    odd = sorted({str(v) for v in values[~numeric.isin([0, 1])].unique()})
    if odd:
        raise UserInputError(
            f"outcome column {column!r} must hold 0/1 (or true/false); found {', '.join(odd[:5])}"
        )
    return numeric.to_numpy(dtype=np.float64)


def _ratio_rows(
    names: Sequence[str], estimates: NDArray[np.float64], ses: NDArray[np.float64], level: float
) -> pd.DataFrame:
    z = float(stats.norm.isf((1 - level) / 2))
    return pd.DataFrame(
        {
            "name": list(names),
            "log_ratio": estimates,
            "se": ses,
            "ratio": np.exp(estimates),
            "ci_low": np.exp(estimates - z * ses),
            "ci_high": np.exp(estimates + z * ses),
            "p_value": 2 * stats.norm.sf(np.abs(estimates / ses)),
        }
    )


def _contrast(fit: _Fit, weights: dict[str, float]) -> tuple[float, float]:
    vector = np.array([weights.get(name, 0.0) for name in fit.names])
    return float(vector @ fit.params), math.sqrt(float(vector @ fit.cov @ vector))


def _check_options(model: str, paf: bool, paf_ci: str, seed: int | None, time: str | None) -> None:
    if model not in ("logistic", "cox"):
        raise UserInputError(f"model {model!r} is not logistic or cox")
    if paf_ci not in ("delta", "bootstrap"):
        raise UserInputError(f"PAF interval {paf_ci!r} is not delta or bootstrap")
    if paf and paf_ci == "bootstrap" and seed is None:
        raise UserInputError("a bootstrap interval needs a seed (--seed): randomness is explicit")
    if model == "cox" and time is None:
        raise UserInputError("a Cox model needs the follow-up time column (--time)")


def _complete_rows(
    table: pd.DataFrame, outcome: str, time: str | None, adjust: Sequence[str]
) -> tuple[pd.DataFrame, NDArray[np.float64], NDArray[np.float64] | None, int]:
    needed = [MG_COLUMN, PHOSPHATE_COLUMN, outcome, *adjust] + ([time] if time else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        hint = " (prepare the table with prepare_registry)" if MG_COLUMN in missing else ""
        raise MissingColumnError(
            f"missing column(s) {', '.join(map(repr, missing))}{hint}; columns present: "
            f"{', '.join(map(str, table.columns))}"
        )
    complete = table.dropna(subset=needed).reset_index(drop=True)
    event = _binary(complete, outcome)
    time_values = None
    if time is not None:
        time_values = pd.to_numeric(complete[time], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(time_values)) or np.any(time_values <= 0):
            raise UserInputError(f"time column {time!r} must hold positive numbers")
    return complete, event, time_values, len(table) - len(complete)


def _stratum_tables(
    fit: _Fit, data: _Data, counts: pd.DataFrame, *, interaction: bool, level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Phosphate ratio within each Mg category; each Mg category vs the reference."""
    reference = data.categories.reference
    phosphate_rows, mg_rows = [], []
    for label in data.categories.labels:
        term = f"mg[{label}]"
        weights = {_PHOSPHATE_TERM: 1.0}
        if interaction and label != reference:
            weights[f"{_PHOSPHATE_TERM}:{term}"] = 1.0
        phosphate_rows.append((label, *_contrast(fit, weights)))
        if label != reference:
            mg_rows.append((label, *_contrast(fit, {term: 1.0})))

    def table(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
        return _ratio_rows(
            [r[0] for r in rows],
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
            level,
        ).rename(columns={"name": "mg_category"})

    return table(phosphate_rows).merge(counts, on="mg_category"), table(mg_rows)


def _interaction_test(data: _Data, design: _Design, fit: _Fit) -> InteractionTest:
    reduced = data.design(interaction=False)
    reduced_fit = _fit(data, reduced.names, reduced.matrix)
    statistic = max(0.0, 2.0 * (fit.llf - reduced_fit.llf))
    df = len(design.interaction_terms)
    return InteractionTest(
        statistic, df, float(stats.chi2.sf(statistic, df)), design.interaction_terms
    )


def analyze_registry(
    table: pd.DataFrame,
    *,
    outcome: str,
    model: Model | str = "logistic",
    time: str | None = None,
    mg_categories: str | Sequence[float] = HEMODIALYSIS,
    mg_reference: str | None = None,
    paf_reference: str | None = None,
    adjust: Sequence[str] = (),
    interaction: bool = True,
    spline_knots: int | None = 4,
    paf: bool = True,
    paf_ci: PafInterval | str = "delta",
    n_bootstrap: int = 200,
    seed: int | None = None,
    population: str = "",
    level: float = 0.95,
    min_events_per_parameter: float | None = None,
    lab_columns: tuple[LabColumn, ...] = (),
) -> RegistryAnalysis:
    """Model an outcome on serum Mg categories, phosphate and their interaction.

    Parameters
    ----------
    table : a table prepared by `prepare_registry` (columns ``mg_mmol_l`` and
        ``phosphate_mmol_l``), one row per patient.
    outcome : the 0/1 outcome column (e.g. 1-year CV death).
    model : ``logistic`` (odds ratios) or ``cox`` (hazard ratios; needs `time`).
    time : follow-up time column for Cox models (any unit; must be positive).
    mg_categories : ``hemodialysis``, ``quantiles:N`` or cut-points in mg/dL (`categorize_mg`).
    mg_reference, paf_reference : category labels overriding the defaults.
    adjust : adjustment columns; numeric ones enter linearly, others as indicator columns.
    interaction : include the Mg-category × phosphate terms (and their LR test).
    spline_knots : fit a second model with a restricted cubic spline of Mg (3, 4 or 5 knots at
        Harrell's quantiles) instead of categories; None to skip.
    paf : estimate the population attributable fraction of the Mg categories.
    paf_ci : ``delta`` (delta method on log(1 - PAF)) or ``bootstrap`` (percentile, `n_bootstrap`
        refits on rows resampled with `seed`).
    seed : seed of the bootstrap; required with ``bootstrap``; recorded in the metadata.
    population : who the rows are; carried into every output.
    level : CI coverage.
    min_events_per_parameter : defaults to ``registry_min_events_per_parameter`` (10).
    lab_columns : where `prepare_registry` found Mg and phosphate (for the report).

    Raises
    ------
    MissingColumnError, TooFewEventsError, SeparationError, UserInputError

    Notes
    -----
    The linear predictor is
    :math:`\\eta = \\sum_k \\gamma_k [Mg \\in k] + \\beta_P p + \\sum_k \\delta_k [Mg \\in k]\\,p
    + \\sum_j \\alpha_j z_j` (plus an intercept for the logistic model), with
    :math:`p = (P - P_c)/s` the phosphate centred at :math:`P_c` (``registry_phosphate_centre``,
    6.0 mg/dL) per step :math:`s` (``registry_phosphate_step``, 1 mg/dL). The phosphate ratio
    within category k is :math:`\\exp(\\beta_P + \\delta_k)`; :math:`\\exp(\\gamma_k)` compares
    category k with the reference at :math:`P_c`.
    """
    _check_options(str(model), paf, str(paf_ci), seed, time)
    frame, event, time_values, n_dropped = _complete_rows(table, outcome, time, adjust)
    registry = parameters()
    step_param = registry["registry_phosphate_step"]
    centre_param = registry["registry_phosphate_centre"]
    categories, labels = categorize_mg(
        mg_categories,
        frame[MG_COLUMN].to_numpy(dtype=np.float64),
        reference=mg_reference,
        paf_reference=paf_reference,
    )
    data = _Data(
        model=str(model),
        frame=frame,
        labels=labels,
        event=event,
        time=time_values,
        categories=categories,
        adjust=tuple(adjust),
        step_mmol_l=float(convert(step_param.to("mg/dL"), "mg/dL", "mmol/L", analyte="phosphate")),
        centre_mmol_l=float(
            convert(centre_param.to("mg/dL"), "mg/dL", "mmol/L", analyte="phosphate")
        ),
    )
    counts = _category_counts(categories, labels, event)
    _check_events(counts, str(model))
    design = data.design(interaction=interaction)
    _check_epv(event, len(design.names), str(model), min_events_per_parameter)
    _check_binary_columns(design, event)
    fit = _fit(data, design.names, design.matrix)
    coefficients = _ratio_rows(fit.names, fit.params, np.sqrt(np.diag(fit.cov)), level).rename(
        columns={"name": "term"}
    )
    phosphate_by_mg, mg_by_category = _stratum_tables(
        fit, data, counts, interaction=interaction, level=level
    )
    attributable = None
    if paf:
        attributable = _attributable(
            data,
            design,
            fit,
            interaction=interaction,
            paf_ci=str(paf_ci),
            n_bootstrap=n_bootstrap,
            seed=seed,
            level=level,
        )
    return RegistryAnalysis(
        model=str(model),
        measure="OR" if model == "logistic" else "HR",
        outcome=outcome,
        time=time,
        population=population,
        n=len(frame),
        n_events=int(event.sum()),
        n_dropped=n_dropped,
        categories=categories,
        category_counts=counts,
        adjust=tuple(adjust),
        phosphate_step=f"{step_param.value:g} {step_param.unit}",
        phosphate_centre=f"{centre_param.value:g} {centre_param.unit}",
        coefficients=coefficients,
        phosphate_by_mg=phosphate_by_mg,
        mg_by_category=mg_by_category,
        interaction=_interaction_test(data, design, fit) if interaction else None,
        paf=attributable,
        spline=None if spline_knots is None else _spline(data, spline_knots, level),
        lab_columns=lab_columns,
        level=level,
        metadata={
            "mgckd_version": __version__,
            "seed": seed,
            "paf_ci": str(paf_ci) if paf else None,
            "n_bootstrap": n_bootstrap if paf and paf_ci == "bootstrap" else None,
            "min_events_per_parameter": min_events_per_parameter
            or registry["registry_min_events_per_parameter"].to("1"),
        },
        _fit=fit,
    )


def _category_counts(
    categories: MgCategories, labels: NDArray[np.str_], event: NDArray[np.float64]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mg_category": list(categories.labels),
            "n": [int(np.sum(labels == label)) for label in categories.labels],
            "events": [int(event[labels == label].sum()) for label in categories.labels],
        }
    )


def _check_events(counts: pd.DataFrame, model: str) -> None:
    for label, n, events in zip(
        counts["mg_category"], counts["n"].astype(int), counts["events"].astype(int), strict=True
    ):
        if n == 0:
            raise SeparationError(f"Mg category {label} has no patients; choose other categories")
        if events == 0 or (model == "logistic" and events == n):
            what = "no events" if events == 0 else "only events"
            raise SeparationError(
                f"Mg category {label} has {what} ({events} of {n}): its ratio would be infinite "
                "(separation); merge categories"
            )


def _check_epv(
    event: NDArray[np.float64], n_parameters: int, model: str, minimum: float | None
) -> None:
    per = (
        minimum
        if minimum is not None
        else parameters()["registry_min_events_per_parameter"].to("1")
    )
    events = int(event.sum())
    rarer = events if model == "cox" else min(events, len(event) - events)
    if rarer < per * n_parameters:
        kind = "events" if model == "cox" or rarer == events else "non-events"
        raise TooFewEventsError(
            f"{rarer} {kind} for {n_parameters} coefficients: fewer than {per:g} per coefficient "
            "(Peduzzi 1996); drop adjusters, merge Mg categories or leave out the interaction"
        )


def _check_binary_columns(design: _Design, event: NDArray[np.float64]) -> None:
    for name, column in zip(design.names, design.matrix.T, strict=True):
        values = np.unique(column)
        if values.size == 1:
            raise SeparationError(f"column {name} is constant: it cannot be estimated")
        if values.size == 2 and set(values.tolist()) == {0.0, 1.0}:
            inside = event[column == 1]
            if inside.sum() == 0:
                raise SeparationError(
                    f"{name}: no events among the {inside.size} rows where it applies "
                    "(separation); merge levels or drop it"
                )


def _counterfactual(design: _Design, target: str) -> NDArray[np.float64]:
    """The design matrix with every patient moved to Mg category `target` (phosphate kept)."""
    matrix = design.matrix.copy()
    index = {name: i for i, name in enumerate(design.names)}
    phosphate = matrix[:, index[_PHOSPHATE_TERM]]
    for term in design.mg_terms:
        inside = 1.0 if term == f"mg[{target}]" else 0.0
        matrix[:, index[term]] = inside
        interaction = f"{_PHOSPHATE_TERM}:{term}"
        if interaction in index:
            matrix[:, index[interaction]] = inside * phosphate
    return matrix


def _paf_point_and_gradient(
    data: _Data, design: _Design, fit: _Fit
) -> tuple[float, NDArray[np.float64]]:
    """PAF and the gradient of log(1 - PAF) with respect to the model parameters."""
    x = design.matrix
    x0 = _counterfactual(design, data.categories.paf_reference)
    if data.model == "logistic":
        ones = np.ones((x.shape[0], 1))
        x, x0 = np.hstack([ones, x]), np.hstack([ones, x0])
        p = 1.0 / (1.0 + np.exp(-(x @ fit.params)))
        p0 = 1.0 / (1.0 + np.exp(-(x0 @ fit.params)))
        log_ratio = math.log(p0.sum()) - math.log(p.sum())
        gradient = (x0.T @ (p0 * (1 - p0))) / p0.sum() - (x.T @ (p * (1 - p))) / p.sum()
    else:
        cases = data.event == 1
        shift = np.exp((x0[cases] - x[cases]) @ fit.params)
        log_ratio = math.log(shift.sum()) - math.log(cases.sum())
        gradient = ((x0[cases] - x[cases]).T @ shift) / shift.sum()
    return 1.0 - math.exp(log_ratio), gradient


def _attributable(
    data: _Data,
    design: _Design,
    fit: _Fit,
    *,
    interaction: bool,
    paf_ci: str,
    n_bootstrap: int,
    seed: int | None,
    level: float,
) -> AttributableFraction:
    target = data.categories.paf_reference
    value, gradient = _paf_point_and_gradient(data, design, fit)
    method = (
        "standardization of fitted risks (Greenland & Drescher 1993)"
        if data.model == "logistic"
        else "case-based formula with hazard ratios (Bruzzi 1985)"
    )
    alpha = 1 - level
    if paf_ci == "delta":
        se = math.sqrt(float(gradient @ fit.cov @ gradient))
        z = float(stats.norm.isf(alpha / 2))
        log_complement = math.log(1.0 - value)
        ci = (
            1.0 - math.exp(log_complement + z * se),
            1.0 - math.exp(log_complement - z * se),
        )
        return AttributableFraction(
            value, ci, target, method, "delta method on log(1 - PAF), covariates held fixed"
        )
    rng = np.random.default_rng(seed)
    draws = []
    n = len(data.event)
    for _ in range(n_bootstrap):
        sample = data.resample(rng.integers(0, n, n))
        sample_design = sample.design(interaction=interaction)
        try:
            sample_fit = _fit(sample, sample_design.names, sample_design.matrix)
        except SeparationError:
            continue
        draws.append(_paf_point_and_gradient(sample, sample_design, sample_fit)[0])
    if len(draws) < 0.9 * n_bootstrap:
        raise SeparationError(
            f"{n_bootstrap - len(draws)} of {n_bootstrap} bootstrap refits were separated: "
            "too few events per Mg category for a bootstrap interval; use the delta method"
        )
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return AttributableFraction(
        value,
        (float(low), float(high)),
        target,
        method,
        f"percentile bootstrap, {len(draws)} refits on resampled rows",
        seed=seed,
        n_bootstrap=n_bootstrap,
    )


def _spline(data: _Data, n_knots: int, level: float) -> SplineCurve:
    mg_dl = convert(data.frame[MG_COLUMN].to_numpy(), "mmol/L", "mg/dL", analyte="magnesium")
    knots = rcs_knots(mg_dl, n_knots)
    basis = rcs_basis(mg_dl, knots)
    spline_names = tuple(f"mg_rcs{j}" for j in range(basis.shape[1]))
    adjust_names, adjust_columns = _adjusters(data.frame, data.adjust)
    names = (*spline_names, _PHOSPHATE_TERM, *adjust_names)
    matrix = np.column_stack([basis, data.phosphate, *adjust_columns])
    _check_epv(data.event, len(names), data.model, None)
    fit = _fit(data, names, matrix)
    reference = parameters()["registry_spline_reference_mg"].to("mg/dL")
    low, high = (float(v) for v in np.quantile(mg_dl, [0.01, 0.99]))
    grid = np.linspace(low, high, 61)
    offset = 1 if data.model == "logistic" else 0
    index = slice(offset, offset + basis.shape[1])
    difference = rcs_basis(grid, knots) - rcs_basis(np.array([reference]), knots)
    log_ratio = difference @ fit.params[index]
    cov = fit.cov[index, index]
    se = np.sqrt(np.einsum("ij,jk,ik->i", difference, cov, difference))
    z = float(stats.norm.isf((1 - level) / 2))
    curve = pd.DataFrame(
        {
            "mg_mg_dl": grid,
            "ratio": np.exp(log_ratio),
            "ci_low": np.exp(log_ratio - z * se),
            "ci_high": np.exp(log_ratio + z * se),
        }
    )
    nonlinear = slice(offset + 1, offset + basis.shape[1])
    b = fit.params[nonlinear]
    wald = float(b @ np.linalg.solve(fit.cov[nonlinear, nonlinear], b))
    return SplineCurve(
        knots_mg_dl=tuple(float(k) for k in knots),
        reference_mg_dl=reference,
        curve=curve,
        nonlinearity_p_value=float(stats.chi2.sf(wald, basis.shape[1] - 1)),
    )
