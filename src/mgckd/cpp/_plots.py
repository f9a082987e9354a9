"""Figures of the T50 analyzer: the whole plate in one grid, and one well in detail.

Each function draws on `ax` (a new ``matplotlib.figure.Figure`` when None; no pyplot state, so
the Agg canvas renders it) and returns the Axes. The plate is drawn in a single Axes, one cell
per well, so that a 384-well plate renders in well under a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mgckd.cpp._analyze import T50Analysis
from mgckd.cpp._curves import CENSORED, EXCLUDED, FAILED, FLAGGED, OK, FloatArray
from mgckd.cpp._plate_io import MAX_COLUMN, ROWS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

STATUS_COLOURS = {
    OK: "#ffffff",
    FLAGGED: "#fff1b8",
    CENSORED: "#e4e4e4",
    EXCLUDED: "#f7cfcf",
    FAILED: "#e89090",
}
_EMPTY = "#f7f7f7"
_DATA_COLOUR = "0.35"
_FIT_COLOUR = "tab:blue"
_T50_COLOUR = "tab:red"
_MARGIN = 0.1  # of a cell, around its curve
_LABEL_SPACE = 0.22  # of a cell, above its curve, for the well name and T50
_FIT_POINTS = 48
_SMALL_PLATE = (8, 12)
_LARGE_PLATE = (len(ROWS), MAX_COLUMN)
_CELL_INCHES = {_SMALL_PLATE: (1.05, 0.85), _LARGE_PLATE: (0.62, 0.5)}
_SIDE_INCHES = 1.0  # row labels and margins
_TITLE_LEGEND_INCHES = 1.4
_LABEL_POINTS = {_SMALL_PLATE: 6.5, _LARGE_PLATE: 4.0}


def _plate_shape(wells: tuple[str, ...]) -> tuple[int, int]:
    small = all(w[0] in ROWS[: _SMALL_PLATE[0]] and int(w[1:]) <= _SMALL_PLATE[1] for w in wells)
    return _SMALL_PLATE if small else _LARGE_PLATE


def _plate_canvas(wells: tuple[str, ...]) -> Figure:
    """An empty figure sized for the plate's grid of cells."""
    n_rows, n_columns = _plate_shape(wells)
    width, height = _CELL_INCHES[(n_rows, n_columns)]
    return Figure(
        figsize=(width * n_columns + _SIDE_INCHES, height * n_rows + _TITLE_LEGEND_INCHES),
        layout="constrained",
    )


