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


# --- simulated spectra of known redshift, written in each survey's layout ------------

#: Native pixel grids (vacuum Å): SDSS/BOSS log-lambda step 1e-4 dex (Smee et al. 2013),
#: DESI B/R/Z arms at 0.8 Å (DESI Collaboration 2022), a 1 Å table in air.
SDSS_LOGLAM = np.arange(np.log10(3800.0), np.log10(9200.0), 1e-4)
DESI_ARMS = {"B": (3600.0, 5930.0), "R": (5660.0, 7720.0), "Z": (7520.0, 9824.0)}
TABLE_AIR = np.arange(3700.0, 9500.0, 1.0)


def simulated(n, instrument, seed, snr=30.0):
    """(z (n,), model-grid wavelength (P,), flux, ivar (n, P)) of ``n`` default-prior
    spectra observed with ``instrument`` at median S/N ``snr``."""
    from pipeline.physics.simulate import chunk_params, simulate

    params, config = chunk_params(0, n, seed, "default", _instrument(instrument))
    params = {**params, "snr": np.full(n, snr)}
    spectra = simulate(params, config, seed)
    return params["z"], spectra.wavelength, spectra.flux, spectra.ivar


def _instrument(name):
    from pipeline.physics.instruments import get_instrument

    return get_instrument(name)


def _onto(wavelength, flux, ivar, centres):
    from pipeline.sampling.resample import edges_from_centres, resample

    return resample(wavelength, flux, ivar, edges_from_centres(centres))


def sdss_files(directory, first_id, wavelength, flux, ivar):
    """One SDSS spec-lite file per spectrum, on the SDSS log-lambda grid."""
    wave = 10.0**SDSS_LOGLAM
    f, i = _onto(wavelength, flux, ivar, wave)
    return [sdss_file(directory / f"spec-{first_id + k}.fits", first_id + k, wave, f[k], i[k]) for k in range(len(f))]


def desi_coadd(path, targetids, wavelength, flux, ivar):
    """One DESI coadd file holding all the spectra, on the B/R/Z arm grids."""
    hdus = [fits.PrimaryHDU(), fits.BinTableHDU(Table({"TARGETID": np.asarray(targetids, np.int64)}),
                                                name="FIBERMAP")]
    for arm, (lo, hi) in DESI_ARMS.items():
        wave = np.arange(lo, hi, 0.8)
        f, i = _onto(wavelength, flux, ivar, wave)
        hdus += [fits.ImageHDU(wave, name=f"{arm}_WAVELENGTH"), fits.ImageHDU(f, name=f"{arm}_FLUX"),
                 fits.ImageHDU(i, name=f"{arm}_IVAR"), fits.ImageHDU(np.zeros(f.shape, np.int32), name=f"{arm}_MASK")]
    fits.HDUList(hdus).writeto(path)
    return path


def table_files(directory, first_id, wavelength, flux, ivar):
    """One generic table per spectrum: air wavelengths in nm, flux with an error column,
    astropy units on every column (the reader must convert all three)."""
    from astropy import units as u

    from pipeline.physics.airvac import air_to_vacuum

    f, i = _onto(wavelength, flux, ivar, air_to_vacuum(TABLE_AIR))
    err = np.where(i > 0, 1.0 / np.sqrt(np.where(i > 0, i, 1.0)), np.inf)
    unit = 1e-17 * u.erg / u.s / u.cm**2 / u.AA
    paths = []
    for k in range(len(f)):
        t = Table({"wavelength": TABLE_AIR / 10.0 * u.nm, "flux": f[k] * unit, "error": err[k] * unit})
        t.meta["AIRORVAC"], t.meta["TARGETID"] = "air", first_id + k
        paths.append(directory / f"table-{first_id + k}.fits")
        t.write(paths[-1])
    return paths
