"""CPP kinetics: rate laws, mass conservation, and the vectorized solver against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mgckd.chemistry import speciate
from mgckd.cpp import (
    AssayProtocol,
    DormandPrince,
    KineticParameters,
    half_conversion_time_min,
    reference_serum,
)
from mgckd.cpp._kinetics import (
    conserved_totals,
    fluxes,
    inhibition_factor,
    integrate,
    ln_nucleation_rate,
    mineral_drive,
    stoichiometry,
    supersaturation_offsets,
)
from mgckd.cpp._serum import concat_serum
from mgckd.cpp._solver import SolverStatus, solve

PARAMS = KineticParameters.from_registry()
PROTOCOL = AssayProtocol.from_registry()


@pytest.fixture(scope="module")
def drive():  # type: ignore[no-untyped-def]
    """The mixed T50 wells of the three reference sera."""
    sample = concat_serum([reference_serum(n) for n in ("normal", "ckd", "hemodialysis")])
    phi = PROTOCOL.serum_volume_fraction
    well = speciate(PROTOCOL.well(sample.composition))
    return mineral_drive(well, phi * sample.fetuin_a_g_l, phi * sample.pyrophosphate_umol_l, PARAMS)


def test_stoichiometry_conserves_calcium_and_phosphate() -> None:
    n = stoichiometry()
    ca_p_amorphous, ca_p_crystalline = 1.5, 5.0 / 3.0  # Ca3(PO4)2 and Ca5(PO4)3OH
    assert np.allclose(np.array([1.0, 0.0, 1.0, 1.0]) @ n, 0.0)
    assert np.allclose(np.array([0.0, 1.0, 1.0 / ca_p_amorphous, 1.0 / ca_p_crystalline]) @ n, 0.0)


def test_mass_is_conserved_along_the_assay(drive) -> None:  # type: ignore[no-untyped-def]
    times = PROTOCOL.read_times_min()
    y = integrate(drive, PARAMS, times).y
    totals = conserved_totals(y)  # (2, samples, times)
    start = totals[..., :1]
    assert np.max(np.abs(totals / start - 1.0)) < 1e-12
    assert np.all(y[2:, :, -1] > 0)  # particles formed
    assert np.all(y[:2] > 0)  # never more mineral taken than there is


def test_cpp1_form_until_the_well_is_at_acp_saturation(drive) -> None:  # type: ignore[no-untyped-def]
    y = integrate(drive, PARAMS, np.array([0.0, 60.0])).y[..., -1]
    offsets = supersaturation_offsets(drive)
    formation = fluxes(y, offsets, drive.inhibition, PARAMS)[0]
    assert np.all(formation < 1e-3 * PARAMS.cpp1_formation_rate_mmol_l_min)
    assert np.all(y[2] > 5.0)  # most Ca of the spike went into CPP1 within the hour


def test_nucleation_follows_classical_nucleation_theory() -> None:
    ln_s = np.array([PARAMS.reference_ln_s, 3.5, 3.0, -0.1])
    rates = ln_nucleation_rate(ln_s, PARAMS)
    assert rates[0] == pytest.approx(PARAMS.nucleation_ln_rate_reference)
    expected = PARAMS.nucleation_ln_rate_reference - PARAMS.nucleation_barrier * (
        1.0 / 3.5**2 - 1.0 / PARAMS.reference_ln_s**2
    )
    assert rates[1] == pytest.approx(expected)
    assert rates[0] > rates[1] > rates[2]
    assert np.exp(rates[3]) == 0.0  # undersaturated: no nucleation


def test_each_inhibitor_halves_the_rates_at_its_constant() -> None:
    p = PARAMS
    assert inhibition_factor(p.mg_half_inhibition_mmol_l, 0.0, 0.0, p) == pytest.approx(0.5)
    assert inhibition_factor(0.0, p.fetuin_a_half_shielding_g_l, 0.0, p) == pytest.approx(0.5)
    assert inhibition_factor(0.0, 0.0, p.pyrophosphate_half_inhibition_umol_l, p) == (
        pytest.approx(0.5)
    )


def test_closed_form_half_time_matches_the_ode() -> None:
    """dX/dt = (k_n + k_g X)(1 - X) integrated numerically vs t½ = ln(2 + r)/(k_n + k_g)."""
    kn, kg = np.array([1e-4, 1e-6]), np.array([0.05, 0.08])

    def rhs(y: np.ndarray, index: np.ndarray) -> np.ndarray:
        return (kn[index] + kg[index] * y) * (1.0 - y)

    times = np.linspace(0.0, 400.0, 4001)
    x = solve(rhs, np.zeros((1, 2)), times, DormandPrince(rtol=1e-10, atol=1e-14)).y[0]
    numeric = [np.interp(0.5, x[i], times) for i in range(2)]
    assert half_conversion_time_min(np.log(kn), kg) == pytest.approx(numeric, abs=1e-3)


def test_solver_matches_scipy_on_the_cpp_ode(drive) -> None:  # type: ignore[no-untyped-def]
    """Both converge to the same curves; the nucleation burst at mixing needs tight tolerances
    (at rtol 1e-10 both codes still differ by 1e-3 in the rising CPP2, a 0.01-min shift)."""
    times = np.linspace(0.0, 600.0, 61)
    ours = integrate(drive, PARAMS, times, DormandPrince(rtol=1e-12, atol=1e-16)).y
    matrix, offsets = stoichiometry(), supersaturation_offsets(drive)
    for i in range(len(drive)):  # SciPy, one sample at a time, as the reference

        def rhs(_t: float, y: np.ndarray, i: int = i) -> np.ndarray:
            column = y[:, None]
            j = fluxes(column, offsets[:, [i]], drive.inhibition[[i]], PARAMS)
            return (matrix @ j)[:, 0]

        y0 = ours[:, i, 0]
        theirs = solve_ivp(
            rhs, (0.0, 600.0), y0, method="DOP853", t_eval=times, rtol=1e-12, atol=1e-16
        ).y
        assert np.allclose(ours[:, i], theirs, rtol=1e-5, atol=1e-9)


def test_solver_matches_scipy_on_lotka_volterra() -> None:
    """A classic non-linear test problem, a different parameter set per sample."""
    a = np.array([1.0, 1.5, 0.7])

    def ours_rhs(y: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.stack([a[index] * y[0] - y[0] * y[1], y[0] * y[1] - y[1]])

    times = np.linspace(0.0, 15.0, 31)
    y0 = np.array([[10.0, 5.0, 2.0], [5.0, 2.0, 1.0]])
    ours = solve(ours_rhs, y0, times, DormandPrince(rtol=1e-10, atol=1e-12))
    assert (ours.status == SolverStatus.CONVERGED.value).all()
    for i in range(3):
        theirs = solve_ivp(
            lambda _t, y, i=i: [a[i] * y[0] - y[0] * y[1], y[0] * y[1] - y[1]],
            (0.0, 15.0),
            y0[:, i],
            method="DOP853",
            t_eval=times,
            rtol=1e-12,
            atol=1e-14,
        ).y
        assert np.allclose(ours.y[:, i], theirs, rtol=1e-7, atol=1e-9)


def test_a_sample_that_blows_up_is_reported_not_hidden() -> None:
    def rhs(y: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.array([[1.0, 1.0]])[:, index] * y**2  # y' = y², finite-time blow-up for y0 = 1

    result = solve(
        rhs, np.array([[1.0, -1.0]]), np.array([0.0, 0.5, 2.0]), DormandPrince(max_steps=2000)
    )
    assert result.status[0] != SolverStatus.CONVERGED.value
    assert np.isnan(result.y[0, 0, -1])
    assert result.status[1] == SolverStatus.CONVERGED.value  # y' = y², y0 = -1 decays
    assert result.y[0, 1, -1] == pytest.approx(-1.0 / 3.0, rel=1e-7)


def test_overrides_do_not_touch_the_registry() -> None:
    moved = KineticParameters.from_registry({"cpp_nucleation_barrier": 1.0})
    assert moved.nucleation_barrier == 1.0
    assert KineticParameters.from_registry().nucleation_barrier == PARAMS.nucleation_barrier
    with pytest.raises(KeyError, match="not a kinetic parameter"):
        KineticParameters.from_registry({"t50_assay_ph": 7.0})


def test_fluxes_use_the_nucleation_law() -> None:
    """J2 of a pure CPP1 pool is f k_n(S) CPP1; the fast flux code agrees with the readable law."""
    ln_s = np.array([3.2, 3.6, 4.1])
    offsets = np.stack([np.zeros(3), ln_s])  # at Ca = P = 1 mmol/L: ln S = the offsets
    y = np.array([[1.0] * 3, [1.0] * 3, [2.0] * 3, [0.0] * 3])
    f = np.array([0.1, 0.2, 0.3])
    j2 = fluxes(y, offsets, f, PARAMS)[1]
    assert j2 == pytest.approx(f * np.exp(ln_nucleation_rate(ln_s, PARAMS)) * 2.0, rel=1e-12)