def _cells(values: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """Values scaled to [0, 1] within each well's display range."""
    span = np.where(high > low, high - low, 1.0)
    return np.asarray((values - low[:, None]) / span[:, None], dtype=np.float64)


def _polylines(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rows of (x, y) joined into one line with NaN breaks between rows."""
    gap = np.full((len(x), 1), np.nan)
    return np.hstack([x, gap]).ravel(), np.hstack([y, gap]).ravel()


def plot_plate(result: T50Analysis, ax: Axes | None = None) -> Axes:
    """Every well of the plate in its plate position: readings, fitted curve, T50 marked.

    Each cell is scaled to its own well's range (time 0 to the last reading across; the well's
    lowest to highest reading or fitted value up). The background shows the well's status
    (ok, flagged, censored, excluded, failed); the label gives its T50 in min (``> 600`` when
    censored); rows and columns are labelled at the edges.
    """
    plate, fits = result.plate, result.fits
    n_rows, n_columns = _plate_shape(plate.wells)
    ax = ax if ax is not None else _plate_canvas(plate.wells).subplots()
    row = np.array([ROWS.index(w[0]) for w in plate.wells], dtype=np.float64)
    column = np.array([int(w[1:]) - 1 for w in plate.wells], dtype=np.float64)
    t0, t1 = fits.t_start_min, fits.t_end_min
    fine = np.linspace(t0, t1, _FIT_POINTS)
    fitted = fits.predict(fine)
    both = np.hstack([plate.signal, fitted])
    known = np.isfinite(both)
    low = np.where(known, both, np.inf).min(axis=1)
    high = np.where(known, both, -np.inf).max(axis=1)
    usable = 1.0 - 2.0 * _MARGIN - _LABEL_SPACE

    def place(times: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = column[:, None] + _MARGIN + (1.0 - 2.0 * _MARGIN) * (times - t0) / (t1 - t0)
        y = row[:, None] + 1.0 - _MARGIN - usable * np.clip(_cells(values, low, high), 0.0, 1.0)
        return x, y

    palette = [_EMPTY, *STATUS_COLOURS.values()]
    codes = np.zeros((n_rows, n_columns))
    codes[row.astype(int), column.astype(int)] = [
        1 + list(STATUS_COLOURS).index(s) for s in fits.status
    ]
    ax.pcolormesh(
        np.arange(n_columns + 1),
        np.arange(n_rows + 1),
        codes,
        cmap=ListedColormap(palette),
        vmin=-0.5,
        vmax=len(palette) - 0.5,
    )
    times = np.broadcast_to(plate.time_min, plate.signal.shape)
    ax.plot(*_polylines(*place(times, plate.signal)), linestyle="none", marker=".",
            markersize=1.2, color=_DATA_COLOUR)  # fmt: skip
    ax.plot(*_polylines(*place(np.broadcast_to(fine, fitted.shape), fitted)), linewidth=0.8,
            color=_FIT_COLOUR)  # fmt: skip
    observed = np.isin(fits.status, [OK, FLAGGED])
    x_t50 = column + _MARGIN + (1.0 - 2.0 * _MARGIN) * (fits.t50_min - t0) / (t1 - t0)
    ax.vlines(x_t50[observed], row[observed] + _MARGIN + _LABEL_SPACE, row[observed] + 1 - _MARGIN,
              color=_T50_COLOUR, linewidth=0.8)  # fmt: skip
    size = _LABEL_POINTS[(n_rows, n_columns)]
    for r, c, report in zip(row, column, fits.t50_report, strict=True):
        label = ax.text(c + 0.04, r + 0.04, report, fontsize=size, va="top", ha="left")
        label.set_in_layout(False)  # constrained layout need not measure 384 labels
    ax.set_xlim(0, n_columns)
    ax.set_ylim(n_rows, 0)
    ax.set_xticks(np.arange(n_columns) + 0.5, [str(c + 1) for c in range(n_columns)], fontsize=7)
    ax.set_yticks(np.arange(n_rows) + 0.5, list(ROWS[:n_rows]), fontsize=7)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(n_columns + 1), minor=True)
    ax.set_yticks(np.arange(n_rows + 1), minor=True)
    ax.grid(which="minor", color="0.75", linewidth=0.5)
    ax.legend(
        handles=[
            Patch(facecolor=colour, edgecolor="0.6", label=status)
            for status, colour in STATUS_COLOURS.items()
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=len(STATUS_COLOURS),
        fontsize=7,
        frameon=False,
    )
    ax.set_title(
        f"{plate.source}: T50 (min), {len(plate.wells)} wells, {t0:g}-{t1:g} min; "
        "each cell scaled to its well; red line: T50",
        fontsize=8,
        loc="left",
    )
    return ax


def plate_figure(result: T50Analysis) -> Figure:
    """A new figure holding `plot_plate` of `result`, sized to the plate."""
    figure = _plate_canvas(result.plate.wells)
    plot_plate(result, ax=figure.subplots())
    return figure


def plot_well(result: T50Analysis, well: str, ax: Axes | None = None) -> Axes:
    """One well in signal units: readings, fitted curve, half-height and T50, with its flags."""
    if well not in result.plate.wells:
        raise KeyError(f"well {well!r} is not on the plate")
    i = result.plate.wells.index(well)
    fits = result.fits
    ax = ax if ax is not None else Figure(figsize=(5.0, 3.4), layout="constrained").subplots()
    fine = np.linspace(fits.t_start_min, fits.t_end_min, 4 * _FIT_POINTS)
    ax.plot(result.plate.time_min, result.plate.signal[i], ".", markersize=3, color=_DATA_COLOUR,
            label="readings")  # fmt: skip
    ax.plot(fine, fits.predict(fine)[i], color=_FIT_COLOUR, label=f"fit ({fits.model[i]})")
    half = 0.5 * (fits.bottom[i] + fits.top[i])
    if fits.status[i] in (OK, FLAGGED):
        ax.axhline(half, color="0.6", linestyle=":", linewidth=1)
        ax.axvline(fits.t50_min[i], color=_T50_COLOUR, linewidth=1, label="T50")
    flags = ", ".join(fits.flags[i]) or "no flags"
    ax.set_title(f"{well}: T50 {fits.t50_report[i]} min ({fits.status[i]}; {flags})", fontsize=9)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("light scattering (reader units)")
    ax.legend(fontsize=8, frameon=False)
    return ax
