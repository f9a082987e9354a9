"""Registry analysis: reading units, categories, splines, model fits against hand likelihoods,
clear errors, attributable fractions, figures and the synthetic registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from mgckd.evidence import (
    SynthSpec,
    analyze_registry,
    categorize_mg,
    plot_mg_spline,
    plot_phosphate_by_mg,
    prepare_registry,
    rcs_basis,
    rcs_knots,
    registry_figure,
    synthesize_registry,
)
from mgckd.exceptions import (
    ImplausibleValueError,
    MissingColumnError,
    SeparationError,
    TooFewEventsError,
    UnitError,
    UserInputError,
)
from mgckd.labs import hemodialysis_band
from mgckd.units import convert


def _table(n: int = 3000, seed: int = 11, **overrides: object) -> pd.DataFrame:
    settings: dict[str, object] = {"event_risk": 0.2, **overrides}
    spec = SynthSpec.from_parameters(n=n, **settings)
    return synthesize_registry(spec, seed=seed).table


def _prepared(n: int = 3000, seed: int = 11, **overrides: object) -> pd.DataFrame:
    return prepare_registry(_table(n, seed, **overrides))[0]


# --- reading -----------------------------------------------------------------------------------


def test_units_come_from_the_header_and_are_converted() -> None:
    table = pd.DataFrame({"mg [mg/dL]": [2.43], "phosphate [mmol/L]": [1.5], "y": [0]})
    frame, (mg, phosphate) = prepare_registry(table)
    assert frame["mg_mmol_l"].iloc[0] == pytest.approx(
        convert(2.43, "mg/dL", "mmol/L", analyte="magnesium")
    )
    assert frame["phosphate_mmol_l"].iloc[0] == pytest.approx(1.5)
    assert (mg.unit, phosphate.unit) == ("mg/dL", "mmol/L")


def test_a_unitless_header_needs_the_option() -> None:
    table = pd.DataFrame({"magnesium": [0.9], "p [mg/dL]": [5.0]})
    with pytest.raises(UnitError, match="--mg-unit"):
        prepare_registry(table)
    frame, _ = prepare_registry(table, mg_unit="mmol/L")
    assert frame["mg_mmol_l"].iloc[0] == pytest.approx(0.9)
    with pytest.raises(UnitError, match="says mmol/L but --mg-unit says mg/dL"):
        prepare_registry(table.rename(columns={"magnesium": "mg [mmol/L]"}), mg_unit="mg/dL")


@pytest.mark.parametrize(
    ("table", "error", "message"),
    [
        (pd.DataFrame({"p [mg/dL]": [5.0]}), MissingColumnError, "no magnesium column"),
        (pd.DataFrame({"mg [mg/dL]": [2.0]}), MissingColumnError, "no phosphate column"),
        (pd.DataFrame({"mg [mg/dL]": [2.0], "p [mEq/L]": [5.0]}), UnitError, "phosphate"),
        (
            pd.DataFrame({"mg [mmol/L]": [0.9, 25.0], "p [mg/dL]": [5.0, 5.0]}),
            ImplausibleValueError,
            "row 2",
        ),
        (pd.DataFrame({"mg [mg/dL]": ["x"], "p [mg/dL]": [5.0]}), UserInputError, "not a number"),
    ],
)
def test_reading_errors_name_the_problem(
    table: pd.DataFrame, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        prepare_registry(table)


# --- categories and splines --------------------------------------------------------------------


def test_hemodialysis_categories_are_the_labs_bands() -> None:
    mg = convert(np.array([2.0, 2.69, 2.7, 3.0, 3.1, 3.5]), "mg/dL", "mmol/L", analyte="magnesium")
    categories, labels = categorize_mg("hemodialysis", mg)
    assert list(labels) == list(hemodialysis_band(mg))
    assert list(labels) == ["<2.7", "<2.7", "2.7 to <3.1", "2.7 to <3.1", ">=3.1", ">=3.1"]
    assert categories.reference == "<2.7"
    assert categories.paf_reference == "2.7 to <3.1"


def test_quantile_and_cut_point_categories() -> None:
    mg_dl = np.linspace(1.5, 3.5, 101)
    mg = convert(mg_dl, "mg/dL", "mmol/L", analyte="magnesium")
    categories, labels = categorize_mg("quantiles:4", mg)
    assert len(categories.labels) == 4
    assert abs(np.sum(labels == categories.labels[0]) - 25) <= 1
    categories, labels = categorize_mg([2.3, 2.9], mg)
    assert categories.labels == ("<2.3", "2.3 to <2.9", ">=2.9")
    assert labels[np.argmin(np.abs(mg_dl - 2.3))] == "2.3 to <2.9"
    with pytest.raises(UserInputError, match="increasing"):
        categorize_mg([2.9, 2.3], mg)
    with pytest.raises(UserInputError, match="quantiles"):
        categorize_mg("tertiles", mg)


def test_restricted_cubic_spline_is_linear_outside_the_knots() -> None:
    knots = np.array([1.8, 2.4, 2.8, 3.4])
    x = np.linspace(0.5, 5.0, 901)
    basis = rcs_basis(x, knots)
    assert basis.shape == (901, 3)
    second = np.diff(basis, n=2, axis=0)
    outside = (x[1:-1] < knots[0] - 0.01) | (x[1:-1] > knots[-1] + 0.01)
    inside = (x[1:-1] > knots[0] + 0.05) & (x[1:-1] < knots[-1] - 0.05)
    assert np.abs(second[outside]).max() < 1e-10
    assert np.abs(second[inside, 1:]).max() > 1e-6
    assert np.all(basis[x < knots[0], 1:] == 0)


def test_spline_knots_at_harrell_quantiles() -> None:
    values = np.arange(1, 101, dtype=float)
    assert rcs_knots(values, 3) == pytest.approx(np.quantile(values, [0.1, 0.5, 0.9]))
    with pytest.raises(UserInputError, match="3, 4 or 5"):
        rcs_knots(values, 6)


# --- model fits against hand-written likelihoods -----------------------------------------------


def test_logistic_coefficients_maximize_the_bernoulli_likelihood() -> None:
    frame = _prepared(n=2000)
    result = analyze_registry(
        frame, outcome="cv_death_1y", adjust=["age_years"], paf=False, spline_knots=None
    )
    assert result._fit is not None
    labels = categorize_mg("hemodialysis", frame["mg_mmol_l"].to_numpy())[1]
    p = (frame["phosphate_mmol_l"] - convert(6.0, "mg/dL", "mmol/L", analyte="phosphate")) / (
        convert(1.0, "mg/dL", "mmol/L", analyte="phosphate")
    )
    x = np.column_stack(
        [
            np.ones(len(frame)),
            labels == "2.7 to <3.1",
            labels == ">=3.1",
            p,
            (labels == "2.7 to <3.1") * p,
            (labels == ">=3.1") * p,
            frame["age_years"],
        ]
    ).astype(float)
    y = frame["cv_death_1y"].to_numpy(dtype=float)

    def negative_log_likelihood(beta: np.ndarray) -> float:
        eta = x @ beta
        return float(np.sum(np.logaddexp(0, eta) - y * eta))

    found = optimize.minimize(
        negative_log_likelihood, np.zeros(x.shape[1]), method="BFGS", options={"gtol": 1e-9}
    )
    assert result.coefficients["log_ratio"].to_numpy() == pytest.approx(found.x, abs=1e-4)


def test_cox_coefficients_maximize_the_partial_likelihood() -> None:
    table = _table(n=1500, seed=5, effect_scale="hazard", event_risk=0.4)
    frame = prepare_registry(table)[0]
    result = analyze_registry(
        frame,
        outcome="cv_death",
        model="cox",
        time="time_years",
        adjust=["diabetes"],
        interaction=False,
        paf=False,
        spline_knots=None,
    )
    assert result._fit is not None
    labels = categorize_mg("hemodialysis", frame["mg_mmol_l"].to_numpy())[1]
    p = (frame["phosphate_mmol_l"] - convert(6.0, "mg/dL", "mmol/L", analyte="phosphate")) / (
        convert(1.0, "mg/dL", "mmol/L", analyte="phosphate")
    )
    x = np.column_stack([labels == "2.7 to <3.1", labels == ">=3.1", p, frame["diabetes"]]).astype(
        float
    )
    time = frame["time_years"].to_numpy()
    event = frame["cv_death"].to_numpy(dtype=bool)
    order = np.argsort(-time, kind="stable")  # risk sets as cumulative sums, longest time first
    x_sorted, event_sorted = x[order], event[order]
    assert len(np.unique(time[event])) == event.sum()  # no tied event times: Efron = Breslow

    def negative_log_partial_likelihood(beta: np.ndarray) -> float:
        eta = x_sorted @ beta
        log_risk_set = np.logaddexp.accumulate(eta)
        return -float(np.sum((eta - log_risk_set)[event_sorted]))

    found = optimize.minimize(
        negative_log_partial_likelihood, np.zeros(4), method="BFGS", options={"gtol": 1e-9}
    )
    assert result.coefficients["log_ratio"].to_numpy() == pytest.approx(found.x, abs=1e-4)


def test_within_stratum_phosphate_ratio_is_main_plus_interaction() -> None:
    result = analyze_registry(_prepared(), outcome="cv_death_1y", paf=False, spline_knots=None)
    coef = result.coefficients.set_index("term")["log_ratio"]
    by_mg = result.phosphate_by_mg.set_index("mg_category")["log_ratio"]
    assert by_mg["<2.7"] == pytest.approx(coef["phosphate"])
    assert by_mg[">=3.1"] == pytest.approx(coef["phosphate"] + coef["phosphate:mg[>=3.1]"])
    assert result.interaction is not None
    assert result.interaction.df == 2


# --- clear errors ------------------------------------------------------------------------------


def test_too_few_events() -> None:
    frame = _prepared(n=300, event_risk=0.03)
    with pytest.raises(TooFewEventsError, match=r"events for \d+ coefficients"):
        analyze_registry(frame, outcome="cv_death_1y", adjust=["age_years", "sex", "diabetes"])


def test_a_category_without_events_is_separation() -> None:
    frame = _prepared(n=3000)
    frame.loc[
        frame["mg_mmol_l"] >= convert(3.1, "mg/dL", "mmol/L", analyte="magnesium"), "cv_death_1y"
    ] = 0
    with pytest.raises(SeparationError, match=r">=3.1 has no events"):
        analyze_registry(frame, outcome="cv_death_1y")


def test_a_perfectly_predicting_adjuster_is_separation() -> None:
    frame = _prepared(n=3000)
    frame["marker"] = frame["cv_death_1y"] * 10.0 + np.linspace(0, 1, len(frame))
    with pytest.raises(SeparationError, match="separated"):
        analyze_registry(frame, outcome="cv_death_1y", adjust=["marker"], spline_knots=None)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"outcome": "nope"}, MissingColumnError, "'nope'"),
        ({"outcome": "age_years"}, UserInputError, "0/1"),
        ({"outcome": "cv_death", "model": "cox"}, UserInputError, "--time"),
        ({"outcome": "cv_death_1y", "paf_ci": "bootstrap"}, UserInputError, "seed"),
        ({"outcome": "cv_death_1y", "model": "probit"}, UserInputError, "logistic or cox"),
    ],
)
def test_option_errors(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        analyze_registry(_prepared(n=500), **kwargs)  # type: ignore[arg-type]


def test_unprepared_table_is_told_how() -> None:
    with pytest.raises(MissingColumnError, match="prepare_registry"):
        analyze_registry(_table(n=200), outcome="cv_death_1y")


# --- attributable fraction ---------------------------------------------------------------------


def test_paf_is_standardized_risk_reduction() -> None:
    frame = _prepared()
    result = analyze_registry(frame, outcome="cv_death_1y", interaction=False, spline_knots=None)
    assert result.paf is not None
    coef = result.coefficients.set_index("term")["log_ratio"]
    labels = categorize_mg("hemodialysis", frame["mg_mmol_l"].to_numpy())[1]
    p = (frame["phosphate_mmol_l"] - convert(6.0, "mg/dL", "mmol/L", analyte="phosphate")) / (
        convert(1.0, "mg/dL", "mmol/L", analyte="phosphate")
    )
    base = coef["const"] + coef["phosphate"] * p
    observed = (
        base
        + coef["mg[2.7 to <3.1]"] * (labels == "2.7 to <3.1")
        + coef["mg[>=3.1]"] * (labels == ">=3.1")
    )
    moved = base + coef["mg[2.7 to <3.1]"]
    risk = 1 / (1 + np.exp(-observed))
    risk_moved = 1 / (1 + np.exp(-moved))
    assert result.paf.value == pytest.approx(1 - risk_moved.sum() / risk.sum(), rel=1e-9)
    assert result.paf.ci[0] < result.paf.value < result.paf.ci[1]
    assert "delta" in result.paf.ci_method


def test_bootstrap_paf_is_reproducible_from_its_seed() -> None:
    frame = _prepared(n=2000)
    kwargs = {
        "outcome": "cv_death_1y",
        "paf_ci": "bootstrap",
        "n_bootstrap": 30,
        "spline_knots": None,
    }
    first = analyze_registry(frame, seed=4, **kwargs)  # type: ignore[arg-type]
    again = analyze_registry(frame, seed=4, **kwargs)  # type: ignore[arg-type]
    other = analyze_registry(frame, seed=5, **kwargs)  # type: ignore[arg-type]
    assert first.paf is not None
    assert again.paf is not None
    assert other.paf is not None
    assert first.paf.ci == again.paf.ci
    assert first.paf.ci != other.paf.ci
    assert first.metadata["seed"] == 4


# --- results, figures, synthetic registry --------------------------------------------------------


def test_result_tables_text_and_figures() -> None:
    result = analyze_registry(
        _prepared(), outcome="cv_death_1y", adjust=["age_years", "sex"], population="synthetic"
    )
    frame = result.to_frame()
    assert set(frame["section"]) == {"coefficient", "phosphate_by_mg", "mg_by_category", "paf"}
    data = result.to_dict()
    assert data["population"] == "synthetic"
    assert "not causal" in data["note"]
    assert "Mg × phosphate interaction" in result.summary()
    assert result.spline is not None
    reference = result.spline.reference_mg_dl
    curve = result.spline.curve
    at_reference = np.interp(reference, curve["mg_mg_dl"], curve["ratio"])
    assert at_reference == pytest.approx(1.0, abs=0.02)
    ax = plot_phosphate_by_mg(result)
    assert len(ax.get_lines()) == 1 + len(result.categories.labels)  # + reference line
    assert plot_mg_spline(result).get_yscale() == "log"
    assert len(registry_figure(result).axes) == 2


def test_synthetic_registry_is_seeded_and_calibrated() -> None:
    spec = SynthSpec.from_parameters(n=20000)
    first = synthesize_registry(spec, seed=3)
    again = synthesize_registry(spec, seed=3)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table.equals(synthesize_registry(spec, seed=4).table)
    assert first.metadata["seed"] == 3
    # calibrated to the JSDT 1-year CV death risk, 4,751 / 142,069
    assert first.table["cv_death_1y"].mean() == pytest.approx(0.0334, abs=0.004)
    mg = first.table["mg [mg/dL]"]
    assert mg.mean() == pytest.approx(2.6, abs=0.02)
    assert 2.2 <= mg.quantile(0.25) <= 2.4
    assert 2.8 <= mg.quantile(0.75) <= 3.0
    planted = first.planted
    assert planted["phosphate:mg[>=3.1]"] == pytest.approx(np.log(1.0) - np.log(1.2))
    assert spec.without_interaction().planted()["phosphate:mg[>=3.1]"] == 0.0
    with pytest.raises(UserInputError, match="unknown"):
        SynthSpec.from_parameters(sample_size=3)
