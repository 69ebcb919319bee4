"""The parameter table: one row per spectrum, one 1-D array per column.

A table is a ``dict[str, np.ndarray]``: it converts to and from pandas, astropy
Tables and Zarr label columns without ceremony. ``validate`` refuses anything the
physics would have to extrapolate, naming the parameter and the first bad row.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from pipeline.physics.nebular import load_line_grid
from pipeline.physics.stellar import LOG_OLD_AGE_NODES, LOG_YOUNG_AGE_NODES
from pipeline.sampling.grid import Z_MAX, model_grid

ParameterTable = dict[str, np.ndarray]
#: ``spectype`` codes (``spectypes.py``) whose z is local: STAR (v/c) and SKY (0).
LOCAL_SPECTYPES = (2, 3)

#: Column -> (unit, meaning). The order is the label order of stores and catalogues.
COLUMNS: dict[str, tuple[str, str]] = {
    "z": ("", "redshift"),
    "log_sfr": ("log10(Msun/yr)", "current star-formation rate (sets the line fluxes)"),
    "metallicity": ("12+log(O/H)", "gas-phase oxygen abundance"),
    "log_q": ("log10(cm/s)", "ionisation parameter q = U c"),
    "log_pk": ("log10(K/cm3)", "ISM pressure P/k"),
    "ebv": ("mag", "nebular colour excess E(B-V); stars get 0.44x"),
    "age_myr": ("Myr", "duration of the current constant star formation"),
    "log_mass_old": ("log10(Msun)", "mass formed in the old burst"),
    "age_old_gyr": ("Gyr", "age of the old burst"),
    "sigma_v": ("km/s", "gas velocity dispersion (line width before the LSF)"),
    "lya_fesc": ("", "Lyman-alpha escape fraction"),
    "sigma_star": ("km/s", "stellar line-of-sight velocity dispersion (continuum width before the LSF)"),
    "ism_ew_scale": ("", "interstellar UV absorption strength relative to the LBG composite"),
    "v_ism": ("km/s", "velocity of the interstellar absorption (negative: outflow)"),
    "snr": ("", "target median S/N per pixel over the covered range"),
    "lambda_lo": ("Angstrom", "blue edge of the covered range (vacuum)"),
    "lambda_hi": ("Angstrom", "red edge of the covered range (vacuum)"),
}


def _static_bounds() -> dict[str, tuple[float, float]]:
    grid = model_grid()
    young = 10.0 ** (LOG_YOUNG_AGE_NODES[[0, -1]] - 6)
    old = 10.0 ** (LOG_OLD_AGE_NODES[[0, -1]] - 9)
    return {
        "z": (0.0, Z_MAX),
        "log_sfr": (-6.0, 4.0),
        "ebv": (0.0, 3.0),
        "age_myr": (float(young[0]), float(young[1])),
        "log_mass_old": (0.0, 13.0),
        "age_old_gyr": (float(old[0]), float(old[1])),
        "sigma_v": (0.0, 1000.0),
        "lya_fesc": (0.0, 1.0),
        "sigma_star": (0.0, 500.0),
        "ism_ew_scale": (0.0, 5.0),
        "v_ism": (-1000.0, 1000.0),
        "snr": (0.0, 1e4),
        "lambda_lo": (grid.wavelength[0], grid.wavelength[-1]),
        "lambda_hi": (grid.wavelength[0], grid.wavelength[-1]),
    }


def bounds() -> dict[str, tuple[float, float]]:
    """Allowed (min, max) of each column: the model grids' own ranges."""
    return {**_static_bounds(), **load_line_grid().bounds}


#: Columns whose lower bound is excluded (z = 0 has no luminosity distance; S/N 0 no noise model).
_OPEN_BELOW = {"z", "snr"}


#: |z| allowed for stars (v/c) and sky fibres (``spectypes.py``): 3,000 km/s.
MAX_LOCAL_Z = 0.01


def _local(table, n: int) -> np.ndarray:
    """(n,) bool: rows of a class without a cosmological redshift (STAR, SKY)."""
    cls = table.get("spectype")
    if cls is None:
        return np.zeros(n, bool)
    return np.isin(np.atleast_1d(np.asarray(cls)).astype(np.int64), LOCAL_SPECTYPES)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def from_sfr(table: Mapping[str, np.ndarray]) -> ParameterTable:
    """Accept a linear ``sfr`` column (Msun/yr) in place of ``log_sfr``."""
    table = {k: np.asarray(v) for k, v in table.items()}
    if "sfr" in table:
        sfr = table.pop("sfr").astype(np.float64)
        bad = ~(sfr > 0)
        if bad.any():
            i = _first_bad(bad)
            raise ValueError(f"parameter 'sfr' must be > 0 Msun/yr: got {sfr[i]} at row {i}")
        table["log_sfr"] = np.log10(sfr)
    return table


def validate(table: Mapping[str, np.ndarray]) -> ParameterTable:
    """Check a parameter table; return it as float64 arrays. ValueError names the problem."""
    table = from_sfr(table)
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise ValueError(f"parameter table lacks column(s): {', '.join(missing)}")
    out = {c: np.atleast_1d(np.asarray(table[c], dtype=np.float64)) for c in COLUMNS}
    n = len(out["z"])
    for name, (lo, hi) in bounds().items():
        x = out[name]
        if x.shape != (n,):
            raise ValueError(f"parameter '{name}' has shape {x.shape}, expected ({n},)")
        low_bad = x <= lo if name in _OPEN_BELOW else x < lo
        bad = ~np.isfinite(x) | low_bad | (x > hi)
        if name == "z":  # a star's z is its radial velocity v/c, a sky fibre's 0
            bad &= ~(_local(table, n) & (np.abs(x) <= MAX_LOCAL_Z))
        if bad.any():
            i = _first_bad(bad)
            where = "(" if name in _OPEN_BELOW else "["
            raise ValueError(
                f"parameter '{name}' = {x[i]} at row {i} is outside the model's range "
                f"{where}{lo:g}, {hi:g}] ({COLUMNS[name][1]}); no extrapolation"
            )
    bad = out["lambda_hi"] <= out["lambda_lo"]
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"parameter 'lambda_hi' must exceed 'lambda_lo' (row {i})")
    return {**out, **_extra_columns(table, n)}


def _extra_columns(table, n: int) -> ParameterTable:
    """Columns beyond ``COLUMNS`` (e.g. galaxy_class, targetid) pass through unchanged."""
    extra = {k: np.atleast_1d(np.asarray(v)) for k, v in table.items() if k not in COLUMNS}
    for name, x in extra.items():
        if x.shape != (n,):
            raise ValueError(f"column '{name}' has shape {x.shape}, expected ({n},)")
    return extra
