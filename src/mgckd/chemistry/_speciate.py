"""`speciate`: the one entry point joining a composition, a constant set and the solver."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry._composition import PlasmaComposition
from mgckd.chemistry._constants import DEFAULT_SET, ConstantSet, constant_set
from mgckd.chemistry._result import Speciation, Status
from mgckd.chemistry._solver import Code, RawSolution, solve, structure
from mgckd.exceptions import SpeciationError, UserInputError

FloatArray = NDArray[np.float64]

_MOL_PER_MMOL = 1e-3
_STATUS = {
    Code.CONVERGED: Status.CONVERGED,
    Code.MAX_ITERATIONS: Status.MAX_ITERATIONS,
    Code.NON_FINITE: Status.NON_FINITE,
    Code.INVALID_INPUT: Status.INVALID_INPUT,
}


def _totals_mol_l(cs: ConstantSet, comp: PlasmaComposition) -> FloatArray:
    """(components, N) totals in mol/L, in the constant set's component order."""
    source = {
        "Ca": comp.calcium_mmol_l,
        "Mg": comp.magnesium_mmol_l,
        "Na": comp.sodium_mmol_l,
        "K": comp.potassium_mmol_l,
        "CO3": comp.total_co2_mmol_l,
        "PO4": comp.phosphate_mmol_l,
        "SO4": comp.sulfate_mmol_l,
        "Cit": comp.citrate_mmol_l,
        "Lac": comp.lactate_mmol_l,
        "U": comp.uremic_anion_mmol_l,
        "Cl": comp.chloride_mmol_l,
    }
    rows = []
    for component in (*cs.metals, *cs.ligands):
        if component == "Alb":
            # g/L × sites/(g/mol) = mol sites/L
            rows.append(comp.albumin_g_l * cs.albumin_sites_mol_per_g)
        else:
            rows.append(source[component] * _MOL_PER_MMOL)
    return np.vstack(rows)


def _reason(code: int, iterations: int, residual: float) -> str:
    if code == Code.CONVERGED:
        return ""
    if code == Code.MAX_ITERATIONS:
        return f"did not converge in {iterations} iterations (residual {residual:.1e})"
    return "numerical failure: non-finite values during the solve"


def speciate(
    composition: PlasmaComposition,
    *,
    constants: str | ConstantSet = DEFAULT_SET,
    throw: bool = True,
    tolerance: float = 1e-8,
    max_iterations: int = 200,
    max_step: float = 1.0,
    chunk_size: int = 4096,
    workers: int | None = None,
) -> Speciation:
    """Speciate plasma samples at 37 °C: free ions, complexes, protein binding, saturation.

    Parameters
    ----------
    composition : the samples (`plasma_composition` builds one from clinical values).
    constants : a constant-set name (``plasma``, default; ``phreeqc``: no albumin or uremic-anion
        terms, the set the PHREEQC cross-check uses) or a `ConstantSet`.
    throw : raise on the first sample that is invalid or does not converge (one patient);
        with False, every sample is reported in `Speciation.status` / `.reason` and failed
        samples carry NaN (a cohort).
    tolerance : relative tolerance on every mass balance and on the ionic strength.
    max_iterations : bound on sweeps plus Newton steps per sample.
    max_step : damping: the largest change of any ln concentration per Newton step (< 2).
    chunk_size : samples solved together; chunks run on `workers` threads (default: the CPU
        count). Results do not depend on either.

    Returns
    -------
    Speciation

    Raises
    ------
    UserInputError
        With `throw`, for an invalid sample (negative or missing total, pH outside 6.8–7.8);
        the message names the sample (0-based) and the field.
    SpeciationError
        With `throw`, for a sample that did not converge.

    Notes
    -----
    Mass action and mass balance for Ca, Mg, Na, K, carbonate, phosphate, sulfate, citrate,
    lactate, albumin sites, the uremic-anion ligand and chloride, at the given pH; activity
    coefficients by Truesdell–Jones (ions with size parameters) or Davies; see docs/chemistry.md.

    Examples
    --------
    >>> from mgckd.chemistry import reference_plasma
    >>> result = speciate(reference_plasma("normal"))
    >>> round(float(result.calcium_ionized_mmol_l[0]), 2) > 1.0
    True
    """
    cs = constant_set(constants) if isinstance(constants, str) else constants
    invalid = composition.invalid()
    if throw and invalid.any():
        first = int(np.flatnonzero(invalid)[0])
        more = int(invalid.sum()) - 1
        suffix = f" (and {more} more invalid samples)" if more else ""
        where = f"sample {first}: " if len(composition) > 1 else ""
        raise UserInputError(f"{where}{composition.problem(first)}{suffix}")
    raw = _solve_chunks(
        cs,
        composition,
        np.flatnonzero(~invalid),
        tolerance=tolerance,
        max_iterations=max_iterations,
        max_step=max_step,
        chunk_size=chunk_size,
        workers=workers,
    )
    failed = raw.code != Code.CONVERGED
    reasons = np.full(len(composition), "", dtype=object)
    for i in np.flatnonzero(failed):  # only failed samples carry a reason
        reasons[i] = composition.problem(int(i)) or _reason(
            int(raw.code[i]), int(raw.iterations[i]), float(raw.residual[i])
        )
    if throw and failed.any():
        first = int(np.flatnonzero(failed)[0])
        where = f"sample {first}: " if len(composition) > 1 else ""
        raise SpeciationError(f"{where}{reasons[first]}")
    reasons.flags.writeable = False
    names = np.array([_STATUS[Code(c)].value for c in range(len(Code))])
    return Speciation(
        composition=composition,
        constants=cs,
        free_mol_l=raw.free_mol_l,
        log_gamma_class=raw.log_gamma_class,
        log_water_activity=raw.log_water_activity,
        ionic_strength_mol_l=raw.ionic_strength_mol_l,
        iterations=raw.iterations,
        status=names[raw.code],
        reason=reasons,
        residual=raw.residual,
    )


