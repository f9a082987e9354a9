"""The speciation solver, vectorized over samples.

Unknowns per sample: the free concentration of each metal (Ca²⁺, Mg²⁺, Na⁺, K⁺) and each ligand
master species (CO₃²⁻, PO₄³⁻, SO₄²⁻, citrate, lactate, albumin site, uremic ligand, Cl⁻); pH fixes
the H⁺ activity. Every species is K′·m·l: K′ its formation constant with the H⁺ activity, the
activity coefficients and the water activity folded in, m its metal and l its ligand (1 where it
has none). The mass balances are

    T_M = m·α_M + Σ_L β_ML·m·l,    T_L = l·α_L + Σ_M β_ML·m·l,

α the summed K′ of the species made of one component (the free ion included), β_ML the summed K′
of the M–L complexes.

*Inner problem* (fixed K′). Given the metals, each ligand balance is linear in its ligand,
l = T_L/(α_L + Σ_M β_ML m), and given the ligands each metal balance is linear in its metal.
Alternating the two (a "sweep") contracts by about the product of the bound fractions along each
metal–ligand–metal path, at most about 0.15 in plasma, so a few sweeps reach the tolerance. Samples
that settle slowly (strong coupling) are finished by damped Newton on ln concentrations: the
Jacobian [[D_M, C], [Cᵀ, D_L]] has diagonal blocks, the ligand block is eliminated and the
4 × 4 Schur complement on the metals is solved by a Cholesky factorisation written out over numpy
arrays. The Newton update x·(1 + Δ/2)/(1 − Δ/2), the (1,1) Padé form of x·eᐞ, is exact to second
order, so Newton stays quadratic without an exponential, and |Δ| ≤ `max_step` < 2 keeps x > 0.

*Outer problem* (the ionic strength I). The activity coefficients depend on I alone, and only
weakly (d I(solution)/dI is about 0.01 in plasma). A first estimate takes two sweeps with the
activity coefficients of a typical plasma I (the same for every sample), which puts I within
about 0.1 % and the water activity close. Then each outer iteration computes the activity
coefficients at the current I, solves the inner problem to `tolerance`, takes I from the
solution, and moves I by a secant step on I − I(solution) (plain substitution at first and where
the secant is unsafe). A sample has converged when its mass balances hold and I has stopped
changing, both to `tolerance` (relative); in plasma that takes three outer iterations.

There is no Python loop over samples, only over iterations, components, pairs and groups.
Samples leave the active set as they converge. Species concentrations are not formed here: the
result object derives them from the free concentrations and activity coefficients on demand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, cached_property

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry._constants import ActivityKind, ConstantSet

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

_LN10 = math.log(10.0)
_TINY = float(np.finfo(np.float64).tiny)
_TYPICAL_IONIC_STRENGTH = 0.14  # mol/L, plasma: only the starting point of the iteration
_FIRST_SWEEPS = 2  # sweeps at the typical ionic strength before the first exact one
_SECANT_MIN_SLOPE = 0.1  # d(I − I(solution))/dI is about 1; below this the secant is not trusted


class Code(IntEnum):
    """Per-sample solver outcome (`mgckd.chemistry.Status` gives the public names)."""

    CONVERGED = 0
    MAX_ITERATIONS = 1
    NON_FINITE = 2
    INVALID_INPUT = 3


@dataclass(frozen=True, slots=True)
class RawSolution:
    """Solver output for a batch of samples (samples along the last axis); NaN where failed."""

    free_mol_l: FloatArray  # (components, n): metals, then ligands
    log_gamma_class: FloatArray  # (classes + 1, n): last row 0 ("no such ion")
    log_water_activity: FloatArray  # (n,)
    ionic_strength_mol_l: FloatArray  # (n,)
    iterations: IntArray  # (n,) sweeps and Newton steps
    code: IntArray  # (n,) `Code`
    residual: FloatArray  # (n,) largest relative mass-balance residual or change of I at exit


def _blocks(keys: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    """(start, end) of the runs of equal consecutive keys."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            bounds.append((start, i))
            start = i
    return bounds


