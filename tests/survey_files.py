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


def desi_coadd(path, targetids, wavelength, flux, ivar, edit=None):
    """One DESI coadd file holding all the spectra, on the B/R/Z arm grids; ``edit``, if
    given, turns each arm's resampled (flux, ivar) into what is written."""
    hdus = [fits.PrimaryHDU(), fits.BinTableHDU(Table({"TARGETID": np.asarray(targetids, np.int64)}),
                                                name="FIBERMAP")]
    for arm, (lo, hi) in DESI_ARMS.items():
        wave = np.arange(lo, hi, 0.8)
        f, i = _onto(wavelength, flux, ivar, wave)
        if edit is not None:
            f, i = edit(f, i)
        hdus += [fits.ImageHDU(wave, name=f"{arm}_WAVELENGTH"), fits.ImageHDU(f, name=f"{arm}_FLUX"),
                 fits.ImageHDU(i, name=f"{arm}_IVAR"), fits.ImageHDU(np.zeros(f.shape, np.int32), name=f"{arm}_MASK")]
    fits.HDUList(hdus).writeto(path)
    return path


def native(wavelength, flux, ivar, air_aa):
    """(flux, error), float64, of model-grid spectra resampled onto the air wavelengths
    ``air_aa`` (Å; vacuum pixel centres), error = 1/sqrt(ivar) (inf where ivar = 0)."""
    from pipeline.physics.airvac import air_to_vacuum

    f, i = (a.astype(np.float64) for a in _onto(wavelength, flux, ivar, air_to_vacuum(air_aa)))
    return f, np.where(i > 0, 1.0 / np.sqrt(np.where(i > 0, i, 1.0)), np.inf)


def table_file(path, targetid, flux, error, wave_air=TABLE_AIR):
    """A generic table: air wavelengths in nm, flux and error in 1e-17 erg/s/cm2/Å, with
    astropy units on every column (the reader must convert all three)."""
    from astropy import units as u

    unit = 1e-17 * u.erg / u.s / u.cm**2 / u.AA
    t = Table({"wavelength": wave_air / 10.0 * u.nm, "flux": flux * unit, "error": error * unit})
    t.meta["AIRORVAC"], t.meta["TARGETID"] = "air", targetid
    t.write(path)
    return path


def table_files(directory, first_id, wavelength, flux, ivar):
    """One generic table per spectrum (``table_file``)."""
    f, err = native(wavelength, flux, ivar, TABLE_AIR)
    return [table_file(directory / f"table-{first_id + k}.fits", first_id + k, f[k], err[k]) for k in range(len(f))]


#: ESO SDP spectra: air wavelengths in nm on a 0.1 nm grid (an X-shooter-like product).
ESO_AIR_NM = np.arange(370.0, 950.0, 0.1)


def eso_file(path, wave, flux, err, qual=None, *, wave_unit="nm", flux_unit="erg cm**(-2) s**(-1) angstrom**(-1)",
             wave_ucd="em.wl;obs.atmos", wave_name="WAVE", arcfile="ADP.2024-01-01T00:00:00.000.fits",
             header=None, dtype=np.float64):
    """An ESO Phase 3 SDP 1-D spectrum (SCIENCE.SPECTRUM): a one-row BINTABLE of arrays
    WAVE, FLUX, ERR (and QUAL), with TUNIT/TUCD/TUTYP as the standard sets them.
    Arrays of different lengths are written as given (a broken product)."""
    arrays = {wave_name: np.asarray(wave, np.float64), "FLUX": np.asarray(flux, dtype),
              "ERR": np.asarray(err, dtype)}
    if qual is not None:
        arrays["QUAL"] = np.asarray(qual, np.int32)
    codes = {np.dtype(np.float64): "D", np.dtype(np.float32): "E", np.dtype(np.int32): "J"}
    columns = [fits.Column(name=name, format=f"{max(a.size, 1)}{codes[a.dtype]}", array=a[None, :])
               for name, a in arrays.items()]
    hdu = fits.BinTableHDU.from_columns(columns, name="SPECTRUM")
    meta = {wave_name: (wave_unit, wave_ucd, "spec:Data.SpectralAxis.Value"),
            "FLUX": (flux_unit, "phot.flux.density;em.wl;src.net;meta.main", "spec:Data.FluxAxis.Value"),
            "ERR": (flux_unit, "stat.error;phot.flux.density;meta.main", "spec:Data.FluxAxis.Accuracy.StatError"),
            "QUAL": ("", "meta.code.qual;meta.main", "spec:Data.FluxAxis.Accuracy.QualityStatus")}
    for k, name in enumerate(arrays, start=1):
        unit, ucd, utype = meta[name]
        if unit:
            hdu.header[f"TUNIT{k}"] = unit
        if ucd:
            hdu.header[f"TUCD{k}"] = ucd
        hdu.header[f"TUTYP{k}"] = utype
    hdu.header["VOCLASS"], hdu.header["NELEM"] = "SPECTRUM v2.0", arrays["FLUX"].size
    primary = fits.PrimaryHDU()
    primary.header.update({"PRODCATG": "SCIENCE.SPECTRUM", "ORIGIN": "ESO", "INSTRUME": "XSHOOTER",
                           "SPECSYS": "BARYCENT", "ARCFILE": arcfile, **(header or {})})
    fits.HDUList([primary, hdu]).writeto(path)
    return path


def eso_files(directory, names, wavelength, flux, ivar):
    """One ESO SDP file per spectrum, on ``ESO_AIR_NM``, flux and error in erg/s/cm2/Å,
    QUAL 1 where there is no data."""
    f, err = native(wavelength, flux, ivar, ESO_AIR_NM * 10.0)
    return [eso_file(directory / f"{name}.fits", ESO_AIR_NM, f[k] * 1e-17, err[k] * 1e-17,
                     np.isinf(err[k]).astype(np.int32), arcfile=f"ADP.{name}.fits") for k, name in enumerate(names)]


def ingest_and_score(directory, files, model):
    """Ingest ``files`` into ``directory``/survey.zarr, score every chunk with ``model``
    into ``directory``/cat and return the merged catalogue as a DataFrame."""
    import pyarrow.parquet as pq

    from flows.jobs.ingest import IngestRequest, fill_chunk, index_files, prepare
    from flows.jobs.score import ScoreRequest, merge, score_chunk
    from storage import store

    request = IngestRequest(tuple(map(str, files)), str(directory / "survey.zarr"), chunk=16)
    for index in prepare(request, index_files(request.files)):
        fill_chunk(request.out, index)
    for index in range(store.n_chunks(*store.layout(request.out))):
        score_chunk(request.out, model, str(directory / "cat"), index)
    merge(ScoreRequest(request.out, model, str(directory / "cat")))
    return pq.read_table(directory / "cat" / "catalogue.parquet").to_pandas()
