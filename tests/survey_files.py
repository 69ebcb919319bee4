"""Survey files in each survey's FITS layout, written with astropy (test data)."""

import numpy as np
from astropy.io import fits
from astropy.table import Table

WAVE = np.geomspace(3800.0, 9000.0, 400)
FLUX = (2.0 + np.sin(WAVE / 50.0)).astype(np.float32)
IVAR = np.full(WAVE.size, 4.0, np.float32)


def sdss_file(path, specobjid=1234567890123456789, wave=None, flux=None, ivar=None):
    wave = WAVE if wave is None else wave
    flux = FLUX if flux is None else flux
    ivar = IVAR if ivar is None else ivar
    coadd = Table({"flux": np.asarray(flux, np.float32), "loglam": np.log10(wave).astype(np.float32),
                   "ivar": np.asarray(ivar, np.float32),
                   "and_mask": np.where(np.arange(wave.size) == 10, 16, 0).astype(np.int32)})
    specobj = Table({"SPECOBJID": [str(specobjid)], "PLATE": [1], "MJD": [51000], "FIBERID": [7]})
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(coadd), fits.table_to_hdu(specobj)]).writeto(path)
    with fits.open(path, mode="update") as h:
        h[1].name, h[2].name = "COADD", "SPECOBJ"
    return path


def desi_file(path, targetids=(39627, 39628)):
    n = len(targetids)
    hdus = [fits.PrimaryHDU(), fits.BinTableHDU(Table({"TARGETID": np.array(targetids, np.int64)}), name="FIBERMAP")]
    for arm, (lo, hi) in {"B": (3600, 5900), "R": (5700, 7700), "Z": (7500, 9800)}.items():
        wave = np.arange(lo, hi, 0.8)
        hdus += [fits.ImageHDU(wave, name=f"{arm}_WAVELENGTH"),
                 fits.ImageHDU(np.ones((n, wave.size), np.float32), name=f"{arm}_FLUX"),
                 fits.ImageHDU(np.full((n, wave.size), 2.0, np.float32), name=f"{arm}_IVAR"),
                 fits.ImageHDU(np.zeros((n, wave.size), np.int32), name=f"{arm}_MASK")]
    fits.HDUList(hdus).writeto(path)
    return path
