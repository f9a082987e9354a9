"""SciPy's stiff solvers (BDF, Radau) on the whole batch as one flattened system, with the
model's analytic Jacobian as a block-diagonal sparse matrix: the reference the native solver is
tested against, and a second opinion for any run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from mgckd.model import CompiledModel
from mgckd.simulate._result import Status

FloatArray = NDArray[np.float64]


@dataclass(slots=True)
class Segment:
    """Mutable working state of the batch between event times."""

    y: FloatArray  # (n, N) species
    ledger: FloatArray  # (m, N) cumulative ledgers
    status: NDArray[np.int8]  # (N,)
    rhs_calls: int = 0  # calls on the whole batch


@dataclass(frozen=True, slots=True)
class ScipySolver:
    """`scipy.integrate.solve_ivp` with an implicit method on the flattened batch.

    The state of the batch is (species and ledgers) × patients, patient by patient; the
    Jacobian is block diagonal (one block per patient). A failure fails the whole batch
    (`Status.SOLVER_FAILED`): SciPy cannot say which patient caused it.

    Attributes
    ----------
    method : ``"BDF"`` or ``"Radau"``.
    rtol, atol : tolerances (atol in species units; ledgers included).
    """

    method: Literal["BDF", "Radau"] = "BDF"
    rtol: float = 1e-6
    atol: float = 1e-9


def advance_scipy(
    solver: ScipySolver,
    compiled: CompiledModel,
    state: Segment,
    p: FloatArray,
    *,
    t0: float,
    t1: float,
    save_times: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Integrate every patient from `t0` to `t1`; species and ledgers at `save_times`."""
    n, n_patients = state.y.shape
    m = state.ledger.shape[0]
    width = n + m
    saved_y = np.full((save_times.size, n, n_patients), np.nan)
    saved_ledger = np.full((save_times.size, m, n_patients), np.nan)
    if not (state.status == Status.SUCCESS).all():
        return saved_y, saved_ledger
    rows, cols = _block_pattern(compiled, n, m, n_patients)

    def unpack(z: FloatArray) -> FloatArray:
        return z.reshape(n_patients, width).T

    def fun(t: float, z: FloatArray) -> FloatArray:
        rates = compiled.rates(t, unpack(z)[:n], p)
        state.rhs_calls += 1
        out: FloatArray = rates.T.ravel()
        return out

    def jac(t: float, z: FloatArray) -> scipy.sparse.csc_matrix:
        y = unpack(z)[:n]
        values = np.vstack(
            [compiled.jacobian_values(t, y, p), compiled.ledger_jacobian_values(t, y, p)]
        )
        size = width * n_patients
        return scipy.sparse.csc_matrix((values.T.ravel(), (rows, cols)), shape=(size, size))

    z0 = np.vstack([state.y, state.ledger]).T.ravel()
    solution = solve_ivp(
        fun,
        (t0, t1),
        z0,
        method=solver.method,
        t_eval=np.append(save_times, t1),
        jac=jac,
        rtol=solver.rtol,
        atol=solver.atol,
    )
    if solution.status != 0:
        state.status[:] = Status.SOLVER_FAILED
        return saved_y, saved_ledger
    out = solution.y.reshape(n_patients, width, -1).transpose(2, 1, 0)  # (time, width, N)
    state.y[:] = out[-1, :n]
    state.ledger[:] = out[-1, n:]
    return out[:-1, :n], out[:-1, n:]


def _block_pattern(
    compiled: CompiledModel, n: int, m: int, n_patients: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column of every stored Jacobian entry of the flattened batch, in the order
    ``values.T.ravel()`` lists them (patient by patient, species entries then ledger entries)."""
    width = n + m
    local_rows = np.concatenate([compiled.jacobian_rows, n + compiled.ledger_rows])
    local_cols = np.concatenate([compiled.jacobian_cols, compiled.ledger_cols])
    offsets = (np.arange(n_patients) * width)[:, None]
    return (offsets + local_rows).ravel(), (offsets + local_cols).ravel()
