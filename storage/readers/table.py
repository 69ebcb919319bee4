"""A generic 1-D spectrum table (one spectrum per file, one row per pixel).

Columns (case-insensitive): wavelength (``wavelength``/``wave``/``lambda``), flux
(``flux``) and either inverse variance (``ivar``) or an uncertainty (``error``/
``err``/``sigma``/``flux_err``/``uncertainty``). Units come from the columns
(astropy): wavelengths in any length unit; flux density per unit wavelength or per
unit frequency (converted with ``u.spectral_density``). Without units, Å and
1e-17 erg/s/cm2/Å are assumed and recorded in ``meta``. Header ``AIRORVAC = 'air'``
means air wavelengths (converted to vacuum, Morton 2000). The TARGETID is the
header's ``TARGETID`` (or ``OBJID``); otherwise a stable hash of the file name.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.constants import FLUX_UNIT
from storage.readers.base import Arm, RawSpectra, ReaderError

FORMAT = "table"
WAVE_NAMES = ("wavelength", "wave", "lambda")
ERROR_NAMES = ("error", "err", "sigma", "flux_err", "uncertainty")


def matches(hdus: fits.HDUList) -> bool:
    return any(isinstance(h, fits.BinTableHDU) and _column(h.columns.names, WAVE_NAMES) for h in hdus[1:])


def read(path: str, hdus: fits.HDUList) -> RawSpectra:
    hdu = next(h for h in hdus[1:] if isinstance(h, fits.BinTableHDU) and _column(h.columns.names, WAVE_NAMES))
    table = Table.read(hdu)
    names = table.colnames
    wave_col, flux_col = _column(names, WAVE_NAMES), _column(names, ("flux",))
    if not flux_col:
        raise ReaderError(f"{path}: table has a wavelength column but no 'flux' column")
    assumed = []
    wave = _quantity(table[wave_col], u.AA, assumed, "wavelength")
    flux = _quantity(table[flux_col], FLUX_UNIT, assumed, "flux")
    ivar = _ivar(path, table, names, flux, assumed)
    wave_aa = wave.to_value(u.AA)
    if str(hdu.header.get("AIRORVAC", hdus[0].header.get("AIRORVAC", "vac"))).lower().startswith("air"):
        wave_aa = air_to_vacuum(wave_aa)
    flux_v = flux.to_value(FLUX_UNIT, equivalencies=u.spectral_density(wave_aa * u.AA))
    ivar_v = ivar.to_value(FLUX_UNIT**-2, equivalencies=None) if ivar.unit != u.one else ivar.value
    arm = Arm(np.asarray(wave_aa, np.float64), flux_v[None, :].astype(np.float32), ivar_v[None, :].astype(np.float32))
    meta = {"assumed_units": assumed} if assumed else {}
    return RawSpectra(path, FORMAT, np.array([_targetid(path, hdus, hdu)], np.int64), [arm], meta)


def _column(names, choices) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[c] for c in choices if c in lower), None)


def _quantity(column, default_unit, assumed: list, what: str) -> u.Quantity:
    if column.unit is None:
        assumed.append(f"{what} in {default_unit}")
        return np.asarray(column, dtype=np.float64) * default_unit
    return u.Quantity(column, dtype=np.float64)


def _ivar(path, table, names, flux: u.Quantity, assumed: list) -> u.Quantity:
    """Inverse variance in (1e-17 erg/s/cm2/Å)^-2, from an ivar or an error column."""
    wave = None
    if (col := _column(names, ("ivar",))) is not None:
        if table[col].unit is None:
            assumed.append(f"ivar in ({FLUX_UNIT})^-2")
            return np.asarray(table[col], np.float64) * FLUX_UNIT**-2
        return u.Quantity(table[col], dtype=np.float64)
    if (col := _column(names, ERROR_NAMES)) is not None:
        err = _quantity(table[col], FLUX_UNIT, assumed, "error")
        wave = _quantity(table[_column(names, WAVE_NAMES)], u.AA, [], "wavelength")
        err_v = err.to_value(FLUX_UNIT, equivalencies=u.spectral_density(wave))
        with np.errstate(divide="ignore"):
            return np.where(err_v > 0, 1.0 / err_v**2, 0.0) * FLUX_UNIT**-2
    raise ReaderError(f"{path}: table has no 'ivar' column and no error column ({', '.join(ERROR_NAMES)})")


def _targetid(path: str, hdus, hdu) -> int:
    for key in ("TARGETID", "OBJID"):
        for header in (hdu.header, hdus[0].header):
            if key in header:
                return int(header[key])
    return zlib.crc32(Path(path).name.encode())