def _solve_chunks(
    cs: ConstantSet,
    composition: PlasmaComposition,
    valid: NDArray[np.intp],
    *,
    tolerance: float,
    max_iterations: int,
    max_step: float,
    chunk_size: int,
    workers: int | None,
) -> RawSolution:
    """Solve the `valid` samples in chunks (on threads); NaN and INVALID_INPUT elsewhere."""
    n = len(composition)
    totals = _totals_mol_l(cs, composition)
    log_a_h = -composition.ph
    st = structure(cs)
    out = RawSolution(
        np.empty((st.n_components, n)),
        np.empty((len(st.classes) + 1, n)),
        np.empty(n),
        np.empty(n),
        np.zeros(n, dtype=np.intp),
        np.full(n, int(Code.INVALID_INPUT), dtype=np.intp),
        np.full(n, np.nan),
    )
    chunks: list[NDArray[np.intp] | slice]
    if valid.size == n:  # all valid: contiguous slices, views instead of copies
        chunks = [slice(i, min(i + chunk_size, n)) for i in range(0, n, chunk_size)]
    else:
        chunks = [valid[i : i + chunk_size] for i in range(0, valid.size, chunk_size)]

    def run(index: NDArray[np.intp] | slice) -> None:
        raw = solve(
            st,
            totals[:, index],
            log_a_h[index],
            tolerance=tolerance,
            max_iterations=max_iterations,
            max_step=max_step,
        )
        out.free_mol_l[:, index] = raw.free_mol_l
        out.log_gamma_class[:, index] = raw.log_gamma_class
        out.log_water_activity[index] = raw.log_water_activity
        out.ionic_strength_mol_l[index] = raw.ionic_strength_mol_l
        out.iterations[index] = raw.iterations
        out.code[index] = raw.code
        out.residual[index] = raw.residual

    threads = min(len(chunks), workers or os.cpu_count() or 1)
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, chunks))
    else:
        for chunk in chunks:
            run(chunk)
    failed = out.code != Code.CONVERGED  # failed and invalid samples carry NaN numbers
    if failed.any():
        out.free_mol_l[:, failed] = np.nan
        out.log_gamma_class[:, failed] = np.nan
        out.log_water_activity[failed] = np.nan
        out.ionic_strength_mol_l[failed] = np.nan
    return out
