"""Turns a bundle plan into zip bytes, the same bytes for the same inputs, cached by the plan's key."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

from .bundle import Plan

# A fixed timestamp and mode for every entry: the archive depends on content alone.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODE = 0o644 << 16


def default_cache_dir() -> Path:
    """$RB2A_CACHE_DIR/bundles, else the XDG cache ($XDG_CACHE_HOME or ~/.cache)/rb2ansible/bundles."""
    if os.environ.get("RB2A_CACHE_DIR"):
        return Path(os.environ["RB2A_CACHE_DIR"]) / "bundles"
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "rb2ansible" / "bundles"


def bundle_bytes(plan: Plan, cache_dir: Path | None = None) -> bytes:
    """The plan's archive: from the cache when built before, else built now and cached."""
    cached = (cache_dir or default_cache_dir()) / f"{plan.key}.zip"
    if cached.is_file():
        return cached.read_bytes()
    data = build_zip(plan)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent run never reads half an archive.
        handle, temporary = tempfile.mkstemp(dir=cached.parent, prefix=f".{cached.stem}.", suffix=".tmp")
    except OSError:
        return data  # an unwritable cache only costs a rebuild next time
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, cached)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
    return data


def build_zip(plan: Plan) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(plan.files):
            item = plan.files[name]
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = _MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, item if isinstance(item, bytes) else item.read_bytes(), compresslevel=9)
    return buffer.getvalue()