def _block_sum(rows: FloatArray, bounds: list[tuple[int, int]]) -> FloatArray:
    """Sum of each block of consecutive rows, (blocks, n)."""
    return np.stack([rows[s] if e - s == 1 else rows[s:e].sum(axis=0) for s, e in bounds])


class Structure:
    """What the solver derives once from a constant set.

    Species fall into *groups*: one metal alone (its free ion, its hydroxide), one ligand alone (its
    protonated forms), one metal–ligand pair, or the free-standing OH⁻. Within a group the activity
    correction γ(metal)·γ(ligand)/γ(species)·a_w^w differs only by the species' own activity class
    and water count, so species are summed into *cells* (group, own class, water): the constants of
    a cell are summed once per sample, and each outer iteration costs one exponential per activity
    class, not one per species.
    """

    def __init__(self, cs: ConstantSet) -> None:
        self.cs = cs
        metal, ligand = cs.metal_index, cs.ligand_index
        n_species = len(cs.species)
        nm, nl = len(cs.metals), len(cs.ligands)
        self.n_metals, self.n_ligands, self.n_components = nm, nl, nm + nl
        self.pairs = sorted(
            {
                (int(metal[s]), int(ligand[s]))
                for s in range(n_species)
                if metal[s] >= 0 <= ligand[s]
            }
        )
        self.n_pairs = len(self.pairs)
        self.n_groups = nm + nl + self.n_pairs + 1
        self.master_of = {
            ("M" if metal[s] >= 0 else "L", int(max(metal[s], ligand[s]))): s
            for s in range(n_species)
            if cs.is_master[s]
        }
        self.z_component = np.zeros(nm + nl)
        for (kind, index), s in self.master_of.items():
            self.z_component[index if kind == "M" else nm + index] = cs.charge[s]
        self.metal_gather = np.where(metal >= 0, metal, nm)
        self.ligand_gather = np.where(ligand >= 0, ligand, nl)
        self._activity_classes()
        self._groups()
        self._cells()
        self._pair_indices()

    def _group_of(self, s: int) -> int:
        """Group of species `s`: metal, ligand, pair or free-standing (OH⁻)."""
        metal, ligand = int(self.cs.metal_index[s]), int(self.cs.ligand_index[s])
        nm, nl = self.n_metals, self.n_ligands
        if metal >= 0 and ligand >= 0:
            return nm + nl + self.pairs.index((metal, ligand))
        if metal >= 0:
            return metal
        if ligand >= 0:
            return nm + ligand
        return nm + nl + self.n_pairs

    def _activity_classes(self) -> None:
        """Unique (kind, z², å, ḃ) and, per species, the classes of its metal, ligand and self.

        An extra class of zeros ("no such ion") stands for a missing metal or ligand, and for all
        three of a conditional species, whose constant acts on concentrations.
        """
        cs = self.cs
        n_species = len(cs.species)
        keys = [
            (int(k), float(z) ** 2, float(a), float(b))
            for k, z, a, b in zip(
                cs.activity_kind, cs.charge, cs.ion_size_angstrom, cs.b_dot_kg_mol, strict=True
            )
        ]
        self.classes = sorted(set(keys))
        self.unit_class = unit = len(self.classes)
        self.class_kind = [c[0] for c in self.classes]
        self.class_z2 = [c[1] for c in self.classes]
        self.class_size = [c[2] for c in self.classes]
        self.class_b = [c[3] for c in self.classes]
        class_of = np.array([self.classes.index(k) for k in keys], dtype=np.intp)
        carries = cs.activity_kind != ActivityKind.CONDITIONAL
        self.carries = carries

        def master_class(kind: str, index: int, *, needed: bool) -> int:
            return int(class_of[self.master_of[kind, index]]) if index >= 0 and needed else unit

        metal, ligand = cs.metal_index, cs.ligand_index
        self.species_metal_class = np.array(
            [master_class("M", int(metal[s]), needed=bool(carries[s])) for s in range(n_species)],
            dtype=np.intp,
        )
        self.species_ligand_class = np.array(
            [master_class("L", int(ligand[s]), needed=bool(carries[s])) for s in range(n_species)],
            dtype=np.intp,
        )
        self.species_own_class = np.where(carries, class_of, unit).astype(np.intp)
        # reported log γ of a species: its own; for a conditional species, that of its metal
        self.report_class = np.array(
            [
                class_of[s] if carries[s] else master_class("M", int(metal[s]), needed=True)
                for s in range(n_species)
            ],
            dtype=np.intp,
        )
        self.proton_powers = sorted({float(h) for h in cs.protons})
        self.species_power = np.array(
            [self.proton_powers.index(float(h)) for h in cs.protons], dtype=np.intp
        )

    def _groups(self) -> None:
        """Per group, the shared activity factor γ(metal)·γ(ligand), shared by its species."""
        cs = self.cs
        self.species_group = np.array(
            [self._group_of(s) for s in range(len(cs.species))], dtype=np.intp
        )
        metal_class: dict[int, int] = {}
        ligand_class: dict[int, int] = {}
        for s, g in enumerate(self.species_group):
            for table, value in (
                (metal_class, int(self.species_metal_class[s])),
                (ligand_class, int(self.species_ligand_class[s])),
            ):
                if table.setdefault(int(g), value) != value:
                    raise ValueError(
                        f"constant set {cs.name!r}: species {cs.species[s]} mixes activity "
                        "conventions within its group"
                    )
        if sorted(metal_class) != list(range(self.n_groups)):
            raise ValueError(f"constant set {cs.name!r}: a component or pair has no species")
        self.group_metal_class = np.array([metal_class[g] for g in range(self.n_groups)])
        self.group_ligand_class = np.array([ligand_class[g] for g in range(self.n_groups)])
        self.group_carries = np.array(
            [bool(self.carries[self.species_group == g].all()) for g in range(self.n_groups)],
            dtype=np.float64,
        )

    def _cells(self) -> None:
        """Species sorted into cells (group, own class, water), cells into groups."""
        cs = self.cs
        key = [
            (int(self.species_group[s]), int(self.species_own_class[s]), int(cs.water[s]))
            for s in range(len(cs.species))
        ]
        self.order = np.array(sorted(range(len(key)), key=lambda s: key[s]), dtype=np.intp)
        sorted_keys = [key[s] for s in self.order]
        self.cell_bounds = _blocks(sorted_keys)
        cells = [sorted_keys[s] for s, _ in self.cell_bounds]
        self.cell_own_class = np.array([c[1] for c in cells], dtype=np.intp)
        self.group_bounds = _blocks([(c[0],) for c in cells])
        self.water_cells = [(t, float(c[2])) for t, c in enumerate(cells) if c[2] != 0]
        if any(abs(w) != 1.0 for _, w in self.water_cells):
            raise ValueError(f"constant set {cs.name!r}: water appears other than once")
        first = [int(self.order[s]) for s, _ in self.cell_bounds]
        self.cell_half_z2 = np.array([0.5 * cs.charge[s] ** 2 * self.carries[s] for s in first])

    def _pair_indices(self) -> None:
        """Index arrays over pairs, their blocks by metal and by ligand, and the Schur terms."""
        pairs, nm = self.pairs, self.n_metals
        self.pair_metal = np.array([m for m, _ in pairs], dtype=np.intp)
        self.pair_ligand = np.array([lg for _, lg in pairs], dtype=np.intp)
        self.pairs_by_metal = _blocks([(m,) for m, _ in pairs])
        by_ligand = sorted(range(len(pairs)), key=lambda p: (pairs[p][1], pairs[p][0]))
        self.ligand_order = np.array(by_ligand, dtype=np.intp)
        self.pairs_by_ligand = _blocks([(pairs[p][1],) for p in by_ligand])
        self.ligands_with_pairs = np.array(sorted({lg for _, lg in pairs}), dtype=np.intp)
        self.metals_with_pairs = np.array(sorted({m for m, _ in pairs}), dtype=np.intp)
        # Schur complement: products of two pairs sharing a ligand, summed into entry (i, k), k ≤ i
        lower = [(i, k) for i in range(nm) for k in range(i + 1)]
        cross = sorted(
            (lower.index((pairs[p][0], pairs[q][0])), p, q)
            for p in range(len(pairs))
            for q in range(len(pairs))
            if pairs[p][1] == pairs[q][1] and pairs[q][0] <= pairs[p][0]
        )
        self.cross_p = np.array([c[1] for c in cross], dtype=np.intp)
        self.cross_q = np.array([c[2] for c in cross], dtype=np.intp)
        self.cross_bounds = _blocks([(c[0],) for c in cross])
        self.cross_entry = [lower[cross[s][0]] for s, _ in self.cross_bounds]

    def proton_factors(self, log_a_h: FloatArray) -> FloatArray:
        """a_H^h for each H⁺ power present, (powers, n)."""
        return np.stack([np.exp(_LN10 * h * log_a_h) for h in self.proton_powers])

    def fixed_cells(self, log_a_h: FloatArray) -> FloatArray:
        """K·a_H^h summed per cell, (cells, n): everything but the activity corrections."""
        species = 10.0 ** self.cs.log_k[:, None] * self.proton_factors(log_a_h)[self.species_power]
        return _block_sum(species[self.order], self.cell_bounds)

    def log_gamma(self, ionic_strength: FloatArray) -> FloatArray:
        """log10 γ per activity class, with a last row of zeros, (classes + 1, n)."""
        cs = self.cs
        out = np.zeros((len(self.classes) + 1, ionic_strength.shape[0]))
        root = np.sqrt(ionic_strength)[None, :]
        ionic = ionic_strength[None, :]
        davies, extended, neutral = self._rows
        if davies.size:
            core = root / (1.0 + root) - cs.davies_linear * ionic
            out[davies] = (-cs.debye_huckel_a * self._z2[davies])[:, None] * core
        if extended.size:
            size = (cs.debye_huckel_b * self._size[extended])[:, None]
            out[extended] = (-cs.debye_huckel_a * self._z2[extended])[:, None] * root / (
                1.0 + size * root
            ) + self._b[extended][:, None] * ionic
        if neutral.size:
            out[neutral] = cs.neutral_salting_kg_mol * ionic
        return out

    @cached_property
    def _rows(self) -> tuple[IntArray, IntArray, IntArray]:
        kind = np.array(self.class_kind)
        return (
            np.flatnonzero(kind == ActivityKind.DAVIES),
            np.flatnonzero(kind == ActivityKind.TRUESDELL_JONES),
            np.flatnonzero(kind == ActivityKind.NEUTRAL),
        )

    @cached_property
    def _z2(self) -> FloatArray:
        return np.array(self.class_z2, dtype=np.float64)

    @cached_property
    def _size(self) -> FloatArray:
        return np.array(self.class_size, dtype=np.float64)

    @cached_property
    def _b(self) -> FloatArray:
        return np.array(self.class_b, dtype=np.float64)


