"""A generic 1-D spectrum table (one spectrum per file, one row per pixel).

Columns (case-insensitive): wavelength (``wavelength``/``wave``/``lambda``), flux
(``flux``) and either inverse variance (``ivar``) or an uncertainty (``error``/
``err``/``sigma``/``flux_err``/``uncertainty``). Units come from the columns
(astropy): wavelengths in any length unit; flux density per unit wavelength or per
unit frequency (converted with ``u.spectral_density``). Without units, Å and
1e-17 erg/s/cm2/Å are assumed and recorded in ``meta``. Header ``AIRORVAC = 'air'``
means air wavelengths (converted to vacuum, Morton 2000). The TARGETID is the
header's ``TARGETID`` (or ``OBJID``); otherwise a stable hash of the file name.
Columns that hold arrays (one spectrum per row, as in ESO SDP files) are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.constants import FLUX_UNIT
from storage.readers.base import (
    Arm,
    RawSpectra,
    ReaderError,
    column,
    floats,
    flux_value,
    header_targetid,
    ivar_from_error,
    name_id,
    quantity,
)

FORMAT = "table"
WAVE_NAMES = ("wavelength", "wave", "lambda")
ERROR_NAMES = ("error", "err", "sigma", "flux_err", "uncertainty")


def matches(hdus: fits.HDUList) -> bool:
    return any(isinstance(h, fits.BinTableHDU) and column(h.columns.names, WAVE_NAMES) for h in hdus[1:])


def read(path: str, hdus: fits.HDUList) -> RawSpectra:
    hdu = next(h for h in hdus[1:] if isinstance(h, fits.BinTableHDU) and column(h.columns.names, WAVE_NAMES))
    table = Table.read(hdu)
    names = table.colnames
    wave_col, flux_col = column(names, WAVE_NAMES), column(names, ("flux",))
    if not flux_col:
        raise ReaderError(f"{path}: table has a wavelength column but no 'flux' column")
    for name in (wave_col, flux_col):
        if table[name].ndim != 1:
            raise ReaderError(f"{path}: column {name!r} holds arrays {table[name].shape}, not one value per row "
                              "(an ESO SDP spectrum? use --format eso)")
    assumed = []
    wave = quantity(table[wave_col], table[wave_col].unit, u.AA, assumed, "wavelength")
    flux = quantity(table[flux_col], table[flux_col].unit, FLUX_UNIT, assumed, "flux")
    wave_aa = wave.to_value(u.AA)
    if str(hdu.header.get("AIRORVAC", hdus[0].header.get("AIRORVAC", "vac"))).lower().startswith("air"):
        wave_aa = air_to_vacuum(wave_aa)
    ivar_v = _ivar(path, table, names, wave_aa, assumed)
    flux_v = flux_value(flux, wave_aa)
    arm = Arm(np.asarray(wave_aa, np.float64), floats(flux_v)[None, :], floats(ivar_v)[None, :])
    meta = {"assumed_units": assumed} if assumed else {}
    targetid = header_targetid(hdu.header, hdus[0].header)
    return RawSpectra(path, FORMAT, np.array([name_id(Path(path).name) if targetid is None else targetid], np.int64),
                      [arm], meta)


def _ivar(path, table, names, wave_aa, assumed: list) -> np.ndarray:
    """Inverse variance in (1e-17 erg/s/cm2/Å)^-2 (float64), from an ivar or an error column."""
    if (col := column(names, ("ivar",))) is not None:
        if table[col].unit is None or table[col].unit == u.one:
            if table[col].unit is None:
                assumed.append(f"ivar in ({FLUX_UNIT})^-2")
            return np.asarray(table[col], np.float64)
        return u.Quantity(table[col], dtype=np.float64).to_value(FLUX_UNIT**-2)
    if (col := column(names, ERROR_NAMES)) is not None:
        err = quantity(table[col], table[col].unit, FLUX_UNIT, assumed, "error")
        return ivar_from_error(flux_value(err, wave_aa))
    raise ReaderError(f"{path}: table has no 'ivar' column and no error column ({', '.join(ERROR_NAMES)})")
