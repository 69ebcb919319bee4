"""Provenance written into every store and catalogue: code and dependency versions."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

#: Packages whose versions decide the numbers a store holds.
DEPENDENCIES = ("numpy", "scipy", "astropy", "bagpipes", "nebulabayes", "pyneb", "zarr", "torch")


@lru_cache(maxsize=1)
def code_version() -> str:
    """``spectroflow <version>`` plus the git commit (``-dirty`` if modified) when run
    from a checkout."""
    version = f"spectroflow {metadata.version('spectroflow')}"
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version} (git {commit})" if commit else version


def dependency_versions() -> dict[str, str]:
    """Installed versions of ``DEPENDENCIES`` (``"absent"`` if not installed)."""
    out = {}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