@dataclass(slots=True)
class _Sums:
    """Per group (rows: metals, ligands, pairs, free-standing) the summed K′, plain and weighted
    by ½ z² (for the ionic strength)."""

    plain: FloatArray
    half_z2: FloatArray

    @classmethod
    def of(
        cls, st: Structure, fixed: FloatArray, log_gamma: FloatArray, log_a_w: FloatArray
    ) -> _Sums:
        gamma = np.exp(_LN10 * log_gamma)
        cell = fixed * (1.0 / gamma)[st.cell_own_class]
        if st.water_cells:
            water = np.exp(_LN10 * log_a_w)
            for t, power in st.water_cells:
                cell[t] *= water if power > 0 else 1.0 / water
        shared = gamma[st.group_metal_class] * gamma[st.group_ligand_class]
        return cls(
            shared * _block_sum(cell, st.group_bounds),
            shared * _block_sum(cell * st.cell_half_z2[:, None], st.group_bounds),
        )


def _group_factors(st: Structure, metals: FloatArray, ligands: FloatArray) -> FloatArray:
    """m, l, m·l or 1 per group, (groups, n)."""
    return np.concatenate(
        [
            metals,
            ligands,
            metals[st.pair_metal] * ligands[st.pair_ligand],
            np.ones((1, metals.shape[1])),
        ]
    )


