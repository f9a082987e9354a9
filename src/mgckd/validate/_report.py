"""Write a `ValidationReport` as a self-contained HTML page or as JSON, atomically."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from mgckd.validate._run import ReportRow, ValidationReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_TITLE = "mgckd validation report"
_TABLE_COLUMNS = ("id", "kind", "role", "required", "statement", "published", "model", "verdict")
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.statement, td.published, td.detail { max-width: 28em; }
.pass { background: #dff0d8; }
.fail { background: #f2dede; }
.error { background: #fcf0c8; }
.pending { background: #f4f4f4; color: #666; }
figure { margin: 1em 0; }
figure img { max-width: 100%; }
"""


def _png(figure: Figure) -> str:
    """The figure as a base64 PNG (savefig renders PNG with matplotlib's Agg backend)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _anchor(row: ReportRow) -> str:
    return f"figure-{row.id}"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _cell(column: str, value: object) -> str:
    text = _text(value)
    return f'<td class="{column}">{escape(text)}</td>'


def _detail_cell(row: ReportRow) -> str:
    link = f' <a href="#{escape(_anchor(row))}">figure</a>' if row.figure is not None else ""
    return f'<td class="detail">{escape(row.detail)}{link}</td>'


def _table_row(row: ReportRow) -> str:
    data = row.to_dict()
    cells = "".join(_cell(column, data[column]) for column in _TABLE_COLUMNS) + _detail_cell(row)
    return f'<tr class="{escape(str(row.verdict))}">{cells}</tr>'


def _summary(report: ValidationReport) -> str:
    cells = "".join(
        f'<tr class="{escape(verdict)}"><th>{escape(verdict)}</th><td>{count}</td></tr>'
        for verdict, count in report.counts.items()
    )
    failing = ", ".join(row.id for row in report.required_failures) or "none"
    return (
        f'<table class="summary">{cells}</table><p>Required claims failing: {escape(failing)}</p>'
    )


def _figures(report: ValidationReport) -> str:
    blocks = [
        f'<figure id="{escape(_anchor(row))}"><img alt="{escape(row.id)}" '
        f'src="data:image/png;base64,{_png(row.figure)}"><figcaption>{escape(row.id)}: '
        f"{escape(row.detail)}</figcaption></figure>"
        for row in report.rows
        if row.figure is not None
    ]
    return f"<h2>Figures</h2>{''.join(blocks)}" if blocks else ""


def render_html(report: ValidationReport) -> str:
    """The report as one self-contained HTML page (inline CSS, figures as data URIs)."""
    header = "".join(f"<th>{escape(column)}</th>" for column in (*_TABLE_COLUMNS, "detail"))
    body = "".join(_table_row(row) for row in report.rows)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_TITLE}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{_TITLE}</h1><p>mgckd {escape(report.mgckd_version)}</p>"
        f"{_summary(report)}"
        f'<table class="claims"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'
        f"{_figures(report)}</body></html>\n"
    )


def _write_atomic(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`.

    Either the whole file appears or nothing does; an error (missing directory, full disk)
    propagates as `OSError` and leaves no partial file behind.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_html(report: ValidationReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as a self-contained HTML page at `path` (atomically); return the path."""
    return _write_atomic(Path(path), render_html(report))


def write_json(report: ValidationReport, path: str | os.PathLike[str]) -> Path:
    """Write `report.to_json()` at `path` (atomically, UTF-8, indented); return the path."""
    text = json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False)
    return _write_atomic(Path(path), text + "\n")
