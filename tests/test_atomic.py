"""Atomic writes: whole file or nothing, with ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mgckd._atomic import write_text_atomic


def test_written_file_has_the_permissions_open_would_give(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "report.json", "{}")
    finally:
        os.umask(umask)
    assert path.read_text() == "{}"
    assert path.stat().st_mode & 0o777 == 0o644


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        write_text_atomic(tmp_path / "missing" / "report.json", "{}")
    assert list(tmp_path.iterdir()) == []
