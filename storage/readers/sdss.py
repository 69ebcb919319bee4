"""SDSS/BOSS ``spec`` and ``spec-lite`` files (one spectrum per file).

HDU ``COADD``: columns ``flux`` (1e-17 erg/s/cm2/Å), ``loglam`` (log10 vacuum Å),
``ivar`` and ``and_mask`` (pixels with any AND-mask bit set are bad: ivar = 0).
HDU ``SPECOBJ``: ``SPECOBJID`` (the TARGETID here; PLATE/MJD/FIBERID otherwise).
See the SDSS data model, spec-lite (https://data.sdss.org/datamodel/).
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from storage.readers.base import Arm, RawSpectra, ReaderError, floats

FORMAT = "sdss"


def matches(hdus: fits.HDUList) -> bool:
    return "COADD" in hdus and "loglam" in [c.lower() for c in hdus["COADD"].columns.names]


def read(path: str, hdus: fits.HDUList) -> RawSpectra:
    coadd = hdus["COADD"].data
    names = {c.lower(): c for c in coadd.columns.names}
    for need in ("flux", "loglam", "ivar"):
        if need not in names:
            raise ReaderError(f"{path}: SDSS COADD HDU has no '{need}' column")
    wave = 10.0 ** np.asarray(coadd[names["loglam"]], dtype=np.float64)
    flux = floats(coadd[names["flux"]])[None, :]
    ivar = floats(coadd[names["ivar"]])[None, :]
    if "and_mask" in names:
        ivar = np.where(np.asarray(coadd[names["and_mask"]])[None, :] != 0, ivar.dtype.type(0), ivar)
    return RawSpectra(path, FORMAT, np.array([_targetid(path, hdus)], dtype=np.int64), [Arm(wave, flux, ivar)])


def _targetid(path: str, hdus: fits.HDUList) -> int:
    if "SPECOBJ" not in hdus:
        raise ReaderError(f"{path}: SDSS file without a SPECOBJ HDU (no identifier)")
    row = hdus["SPECOBJ"].data[0]
    names = {c.upper(): c for c in hdus["SPECOBJ"].columns.names}
    if "SPECOBJID" in names:
        return int(str(row[names["SPECOBJID"]]).strip())
    if {"PLATE", "MJD", "FIBERID"} <= set(names):
        # the SDSS convention for a spectrum's identity: plate, MJD, fiber
        return int(row[names["PLATE"]]) * 10**9 + int(row[names["MJD"]]) * 10**4 + int(row[names["FIBERID"]])
    raise ReaderError(f"{path}: SPECOBJ has neither SPECOBJID nor PLATE/MJD/FIBERID")