def _pair_totals(st: Structure, pair: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Σ over pairs into each metal and into each ligand, (metals, n) and (ligands, n)."""
    into_m = np.zeros((st.n_metals, n))
    into_m[st.metals_with_pairs] = _block_sum(pair, st.pairs_by_metal)
    into_l = np.zeros((st.n_ligands, n))
    into_l[st.ligands_with_pairs] = _block_sum(pair[st.ligand_order], st.pairs_by_ligand)
    return into_m, into_l


def _sweeps(
    st: Structure,
    plain: FloatArray,
    totals: FloatArray,
    metals: FloatArray,
    tolerance: FloatArray,
    *,
    max_sweeps: int,
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Alternate the exact 1:1 mass balances at fixed K′ until the free metals settle.

    β is laid out densely (metals × ligands × samples, zero where no complex forms), so each
    half-sweep is one `numpy.einsum` contraction. Settled samples ride along (their iterates only
    improve) until at least half of those still iterated have settled, then leave together, which
    saves copying the arrays at every sweep. Returns (metals, ligands, relative change of the
    metals at the sweep each sample settled, sweeps to settle).
    """
    nm, nl = st.n_metals, st.n_ligands
    n = metals.shape[1]
    alpha_m, alpha_l = plain[:nm], plain[nm : nm + nl]
    beta = np.zeros((nm, nl, n))
    beta[st.pair_metal, st.pair_ligand] = plain[nm + nl : nm + nl + st.n_pairs]
    totals_m, totals_l = totals[:nm], totals[nm:]
    out_m, out_l = metals.copy(), np.empty((nl, n))
    out_change = np.full(n, np.inf)
    out_sweeps = np.zeros(n, dtype=np.intp)
    todo = np.arange(n)
    settled = np.zeros(n, dtype=bool)
    settled_change = np.full(n, np.inf)
    m = metals
    for sweep in range(1, max_sweeps + 1):
        lg = totals_l / (alpha_l + np.einsum("mln,mn->ln", beta, m))
        new_m = totals_m / (alpha_m + np.einsum("mln,ln->mn", beta, lg))
        change = np.max(np.abs(new_m - m) / np.maximum(new_m, _TINY), axis=0)
        m = new_m
        now = ~settled & (~(change > tolerance) | (sweep == max_sweeps))
        out_sweeps[todo[now]] = sweep
        settled_change[now] = change[now]
        settled |= now
        if 2 * int(settled.sum()) < settled.size:
            continue
        idx = todo[settled]
        out_m[:, idx], out_l[:, idx] = m[:, settled], lg[:, settled]
        out_change[idx] = settled_change[settled]
        keep = ~settled
        todo = todo[keep]
        if not todo.size:
            break
        settled, settled_change = settled[keep], settled_change[keep]
        m, alpha_m, alpha_l, beta, totals_m, totals_l, tolerance = (
            m[:, keep], alpha_m[:, keep], alpha_l[:, keep], beta[:, :, keep],
            totals_m[:, keep], totals_l[:, keep], tolerance[keep],
        )  # fmt: skip
    return out_m, out_l, out_change, out_sweeps


def _cholesky_solve(matrix: list[list[FloatArray]], rhs: list[FloatArray]) -> FloatArray:
    """Solve symmetric positive-definite systems given element-wise as arrays over samples."""
    n = len(rhs)
    lower: list[list[FloatArray]] = [[np.zeros(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            total = matrix[i][j]
            for k in range(j):
                total = total - lower[i][k] * lower[j][k]
            lower[i][j] = np.sqrt(total) if i == j else total / lower[j][j]
    y: list[FloatArray] = []
    for i in range(n):
        total = rhs[i]
        for k in range(i):
            total = total - lower[i][k] * y[k]
        y.append(total / lower[i][i])
    x: list[FloatArray] = [np.zeros(0)] * n
    for i in reversed(range(n)):
        total = y[i]
        for k in range(i + 1, n):
            total = total - lower[k][i] * x[k]
        x[i] = total / lower[i][i]
    return np.stack(x)


def _newton(
    st: Structure,
    plain: FloatArray,
    totals: FloatArray,
    x: FloatArray,
    tolerance: FloatArray,
    *,
    max_iterations: int,
    max_step: float,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Newton at fixed K′ (group sums `plain`): returns (x, residual, steps) per sample."""
    nm = st.n_metals
    n = x.shape[1]
    alpha = plain[: st.n_components]
    beta = plain[st.n_components : st.n_components + st.n_pairs]
    present = totals > 0.0
    scale = np.where(present, totals, 1.0)
    steps = np.zeros(n, dtype=np.intp)
    residual = np.full(n, np.inf)
    x_out = x.copy()
    todo = np.arange(n)
    pm, pl = st.pair_metal, st.pair_ligand
    for iteration in range(max_iterations + 1):
        pair = beta * x[pm] * x[nm:][pl]
        into_m, into_l = _pair_totals(st, pair, todo.size)
        diag = alpha * x + np.concatenate([into_m, into_l])
        f = diag - totals
        res = np.max(np.abs(f) / scale, axis=0)
        leave = ~(res > tolerance) | (iteration == max_iterations)  # NaN leaves too
        if leave.any():
            x_out[:, todo[leave]] = x[:, leave]
            residual[todo[leave]] = res[leave]
            keep = ~leave
            todo = todo[keep]
            if not todo.size:
                break
            x, alpha, beta, totals, present, scale, tolerance = (
                x[:, keep], alpha[:, keep], beta[:, keep], totals[:, keep], present[:, keep],
                scale[:, keep], tolerance[keep],
            )  # fmt: skip
            pair, diag, f = pair[:, keep], diag[:, keep], f[:, keep]
        steps[todo] += 1
        d = np.where(present, diag, 1.0)
        inv_dl = 1.0 / d[nm:]
        weighted = pair * inv_dl[pl]
        f_m, f_l = f[:nm], f[nm:]
        lower = _block_sum(pair[st.cross_p] * weighted[st.cross_q], st.cross_bounds)
        from_l, _ = _pair_totals(st, weighted * f_l[pl], todo.size)
        schur: list[list[FloatArray]] = [
            [d[i] if i == k else np.zeros(todo.size) for k in range(nm)] for i in range(nm)
        ]
        for row, (i, k) in enumerate(st.cross_entry):
            schur[i][k] = schur[i][k] - lower[row]
            schur[k][i] = schur[i][k]
        delta_m = _cholesky_solve(schur, list(from_l - f_m))
        _, back = _pair_totals(st, pair * delta_m[pm], todo.size)
        delta_l = -(f_l + back) * inv_dl
        delta = np.where(present, np.concatenate([delta_m, delta_l]), 0.0)
        biggest = np.max(np.abs(delta), axis=0)
        half = (0.5 * np.minimum(1.0, max_step / np.maximum(biggest, _TINY)))[None, :] * delta
        x = x * (1.0 + half) / (1.0 - half)
    return x_out, residual, steps


def _first_estimate(
    st: Structure, fixed: FloatArray, totals: FloatArray, spent: IntArray, *, sweeps: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A first ionic strength and free metals: two sweeps with the activity coefficients of a
    typical plasma ionic strength (the same for every sample, so no per-sample exponential).

    The I of that solution is within about 0.1 % of the converged one, because I depends on
    the activity coefficients only weakly (dI(solution)/dI is about 0.01 in plasma). Returns
    (ionic strength, free metals, log10 water activity).
    """
    typical = st.log_gamma(np.array([_TYPICAL_IONIC_STRENGTH]))
    sums = _Sums.of(st, fixed, typical, np.zeros(1))
    n = totals.shape[1]
    metals, ligands, _, steps = _sweeps(
        st, sums.plain, totals, totals[: st.n_metals].copy(), np.zeros(n), max_sweeps=sweeps
    )
    spent += steps
    factors = _group_factors(st, metals, ligands)
    solute = np.einsum("gn,gn,g->n", sums.plain, factors, st.group_carries)
    log_a_w = np.log10(np.maximum(1.0 - st.cs.water_activity_kg_mol * solute, _TINY))
    return np.einsum("gn,gn->n", sums.half_z2, factors), metals, log_a_w


def _inner_solve(
    st: Structure,
    plain: FloatArray,
    totals: FloatArray,
    metals: FloatArray,
    inner: FloatArray,
    *,
    spent: IntArray,
    max_iterations: int,
    max_sweeps: int,
    max_step: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sweeps, then Newton for the samples they leave unsettled; `spent` is updated in place.

    Returns (metals, ligands, residual).
    """
    nm = st.n_metals
    budget = max(1, max_iterations - int(spent.min()))
    metals, ligands, residual, steps = _sweeps(
        st, plain, totals, metals, inner, max_sweeps=min(max_sweeps, budget)
    )
    spent += steps
    slow = (residual > inner) & (spent < max_iterations)
    if slow.any():  # strongly coupled samples
        x_slow, residual[slow], newton_steps = _newton(
            st,
            plain[:, slow],
            totals[:, slow],
            np.concatenate([metals[:, slow], ligands[:, slow]]),
            inner[slow],
            max_iterations=max_iterations - int(spent[slow].min()),
            max_step=max_step,
        )
        metals[:, slow], ligands[:, slow] = x_slow[:nm], x_slow[nm:]
        spent[slow] += newton_steps
    return metals, ligands, residual


def _secant(
    ionic: FloatArray, new_ionic: FloatArray, last: tuple[FloatArray, FloatArray] | None
) -> tuple[FloatArray, tuple[FloatArray, FloatArray]]:
    """Next I from a secant step on g(I) = I − I(solution at I); plain substitution where the
    secant is unsafe. Returns (next I, (I, g) to remember)."""
    gap = ionic - new_ionic
    step = new_ionic
    if last is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (gap - last[1]) / (ionic - last[0])
            secant = ionic - gap / slope
        safe = np.isfinite(secant) & (slope > _SECANT_MIN_SLOPE) & (secant > 0.0)
        step = np.where(safe, secant, new_ionic)
    return step, (ionic, gap)


class _Output:
    """The solver's output arrays for n samples, filled as samples leave the active set."""

    def __init__(self, st: Structure, n: int) -> None:
        self.nm = st.n_metals
        self.free = np.full((st.n_components, n), np.nan)
        self.log_gamma = np.full((len(st.classes) + 1, n), np.nan)
        self.log_water = np.full(n, np.nan)
        self.ionic = np.full(n, np.nan)
        self.iterations = np.zeros(n, dtype=np.intp)
        self.code = np.full(n, int(Code.MAX_ITERATIONS), dtype=np.intp)
        self.residual = np.full(n, np.nan)

    def store(
        self, idx: IntArray, pick: BoolArray, code: IntArray, **values: FloatArray | IntArray
    ) -> None:
        """Write the samples `pick` of the active arrays in `values` to positions `idx`."""
        nm = self.nm
        self.free[:nm, idx] = values["metals"][:, pick]
        self.free[nm:, idx] = values["ligands"][:, pick]
        self.log_gamma[:, idx] = values["log_gamma"][:, pick]
        self.log_water[idx] = values["log_water"][pick]
        self.ionic[idx] = values["ionic"][pick]
        self.iterations[idx] = values["spent"][pick]
        self.residual[idx] = values["residual"][pick]
        self.code[idx] = code

    def solution(self) -> RawSolution:
        return RawSolution(
            self.free,
            self.log_gamma,
            self.log_water,
            self.ionic,
            self.iterations,
            self.code,
            self.residual,
        )


def solve(
    st: Structure,
    totals_mol_l: FloatArray,
    log_a_h: FloatArray,
    *,
    tolerance: float,
    max_iterations: int,
    max_step: float,
    max_sweeps: int = 60,
) -> RawSolution:
    """Speciate every sample (column) of `totals_mol_l` (components × n) at pH −`log_a_h`.

    `max_iterations` bounds the sweeps plus Newton steps of a sample; `max_sweeps` those of one
    inner solve before Newton takes over; `max_step` (< 2) caps the change of any ln concentration
    per Newton step.
    """
    if not 0.0 < max_step < 2.0:
        raise ValueError(f"max_step must lie in (0, 2), not {max_step}")
    n = totals_mol_l.shape[1]
    out = _Output(st, n)
    if n == 0:
        return out.solution()
    fixed = st.fixed_cells(log_a_h)
    totals = totals_mol_l
    active, spent = np.arange(n), np.zeros(n, dtype=np.intp)
    first = max(1, min(_FIRST_SWEEPS, max_iterations - 1))
    ionic, metals, log_a_w = _first_estimate(st, fixed, totals, spent, sweeps=first)
    last: tuple[FloatArray, FloatArray] | None = None
    while True:
        log_g = st.log_gamma(ionic)
        sums = _Sums.of(st, fixed, log_g, log_a_w)
        inner = np.full(active.size, tolerance)
        metals, ligands, residual = _inner_solve(
            st,
            sums.plain,
            totals,
            metals,
            inner,
            spent=spent,
            max_iterations=max_iterations,
            max_sweeps=max_sweeps,
            max_step=max_step,
        )
        factors = _group_factors(st, metals, ligands)
        new_ionic = np.einsum("gn,gn->n", sums.half_z2, factors)
        solute = np.einsum("gn,gn,g->n", sums.plain, factors, st.group_carries)
        change = np.abs(new_ionic - ionic) / np.maximum(new_ionic, _TINY)
        # a non-finite free concentration makes I non-finite too
        finite = np.isfinite(residual) & np.isfinite(new_ionic) & np.isfinite(solute)
        done = finite & (residual <= tolerance) & (change <= tolerance)
        leaving = done | ~finite | (spent >= max_iterations)
        if leaving.any():
            code = np.where(
                done,
                int(Code.CONVERGED),
                np.where(finite, int(Code.MAX_ITERATIONS), int(Code.NON_FINITE)),
            )
            out.store(
                active[leaving],
                leaving,
                code[leaving],
                metals=metals,
                ligands=ligands,
                log_gamma=log_g,
                log_water=log_a_w,
                ionic=new_ionic,
                spent=spent,
                residual=np.maximum(residual, change),
            )
            keep = ~leaving
            active = active[keep]
            if not active.size:
                break
            metals, totals, fixed, spent = (
                metals[:, keep],
                totals[:, keep],
                fixed[:, keep],
                spent[keep],
            )
            ionic, new_ionic, solute = ionic[keep], new_ionic[keep], solute[keep]
            if last is not None:
                last = (last[0][keep], last[1][keep])
        ionic, last = _secant(ionic, new_ionic, last)
        log_a_w = np.log10(np.maximum(1.0 - st.cs.water_activity_kg_mol * solute, _TINY))
    return out.solution()


@cache
def structure(cs: ConstantSet) -> Structure:
    """The solver's structure of a constant set (cached per set)."""
    return Structure(cs)
