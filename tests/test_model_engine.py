"""The modelling engine (`mgckd.model`, `mgckd.simulate`) on a small Mg model declared here.

The toy: gut lumen → plasma (saturable + paracellular absorption), plasma ↔ cells, urine
(GFR × ultrafilterable concentration × fractional excretion, GFR declining exponentially) and
feces. Its numbers are illustrative, not physiology (that is `mgckd.physiology`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.optimize import root

from mgckd.exceptions import ModelDefinitionError, SBMLExportError, ScenarioError, SimulationError
from mgckd.model import (
    TIME,
    Compartment,
    Flux,
    Model,
    Param,
    Rule,
    Species,
    compile_model,
    saturable,
    sym,
)
from mgckd.model import _compiled as compiled_module
from mgckd.model._units import unit_problems
from mgckd.simulate import (
    Dose,
    Rodas4,
    Scenario,
    ScipySolver,
    SetParameter,
    Status,
    Window,
    export_sbml,
    simulate,
    steady_state,
)
from mgckd.simulate import _rodas as rodas

HOURS_PER_YEAR = 24 * 365.25
HAS_ROADRUNNER = importlib.util.find_spec("roadrunner") is not None

gut, plasma, cell = sym("mg_gut"), sym("mg_plasma"), sym("mg_cell")

PARAMETERS = (
    Param("plasma_volume_l", "L", value=14.0),
    Param("gut_volume_l", "L", value=1.0),
    Param("cell_volume_l", "L", value=20.0),
    Param("intake_mmol_h", "mmol/h", value=0.5),
    Param("absorption_max_mmol_h", "mmol/h", value=0.15),
    Param("absorption_half_mmol", "mmol", value=0.5),
    Param("paracellular_per_h", "1/h", value=0.05),
    Param("transit_per_h", "1/h", value=0.4),
    Param("cell_uptake_per_h", "1/h", value=1.0),
    Param("cell_release_per_h", "1/h", value=0.1),
    Param("gfr_l_h", "L/h", value=7.2),
    Param("gfr_decline_per_h", "1/h", value=0.0),
    Param("ultrafilterable_fraction", "1", value=0.7),
    Param("fractional_excretion", "1", value=0.04),
)


def toy_model(*, extra_rules: tuple[Rule, ...] = ()) -> Model:
    """Three Mg pools (gut lumen, plasma, cells) with intake, absorption and excretion."""
    concentration = sym("plasma_mg_mmol_l")
    gfr = sym("gfr_now_l_h")
    return Model(
        name="toy_mg",
        compartments=(
            Compartment("gut", "gut_volume_l"),
            Compartment("plasma", "plasma_volume_l"),
            Compartment("cells", "cell_volume_l"),
        ),
        species=(
            Species("mg_gut", "gut", 1.0, element="Mg"),
            Species("mg_plasma", "plasma", 12.0, element="Mg"),
            Species("mg_cell", "cells", 100.0, element="Mg"),
        ),
        parameters=PARAMETERS,
        fluxes=(
            Flux.transfer("diet", sym("intake_mmol_h"), source=None, target="mg_gut"),
            Flux.transfer(
                "absorption",
                saturable(gut, sym("absorption_max_mmol_h"), sym("absorption_half_mmol"))
                + sym("paracellular_per_h") * gut,
                source="mg_gut",
                target="mg_plasma",
            ),
            Flux.transfer("feces", sym("transit_per_h") * gut, source="mg_gut", target=None),
            Flux.transfer(
                "cell_uptake",
                sym("cell_uptake_per_h") * plasma,
                source="mg_plasma",
                target="mg_cell",
            ),
            Flux.transfer(
                "cell_release",
                sym("cell_release_per_h") * cell,
                source="mg_cell",
                target="mg_plasma",
            ),
            Flux.transfer(
                "urine",
                gfr * sym("ultrafilterable_fraction") * concentration * sym("fractional_excretion"),
                source="mg_plasma",
                target=None,
            ),
        ),
        rules=(
            Rule("plasma_mg_mmol_l", plasma / sym("plasma_volume_l"), "mmol/L", observable=True),
            Rule(
                "gfr_now_l_h", sym("gfr_l_h") * sympy.exp(-sym("gfr_decline_per_h") * TIME), "L/h"
            ),
            *extra_rules,
        ),
    )


MODEL = toy_model()
COMPILED = compile_model(MODEL)


def _random_states(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, (3, n)) * np.array([[1.0], [12.0], [100.0]])


# --- declaration ---------------------------------------------------------------------------


def test_unknown_symbol_is_named() -> None:
    with pytest.raises(ModelDefinitionError, match=r"unknown symbol.*nope"):
        Model(
            "m",
            (Compartment("c", "v"),),
            (Species("a", "c", 1.0),),
            (Param("v", "L", value=1.0),),
            (Flux.transfer("f", sym("nope") * sym("a"), source="a", target=None),),
        )


def test_duplicate_name_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="reuses the name"):
        Model("m", (Compartment("v", "v"),), (), (Param("v", "L", value=1.0),), ())


def test_flux_that_creates_an_element_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="does not balance"):
        Model(
            "m",
            (Compartment("c", "v"),),
            (Species("a", "c", 1.0, element="Mg"), Species("b", "c", 1.0, element="Ca")),
            (Param("v", "L", value=1.0),),
            (Flux("f", sym("a"), (("a", -1.0), ("b", 1.0))),),
        )


def test_rule_cycle_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="cycle"):
        Model(
            "m",
            (Compartment("c", "v"),),
            (),
            (Param("v", "L", value=1.0),),
            (),
            (Rule("r1", sym("r2"), "1"), Rule("r2", sym("r1"), "1")),
        )


def test_parameter_needs_exactly_one_source() -> None:
    with pytest.raises(ModelDefinitionError, match="exactly one"):
        Model("m", (), (), (Param("v", "L"),), ())


def test_ledgers_book_boundary_fluxes_only() -> None:
    assert [(ledger.flux, ledger.coefficient) for ledger in MODEL.ledgers] == [
        ("diet", 1.0),
        ("feces", -1.0),
        ("urine", -1.0),
    ]


# --- generated code ------------------------------------------------------------------------


def test_generated_jacobian_matches_finite_differences() -> None:
    y = _random_states(4)
    p = COMPILED.parameter_array({"gfr_decline_per_h": 1e-3}, 4)
    t = 500.0
    jac = COMPILED.jacobian(t, y, p)
    step = 1e-6
    for j in range(3):
        dy = np.zeros_like(y)
        dy[j] = step * np.abs(y[j])
        numeric = (COMPILED.rhs(t, y + dy, p) - COMPILED.rhs(t, y - dy, p)) / (2 * dy[j])
        np.testing.assert_allclose(jac[:, :, j], numeric.T, rtol=1e-6, atol=1e-10)


def test_generated_time_derivative_matches_finite_differences() -> None:
    y = _random_states(2)
    p = COMPILED.parameter_array({"gfr_decline_per_h": 1e-3}, 2)
    numeric = (COMPILED.rhs(100.0 + 1e-3, y, p) - COMPILED.rhs(100.0 - 1e-3, y, p)) / 2e-3
    np.testing.assert_allclose(COMPILED.time_derivative(100.0, y, p), numeric, rtol=1e-6)
    assert not COMPILED.autonomous


def test_compiled_kernel_matches_the_vectorized_functions() -> None:
    """The scalar kernel (parameter-only terms taken out, `derive_into`) and the numpy
    functions come from the same expressions."""
    y = _random_states(3, seed=5)
    p = COMPILED.parameter_array({"gfr_decline_per_h": 1e-3}, 3)
    t = 250.0
    n, m = COMPILED.n_species, len(MODEL.ledgers)
    kernel = COMPILED.kernel
    jac = COMPILED.jacobian(t, y, p)
    ledger_jac = COMPILED.ledger_jacobian(t, y, p)
    for k in range(3):
        pk = COMPILED.kernel_parameters(p)[:, k].copy()
        kernel.derive_into(pk)
        np.testing.assert_array_equal(pk[: p.shape[0]], p[:, k])
        rates = np.empty(n + m)
        kernel.rates_into(t, y[:, k].copy(), pk, rates)
        np.testing.assert_allclose(rates, COMPILED.rates(t, y, p)[:, k], rtol=1e-13)
        dense, ledger_dense = np.zeros((n, n)), np.zeros((m, n))
        ft, bt = np.zeros(n), np.zeros(m)
        kernel.linearize_into(t, y[:, k].copy(), pk, dense, ledger_dense, ft, bt)
        np.testing.assert_allclose(dense, jac[k], rtol=1e-13)
        np.testing.assert_allclose(ledger_dense, ledger_jac[k], rtol=1e-13)
        np.testing.assert_allclose(ft, COMPILED.time_derivative(t, y, p)[:, k], rtol=1e-13)
        np.testing.assert_allclose(bt, COMPILED.ledger_time_derivative(t, y, p)[:, k], rtol=1e-13)
        rules = np.empty(len(MODEL.rules))
        kernel.rules_into(t, y[:, k].copy(), pk, rules)
        np.testing.assert_allclose(rules, COMPILED.rules(t, y, p)[:, k], rtol=1e-13)


def test_generated_code_is_kept_on_disk_per_declaration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MGCKD_CACHE_DIR", str(tmp_path))
    compile_model.cache_clear()  # only the cache directory may remember the toy
    first = compile_model(toy_model())
    assert len(list((tmp_path / "models").glob("toy_mg-*.json"))) == 1

    def no_generation(model: Model) -> None:
        raise AssertionError(f"{model.name} was generated again")

    monkeypatch.setattr(compiled_module, "_generate", no_generation)
    compile_model.cache_clear()
    again = compile_model(toy_model())  # an equal declaration: read from the cache directory
    assert again is not first
    assert again.source == first.source
    assert again.kernel_source == first.kernel_source
    with pytest.raises(AssertionError, match="generated again"):  # another declaration
        compile_model(toy_model(extra_rules=(Rule("twice", 2 * plasma, "mmol"),)))


def test_an_unreadable_cache_file_is_generated_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MGCKD_CACHE_DIR", str(tmp_path))
    compile_model.cache_clear()
    compile_model(toy_model())
    (cached,) = (tmp_path / "models").glob("toy_mg-*.json")
    cached.write_text("{half a file", encoding="utf-8")
    compile_model.cache_clear()
    rebuilt = compile_model(toy_model())
    assert rebuilt.source == COMPILED.source
    assert json.loads(cached.read_text(encoding="utf-8"))["source"] == COMPILED.source


def test_every_flux_and_rule_is_dimensionally_sound() -> None:
    assert unit_problems(MODEL) == []


def test_dimensional_analysis_catches_a_wrong_unit() -> None:
    broken = toy_model(extra_rules=(Rule("wrong", plasma + sym("gfr_l_h"), "mmol"),))
    problems = unit_problems(broken)
    assert len(problems) == 1
    assert "rule wrong" in problems[0]


# --- steady state --------------------------------------------------------------------------


def test_steady_state_solves_the_balance_equations() -> None:
    p = COMPILED.parameter_array({"intake_mmol_h": [0.2, 0.5, 2.0]}, 3)
    solved = steady_state(COMPILED, p)
    assert (solved.status == Status.SUCCESS).all()
    assert np.abs(COMPILED.rhs(0.0, solved.states, p) / solved.states).max() < 1e-12  # 1/h
    for k in range(3):
        independent = root(
            lambda y, k=k: COMPILED.rhs(0.0, y[:, None], p[:, [k]])[:, 0], [1, 12, 100]
        )
        np.testing.assert_allclose(solved.states[:, k], independent.x, rtol=1e-9)


def test_untreated_model_holds_its_steady_state_for_years() -> None:
    result = simulate(
        MODEL, Scenario(duration_h=5 * HOURS_PER_YEAR), save_at=[0, 5 * HOURS_PER_YEAR]
    )
    drift = np.abs(result.states[-1] / result.states[0] - 1)
    assert drift.max() < 1e-8


# --- the solver ----------------------------------------------------------------------------


def _linear_scenario() -> Scenario:
    """No saturation and no GFR decline: a linear system with an exact solution."""
    return Scenario(
        duration_h=2000.0,
        parameters={"absorption_max_mmol_h": 0.0},
        initial={"mg_gut": 5.0, "mg_plasma": 20.0, "mg_cell": 10.0},
    )


def test_rodas4_matches_the_exact_solution_of_a_linear_model() -> None:
    scenario = _linear_scenario()
    times = np.array([0.0, 1.0, 10.0, 100.0, 2000.0])
    result = simulate(MODEL, scenario, save_at=times, solver=Rodas4(rtol=1e-9, atol=1e-12))
    p = COMPILED.parameter_array(scenario.parameters)
    y0 = np.array([5.0, 20.0, 10.0])
    a = COMPILED.jacobian(0.0, y0[:, None], p)[0]
    b = COMPILED.rhs(0.0, np.zeros((3, 1)), p)[:, 0]
    steady = np.linalg.solve(a, -b)
    exact = np.array([steady + expm(a * t) @ (y0 - steady) for t in times])
    np.testing.assert_allclose(result.states[:, :, 0], exact, rtol=1e-7)


def _treated(n: int) -> Scenario:
    return Scenario(
        duration_h=300.0,
        n_patients=n,
        parameters={"gfr_decline_per_h": np.linspace(1e-4, 1e-3, n)},
        schedule=(
            Dose("mg_gut", np.linspace(0.0, 10.0, n), start_h=24.5, every_h=24.0, count=5),
            Window("transit_per_h", 1.2, start_h=100.25, duration_h=6.0, every_h=48.0, count=2),
            SetParameter("intake_mmol_h", 0.3, at_h=200.75),
        ),
    )


def test_rodas4_agrees_with_scipy_bdf_and_radau() -> None:
    scenario = _treated(3)
    times = np.linspace(0.0, 300.0, 31)
    ours = simulate(MODEL, scenario, save_at=times, solver=Rodas4(rtol=1e-7))
    for method in ("BDF", "Radau"):
        peer = simulate(
            MODEL, scenario, save_at=times, solver=ScipySolver(method, rtol=1e-9, atol=1e-12)
        )
        np.testing.assert_allclose(ours.states, peer.states, rtol=1e-6)
        np.testing.assert_allclose(ours.ledgers, peer.ledgers, rtol=1e-6, atol=1e-8)


def test_a_batch_equals_its_patients_one_by_one() -> None:
    batch = simulate(MODEL, _treated(4), save_at=[0.0, 150.0, 300.0])
    scenario = _treated(4)
    for k in (0, 3):
        one = Scenario(
            duration_h=300.0,
            parameters={"gfr_decline_per_h": float(scenario.parameters["gfr_decline_per_h"][k])},  # type: ignore[index]
            schedule=(
                Dose(
                    "mg_gut",
                    float(np.linspace(0.0, 10.0, 4)[k]),
                    start_h=24.5,
                    every_h=24.0,
                    count=5,
                ),
                *scenario.schedule[1:],
            ),
        )
        alone = simulate(MODEL, one, save_at=[0.0, 150.0, 300.0])
        np.testing.assert_allclose(batch.states[:, :, k], alone.states[:, :, 0], rtol=1e-6)


def test_a_batch_split_over_threads_equals_the_batch_in_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rodas.os, "cpu_count", lambda: 3)
    scenario = _treated(4 * rodas.MIN_PATIENTS_PER_THREAD)
    assert len(rodas._slices(scenario.n_patients)) == 3
    threaded = simulate(MODEL, scenario, save_at=[0.0, 150.0, 300.0])
    monkeypatch.setattr(rodas, "MIN_PATIENTS_PER_THREAD", scenario.n_patients + 1)
    single = simulate(MODEL, scenario, save_at=[0.0, 150.0, 300.0])
    np.testing.assert_array_equal(threaded.states, single.states)
    np.testing.assert_array_equal(threaded.ledgers, single.ledgers)
    assert dataclasses.astuple(threaded.stats) == dataclasses.astuple(single.stats)


def test_a_dose_adds_its_amount_and_a_window_restores_the_parameter() -> None:
    scenario = Scenario(
        duration_h=30.0,
        schedule=(
            Dose("mg_gut", 7.0, start_h=10.0),
            Window("intake_mmol_h", 3.0, start_h=20.0, duration_h=2.0),
        ),
    )
    result = simulate(MODEL, scenario, save_at=[0.0, 10.0, 30.0])
    gut_before = result.species("mg_gut")[0, 0]
    assert result.species("mg_gut")[1, 0] == pytest.approx(gut_before + 7.0, rel=1e-9)
    assert result.doses[-1, 0, 0] == 7.0
    diet = result.ledgers[-1, 0, 0]
    assert diet == pytest.approx(0.5 * 28.0 + 3.0 * 2.0, rel=1e-9)  # back to 0.5 mmol/h after


DRAWS = st.fixed_dictionaries(
    {
        "intake": st.floats(0.05, 3.0),
        "absorption_max": st.floats(0.0, 1.0),
        "decline": st.floats(0.0, 1e-3),
        "dose": st.floats(0.0, 50.0),
        "every": st.floats(6.0, 72.0),
        "window_value": st.floats(0.0, 5.0),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=DRAWS)
def test_mass_balance_closes_in_every_scenario(draw: dict[str, float]) -> None:
    scenario = Scenario(
        duration_h=1000.0,
        n_patients=2,
        parameters={
            "intake_mmol_h": [draw["intake"], 2 * draw["intake"]],
            "absorption_max_mmol_h": draw["absorption_max"],
            "gfr_decline_per_h": draw["decline"],
        },
        schedule=(
            Dose("mg_gut", [draw["dose"], 0.0], start_h=3.0, every_h=draw["every"], count=8),
            Window(
                "cell_release_per_h",
                draw["window_value"],
                start_h=50.0,
                duration_h=4.0,
                every_h=100.0,
                count=5,
            ),
        ),
    )
    result = simulate(MODEL, scenario, save_at=np.linspace(0.0, 1000.0, 11))
    assert np.abs(result.mass_balance_error("Mg")).max() < 1e-6


def test_mass_balance_check_can_fail() -> None:
    """Tampering with the ledgers after the fact is seen: the check is not vacuous."""
    result = simulate(MODEL, Scenario(duration_h=100.0), save_at=[0.0, 100.0])
    result.ledgers[-1, 0, 0] *= 1.001
    assert np.abs(result.mass_balance_error("Mg")).max() > 1e-6


# --- failure is data ------------------------------------------------------------------------


def test_a_failing_patient_is_reported_and_the_others_kept() -> None:
    scenario = Scenario(
        duration_h=100.0,
        n_patients=3,
        parameters={"gfr_decline_per_h": [0.0, -1000.0, 0.0]},  # patient 1: GFR explodes
        initial={"mg_gut": 1.0, "mg_plasma": 12.0, "mg_cell": 100.0},
    )
    result = simulate(MODEL, scenario, throw=False)
    assert result.status.tolist()[0] == Status.SUCCESS
    assert result.status[1] != Status.SUCCESS
    assert np.isfinite(result.states[:, :, [0, 2]]).all()
    assert "patient" in result.summary().columns
    with pytest.raises(SimulationError, match="patient 1"):
        simulate(MODEL, scenario)


def test_scenario_errors_name_the_field() -> None:
    with pytest.raises(ScenarioError, match=r"parameters\.gfr_ml_min"):
        simulate(MODEL, Scenario(duration_h=10.0, parameters={"gfr_ml_min": 1.0}))
    with pytest.raises(ScenarioError, match="save_at"):
        simulate(MODEL, Scenario(duration_h=10.0), save_at=[0.0, 20.0])
    with pytest.raises(ScenarioError, match="every_h"):
        Dose("mg_gut", 1.0, start_h=0.0, count=3)
    with pytest.raises(ScenarioError, match="unknown species"):
        simulate(MODEL, Scenario(duration_h=10.0, schedule=(Dose("mg_bone", 1.0, start_h=1.0),)))
    with pytest.raises(ScenarioError, match="overlaps"):
        Window("intake_mmol_h", 1.0, start_h=0.0, duration_h=30.0, every_h=24.0, count=2)


def test_result_frame_is_tidy() -> None:
    frame = simulate(MODEL, Scenario(duration_h=10.0, n_patients=2), save_at=[0.0, 10.0]).to_frame()
    assert len(frame) == 4
    assert {
        "patient",
        "time_h",
        "mg_plasma",
        "plasma_mg_mmol_l",
        "cumulative_urine_Mg",
        "status",
    } <= set(frame.columns)


# --- SBML ------------------------------------------------------------------------------------


def test_sbml_refuses_what_it_cannot_express() -> None:
    model = toy_model(
        extra_rules=(
            Rule("odd", sympy.erf(plasma / sym("plasma_volume_l") / sym("plasma_mg_mmol_l")), "1"),
        )
    )
    with pytest.raises(SBMLExportError, match="erf"):
        export_sbml(model, Scenario(duration_h=1.0))


@pytest.mark.skipif(not HAS_ROADRUNNER, reason="libroadrunner (the 'peers' extra) is not installed")
def test_exported_sbml_in_roadrunner_reproduces_the_native_solver() -> None:
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415

    scenario = _treated(2)
    times = np.append(0.0, np.linspace(0.1, 299.9, 30))  # off the event times
    native = simulate(MODEL, scenario, save_at=times, solver=Rodas4(rtol=1e-7))
    for patient in (0, 1):
        runner = load_roadrunner(export_sbml(MODEL, scenario, patient=patient))
        peer = run_roadrunner(runner, times, MODEL.species_names)
        for i, name in enumerate(MODEL.species_names):
            np.testing.assert_allclose(peer[name], native.states[:, i, patient], rtol=1e-5)


def test_a_singular_matrix_fails_only_its_own_patient() -> None:
    from mgckd.simulate._steady import solve_each  # noqa: PLC0415

    a = np.stack([np.eye(2), np.zeros((2, 2)), 2.0 * np.eye(2)])
    solved = solve_each(a, np.ones((3, 2, 1)))
    assert np.isnan(solved[1]).all()
    np.testing.assert_allclose(solved[[0, 2], :, 0], [[1.0, 1.0], [0.5, 0.5]])
