"""DESI ``coadd`` files (many spectra per file, three arms B, R, Z).

HDUs ``{B,R,Z}_WAVELENGTH`` (vacuum Å), ``{arm}_FLUX`` (1e-17 erg/s/cm2/Å),
``{arm}_IVAR`` and ``{arm}_MASK`` (non-zero: bad pixel); ``FIBERMAP`` holds
``TARGETID`` in row order. See the DESI data model (desidatamodel, coadd-*.fits).
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from storage.readers.base import Arm, RawSpectra, ReaderError, floats

FORMAT = "desi"
ARMS = ("B", "R", "Z")


def matches(hdus: fits.HDUList) -> bool:
    return "FIBERMAP" in hdus and any(f"{arm}_FLUX" in hdus for arm in ARMS)


def read(path: str, hdus: fits.HDUList) -> RawSpectra:
    fibermap = hdus["FIBERMAP"].data
    if "TARGETID" not in [c.upper() for c in hdus["FIBERMAP"].columns.names]:
        raise ReaderError(f"{path}: DESI FIBERMAP has no TARGETID column")
    targetid = np.asarray(fibermap["TARGETID"], dtype=np.int64)
    arms = [_arm(path, hdus, arm, len(targetid)) for arm in ARMS if f"{arm}_FLUX" in hdus]
    return RawSpectra(path, FORMAT, targetid, arms)


def _arm(path: str, hdus: fits.HDUList, arm: str, n: int) -> Arm:
    try:
        wave = np.asarray(hdus[f"{arm}_WAVELENGTH"].data, dtype=np.float64)
        flux = np.atleast_2d(floats(hdus[f"{arm}_FLUX"].data))
        ivar = np.atleast_2d(floats(hdus[f"{arm}_IVAR"].data))
    except KeyError as err:
        raise ReaderError(f"{path}: DESI arm {arm} incomplete ({err})") from None
    if flux.shape != ivar.shape or flux.shape != (n, wave.size):
        raise ReaderError(f"{path}: DESI arm {arm} shapes disagree: wavelength {wave.shape}, flux {flux.shape}, "
                          f"ivar {ivar.shape}, FIBERMAP rows {n}")
    if f"{arm}_MASK" in hdus:
        ivar = np.where(np.asarray(hdus[f"{arm}_MASK"].data) != 0, ivar.dtype.type(0), ivar)
    return Arm(wave, flux, ivar)
