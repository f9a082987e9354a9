"""Plasma speciation: solver, constant sets, compositions, failure reporting, result tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mgckd.chemistry import (
    CONSTANT_SETS,
    PHASES,
    PlasmaComposition,
    Speciation,
    Status,
    constant_set,
    log_gamma_davies,
    log_gamma_truesdell_jones,
    ph_from_bicarbonate,
    plasma_composition,
    reference_plasma,
    speciate,
    total_co2,
    uremic_anion_from_anion_gap,
)
from mgckd.chemistry import random_plasma as _random_plasma
from mgckd.chemistry._constants import ActivityKind
from mgckd.chemistry._solver import Code, solve, structure
from mgckd.chemistry._speciate import _totals_mol_l
from mgckd.exceptions import SpeciationError, UserInputError
from mgckd.params import parameters


def random_plasma(n: int, seed: int, *, albumin: bool = True) -> PlasmaComposition:
    return _random_plasma(n, rng=np.random.default_rng(seed), albumin=albumin)


# --- mass balance and mass action ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONSTANT_SETS))
def test_solution_satisfies_every_mass_balance(name: str) -> None:
    comp = random_plasma(300, seed=1)
    result = speciate(comp, constants=name)
    cs = result.constants
    totals = {
        "Ca": comp.calcium_mmol_l,
        "Mg": comp.magnesium_mmol_l,
        "Na": comp.sodium_mmol_l,
        "K": comp.potassium_mmol_l,
        "CO3": comp.total_co2_mmol_l,
        "PO4": comp.phosphate_mmol_l,
        "SO4": comp.sulfate_mmol_l,
        "Cit": comp.citrate_mmol_l,
        "Lac": comp.lactate_mmol_l,
        "Cl": comp.chloride_mmol_l,
        "U": comp.uremic_anion_mmol_l,
    }
    c = result.concentration_mmol_l
    for m, metal in enumerate(cs.metals):
        np.testing.assert_allclose(c[cs.metal_index == m].sum(axis=0), totals[metal], rtol=1e-7)
    for j, ligand in enumerate(cs.ligands):
        found = c[cs.ligand_index == j].sum(axis=0)
        if ligand == "Alb":
            sites = comp.albumin_g_l * cs.albumin_sites_mol_per_g * 1e3
            np.testing.assert_allclose(found, sites, rtol=1e-7)
        else:
            np.testing.assert_allclose(found, totals[ligand], rtol=1e-7)


def test_solution_satisfies_mass_action_with_activities() -> None:
    comp = random_plasma(50, seed=2)
    result = speciate(comp, constants="phreeqc")
    cs = result.constants
    log_a = {name: result.log_activity(name) for name in cs.species}
    log_h = -comp.ph
    for s, name in enumerate(cs.species):
        if cs.is_master[s]:
            continue
        expected = cs.log_k[s] + cs.protons[s] * log_h + cs.water[s] * result.log_water_activity
        if cs.metal_index[s] >= 0:
            expected = expected + log_a[_master(cs, "M", cs.metal_index[s])]
        if cs.ligand_index[s] >= 0:
            expected = expected + log_a[_master(cs, "L", cs.ligand_index[s])]
        np.testing.assert_allclose(log_a[name], expected, atol=1e-9, err_msg=name)


def _master(cs: object, kind: str, index: int) -> str:
    for s, name in enumerate(cs.species):  # type: ignore[attr-defined]
        metal, ligand = cs.metal_index[s], cs.ligand_index[s]  # type: ignore[attr-defined]
        if cs.is_master[s] and (metal if kind == "M" else ligand) == index:  # type: ignore[attr-defined]
            return str(name)
    raise KeyError(index)


def test_ionic_strength_is_that_of_the_solution() -> None:
    comp = random_plasma(40, seed=3)
    result = speciate(comp, constants="plasma")
    cs = result.constants
    carries = cs.activity_kind != ActivityKind.CONDITIONAL
    ionic = 0.5 * ((cs.charge**2 * carries) @ result.concentration_mmol_l) * 1e-3
    np.testing.assert_allclose(result.ionic_strength_mol_l, ionic, rtol=1e-7)


def test_batch_equals_one_sample_at_a_time() -> None:
    comp = random_plasma(20, seed=4)
    batch = speciate(comp, chunk_size=7).to_frame()
    for i in range(len(comp)):
        one = speciate(comp.take([i])).to_frame()
        row = batch.iloc[[i]].reset_index(drop=True).drop(columns=["iterations"])
        pd.testing.assert_frame_equal(row, one.drop(columns=["iterations"]), rtol=1e-7)


def test_threads_and_chunks_do_not_change_results() -> None:
    comp = random_plasma(500, seed=5)
    one = speciate(comp, chunk_size=10_000, workers=1).free_mol_l
    many = speciate(comp, chunk_size=64, workers=2).free_mol_l
    np.testing.assert_allclose(many, one, rtol=1e-7)


def test_absent_components_are_handled() -> None:
    comp = PlasmaComposition(
        calcium_mmol_l=2.4,
        magnesium_mmol_l=0.0,
        phosphate_mmol_l=0.0,
        sodium_mmol_l=140,
        potassium_mmol_l=0.0,
        chloride_mmol_l=104,
        total_co2_mmol_l=25,
        sulfate_mmol_l=0.0,
        citrate_mmol_l=0.0,
        lactate_mmol_l=0.0,
        albumin_g_l=0.0,
        uremic_anion_mmol_l=0.0,
        ph=7.4,
    )
    result = speciate(comp)
    frame = result.to_frame()
    assert frame["status"].item() == "converged"
    assert frame["mg_ionized_mmol_l"].item() == 0.0
    assert frame["si_hydroxyapatite"].item() == -math.inf  # no phosphate, no apatite
    assert 0.0 < frame["ca_ionized_fraction"].item() < 1.0


# --- activity model -----------------------------------------------------------------------------


def test_activity_equations() -> None:
    # Davies and Truesdell-Jones at I = 0.15 with the 37 °C A and B of the registry
    a = parameters()["debye_huckel_a_37c"].to("kg**0.5/mol**0.5")
    b = parameters()["debye_huckel_b_37c"].to("kg**0.5/mol**0.5/angstrom")
    root = math.sqrt(0.15)
    davies = log_gamma_davies(2, 0.15, a=a, linear=0.3)
    assert davies == pytest.approx(-4 * a * (root / (1 + root) - 0.045))
    tj = log_gamma_truesdell_jones(2, 0.15, a=a, b=b, ion_size_angstrom=5.0, b_dot_kg_mol=0.165)
    assert tj == pytest.approx(-4 * a * root / (1 + b * 5.0 * root) + 0.165 * 0.15)
    assert log_gamma_davies(0, 0.15, a=a, linear=0.3) == 0.0


def test_activity_kinds_follow_the_phreeqc_rule() -> None:
    cs = constant_set("plasma")
    kind = dict(zip(cs.species, cs.activity_kind, strict=True))
    assert kind["Ca+2"] == ActivityKind.TRUESDELL_JONES  # -gamma 5.0 0.165 in phreeqc.dat
    assert kind["CaHPO4"] == ActivityKind.NEUTRAL
    assert kind["CaOH+"] == ActivityKind.DAVIES  # no -gamma in phreeqc.dat
    assert kind["CaCit-"] == ActivityKind.DAVIES
    assert kind["CaAlb"] == ActivityKind.CONDITIONAL


def test_constant_sets_differ_only_by_the_plasma_terms() -> None:
    phreeqc, plasma = constant_set("phreeqc"), constant_set("plasma")
    extra = set(plasma.species) - set(phreeqc.species)
    assert extra == {"Alb", "HAlb", "CaAlb", "MgAlb", "U", "CaU", "MgU"}
    for name in phreeqc.species:
        assert plasma.log_k[plasma.index(name)] == phreeqc.log_k[phreeqc.index(name)]
    assert plasma.parameters_used
    with pytest.raises(UserInputError, match="not one of"):
        constant_set("minteq")


def test_temperature_correction_follows_van_t_hoff() -> None:
    # CaHPO4 as written: Ca+2 + HPO4-2 = CaHPO4, log K 2.739, delta_h 3.3 kcal/mol (phreeqc.dat)
    cs = constant_set("phreeqc")
    r = 8.314462618
    expected = 2.739 - 3.3 * 4184 / (r * math.log(10)) * (1 / 310.15 - 1 / 298.15)
    assert cs.log_k_reaction[cs.index("CaHPO4")] == pytest.approx(expected, abs=1e-12)
    # the formation constant from the masters adds HPO4-2's
    assert cs.log_k[cs.index("CaHPO4")] == pytest.approx(
        expected + cs.log_k[cs.index("HPO4-2")], abs=1e-12
    )


def test_overrides_change_only_what_they_name() -> None:
    base = constant_set("plasma")
    changed = constant_set("plasma", overrides={"plasma_log_k_caalb": 3.0})
    assert changed.log_k[changed.index("CaAlb")] == 3.0
    np.testing.assert_array_equal(
        np.delete(changed.log_k, changed.index("CaAlb")),
        np.delete(base.log_k, base.index("CaAlb")),
    )
    with pytest.raises(UserInputError, match="unknown parameter"):
        constant_set("plasma", overrides={"nope": 1.0})


def test_mg_phosphate_complexes_are_stronger_than_ca_phosphate_ones() -> None:
    # S1-8's speciation half: at 37 °C, Mg binds phosphate more strongly than Ca in every form
    cs = constant_set("phreeqc")
    for ca, mg in (("CaHPO4", "MgHPO4"), ("CaPO4-", "MgPO4-"), ("CaH2PO4+", "MgH2PO4+")):
        assert cs.log_k[cs.index(mg)] > cs.log_k[cs.index(ca)]


# --- compositions and inputs --------------------------------------------------------------------


def test_henderson_hasselbalch() -> None:
    assert float(ph_from_bicarbonate(24.0, 40.0)) == pytest.approx(
        6.105 + math.log10(24 / (0.0307 * 40))
    )
    assert float(total_co2(24.0, 7.4, 40.0)) == pytest.approx(24 + 0.0307 * 40)
    # pH from bicarbonate and pCO2 then total CO2 from pH gives the same total
    ph = ph_from_bicarbonate(20.0, 35.0)
    assert float(total_co2(20.0, ph)) == pytest.approx(float(total_co2(20.0, ph, 35.0)))


def test_uremic_anion_is_the_anion_gap_above_normal() -> None:
    normal = reference_plasma("normal")
    assert normal.uremic_anion_mmol_l[0] == 0.0
    assert float(uremic_anion_from_anion_gap(140, 104, 24, 40)) == 0.0
    assert float(uremic_anion_from_anion_gap(140, 100, 20, 40)) == pytest.approx(8.0)
    assert float(uremic_anion_from_anion_gap(140, 110, 26, 40)) == 0.0  # never negative
    hd = reference_plasma("hemodialysis")
    assert hd.uremic_anion_mmol_l[0] == pytest.approx(7.0)  # AG 18, albumin 36 g/L: 19 - 12


def test_plasma_composition_fills_and_lists_the_defaults() -> None:
    comp = plasma_composition(
        calcium_mmol_l=[2.4, 2.2],
        magnesium_mmol_l=[0.9, 1.1],
        phosphate_mmol_l=[1.1, 2.0],
        albumin_g_l=[40, 35],
        bicarbonate_mmol_l=[24, 20],
        pco2_mmhg=[40, 38],
        sodium_mmol_l=[140, np.nan],
        chloride_mmol_l=[104, 100],
    )
    assert comp.n == 2
    assert comp.sodium_mmol_l[1] == parameters()["reference_normal_plasma_sodium"].value
    assert set(comp.assumed) >= {"sodium_mmol_l", "potassium_mmol_l", "uremic_anion_mmol_l"}
    assert comp.uremic_anion_mmol_l[1] == 0.0  # Na not measured for sample 2: no anion gap
    assert comp.ph[0] == pytest.approx(float(ph_from_bicarbonate(24, 40)))
    with pytest.raises(UserInputError, match="give ph, or bicarbonate and pco2"):
        plasma_composition(
            calcium_mmol_l=2.4, magnesium_mmol_l=0.9, phosphate_mmol_l=1.1, albumin_g_l=40
        )


def test_composition_is_frozen_and_a_copy() -> None:
    ca = np.array([2.4, 2.5])
    comp = random_plasma(2, seed=0)
    comp = PlasmaComposition(**{**comp.to_dict(), "calcium_mmol_l": ca})
    ca[0] = 99.0
    assert comp.calcium_mmol_l[0] == 2.4
    with pytest.raises(ValueError, match="read-only"):
        comp.calcium_mmol_l[0] = 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"calcium_mmol_l": -1.0}, "calcium_mmol_l -1 is negative"),
        ({"ph": 8.2}, "ph 8.2 is outside 6.8-7.8"),
        ({"ph": 6.5}, "ph 6.5 is outside 6.8-7.8"),
        ({"magnesium_mmol_l": np.nan}, "magnesium_mmol_l is missing"),
    ],
)
def test_invalid_sample_raises_for_one_and_is_reported_in_a_batch(
    change: dict[str, float], message: str
) -> None:
    good = reference_plasma("normal")
    fields = good.to_dict()
    bad = PlasmaComposition(
        **{k: np.r_[v, change.get(k, v[0]), v] for k, v in fields.items()},
    )
    with pytest.raises(UserInputError, match=f"sample 1: {message}"):
        speciate(bad)
    result = speciate(bad, throw=False)
    assert list(result.status) == ["converged", "invalid_input", "converged"]
    assert message in result.reason[1]
    assert result.reason[0] == ""
    frame = result.to_frame()
    assert frame.loc[1, "ca_ionized_mmol_l"] != frame.loc[1, "ca_ionized_mmol_l"]  # NaN
    assert frame.loc[0, "ca_ionized_mmol_l"] == frame.loc[2, "ca_ionized_mmol_l"]


def test_non_convergence_is_reported_never_a_silent_nan() -> None:
    comp = random_plasma(5, seed=6)
    with pytest.raises(SpeciationError, match="did not converge in 2 iterations"):
        speciate(comp, max_iterations=2)
    result = speciate(comp, max_iterations=2, throw=False)
    assert set(result.status) == {Status.MAX_ITERATIONS.value}
    assert all("did not converge" in r for r in result.reason)
    assert np.isnan(result.to_frame()["mg_ionized_mmol_l"]).all()


# --- results ------------------------------------------------------------------------------------


def test_result_table_columns_and_units() -> None:
    result = speciate(random_plasma(10, seed=7))
    frame = result.to_frame()
    for metal in ("ca", "mg"):
        for part in ("ionized", "protein_bound", "complexed", "ultrafilterable"):
            assert f"{metal}_{part}_mmol_l" in frame
        total = (
            frame[f"{metal}_ionized_mmol_l"]
            + frame[f"{metal}_protein_bound_mmol_l"]
            + frame[f"{metal}_uremic_anion_bound_mmol_l"]
            + frame[f"{metal}_complexed_mmol_l"]
        )
        np.testing.assert_allclose(total, frame[f"{metal}_total_mmol_l"], rtol=1e-7)
        np.testing.assert_allclose(
            frame[f"{metal}_ultrafilterable_mmol_l"] + frame[f"{metal}_protein_bound_mmol_l"],
            frame[f"{metal}_total_mmol_l"],
            rtol=1e-7,
        )
    assert {f"si_{p.name}" for p in PHASES} <= set(frame.columns)
    np.testing.assert_allclose(
        frame["mg_ca_ratio_ionized"], frame["mg_ionized_mmol_l"] / frame["ca_ionized_mmol_l"]
    )
    wide = result.to_frame(species=True)
    assert {"CaHPO4_mmol_l", "gamma_Ca+2", "MgAlb_mmol_l"} <= set(wide.columns)
    assert isinstance(result, Speciation)
    assert set(result.summary().columns) == {"p2.5", "median", "p97.5"}


def test_saturation_index_is_log_ion_activity_product_over_ksp() -> None:
    result = speciate(reference_plasma("normal"))
    log_ca = result.log_activity("Ca+2")
    log_po4 = result.log_activity("PO4-3")
    log_oh = result.log_activity("OH-")
    ksp = parameters()["log_ksp_37c_hydroxyapatite"].value
    si = 5 * log_ca + 3 * log_po4 + log_oh - ksp
    np.testing.assert_allclose(result.saturation_indices["hydroxyapatite"], si)
    brushite = log_ca + result.log_activity("HPO4-2") - parameters()["log_ksp_37c_brushite"].value
    np.testing.assert_allclose(result.saturation_indices["brushite"], brushite)
    # normal plasma is supersaturated with hydroxyapatite (S0-13), not with brushite
    assert result.saturation_indices["hydroxyapatite"][0] > 0
    assert result.saturation_indices["brushite"][0] < 0


def test_newton_finishes_what_the_sweeps_leave() -> None:
    # one sweep per inner solve forces the Newton path; it must reach the same solution
    comp = random_plasma(200, seed=8)
    cs = constant_set("plasma")
    st = structure(cs)
    totals, log_h = _totals_mol_l(cs, comp), -comp.ph
    swept = solve(st, totals, log_h, tolerance=1e-10, max_iterations=200, max_step=1.0)
    newton = solve(
        st, totals, log_h, tolerance=1e-10, max_iterations=200, max_step=1.0, max_sweeps=1
    )
    assert (swept.code == Code.CONVERGED).all()
    assert (newton.code == Code.CONVERGED).all()
    np.testing.assert_allclose(newton.free_mol_l, swept.free_mol_l, rtol=1e-8)


def test_strongly_bound_sample_converges() -> None:
    # citrate in excess of calcium (a citrate-anticoagulated sample): strong coupling
    comp = PlasmaComposition(
        **{**reference_plasma("normal").to_dict(), "citrate_mmol_l": np.array([10.0])}
    )
    result = speciate(comp)
    assert result.converged.all()
    assert result.calcium_ionized_mmol_l[0] < 0.5
