"""Survey readers on real FITS files written with astropy in each survey's layout."""

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from pipeline.airvac import vacuum_to_air
from storage.readers import ReaderError, read

WAVE = np.geomspace(3800.0, 9000.0, 400)
FLUX = (2.0 + np.sin(WAVE / 50.0)).astype(np.float32)
IVAR = np.full(WAVE.size, 4.0, np.float32)


def sdss_file(path, specobjid=1234567890123456789):
    coadd = Table({"flux": FLUX, "loglam": np.log10(WAVE).astype(np.float32), "ivar": IVAR,
                   "and_mask": np.where(np.arange(WAVE.size) == 10, 16, 0).astype(np.int32)})
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


def test_sdss_spec_lite(tmp_path):
    raw = read(sdss_file(tmp_path / "spec-0001-51000-0007.fits"))
    assert raw.format == "sdss" and raw.targetid.tolist() == [1234567890123456789]
    arm = raw.arms[0]
    np.testing.assert_allclose(arm.wavelength, WAVE, rtol=1e-6)
    np.testing.assert_allclose(arm.flux[0], FLUX)
    assert arm.ivar[0, 10] == 0 and arm.ivar[0, 11] == 4.0  # AND-mask bit -> bad pixel


def test_desi_coadd(tmp_path):
    raw = read(desi_file(tmp_path / "coadd-main-dark-1000.fits"))
    assert raw.format == "desi" and raw.targetid.tolist() == [39627, 39628]
    assert [a.flux.shape for a in raw.arms] == [(2, 2875), (2, 2500), (2, 2875)]


def test_table_with_units_air_wavelengths_and_errors(tmp_path):
    table = Table({"wave": vacuum_to_air(WAVE) / 10 * u.nm,
                   "flux": FLUX * 1e-17 * u.erg / u.s / u.cm**2 / u.AA,
                   "error": np.full(WAVE.size, 0.5e-17) * u.erg / u.s / u.cm**2 / u.AA})
    hdu = fits.table_to_hdu(table)
    hdu.header["AIRORVAC"] = "air"
    hdu.header["TARGETID"] = 77
    path = tmp_path / "galaxy.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    raw = read(path)
    assert raw.format == "table" and raw.targetid.tolist() == [77] and not raw.meta
    np.testing.assert_allclose(raw.arms[0].wavelength, WAVE, rtol=2e-7)
    np.testing.assert_allclose(raw.arms[0].flux[0], FLUX, rtol=1e-6)
    np.testing.assert_allclose(raw.arms[0].ivar[0], 4.0, rtol=1e-6)


def test_table_per_frequency_flux_is_converted(tmp_path):
    f_nu = (FLUX * 1e-17 * u.erg / u.s / u.cm**2 / u.AA).to(u.mJy, u.spectral_density(WAVE * u.AA))
    table = Table({"wavelength": WAVE * u.AA, "flux": f_nu, "ivar": IVAR})
    path = tmp_path / "fnu.fits"
    table.write(path)
    raw = read(path)
    np.testing.assert_allclose(raw.arms[0].flux[0], FLUX, rtol=1e-5)
    assert any("ivar" in a for a in raw.meta["assumed_units"])


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"SIMPLE  =                    T" + b" " * 50), "unreadable FITS"),
    (lambda p: fits.PrimaryHDU(np.zeros((4, 4))).writeto(p), "not an SDSS spec, DESI coadd or spectrum-table"),
    (lambda p: Table({"wavelength": WAVE, "flux": FLUX}).write(p), "no 'ivar' column"),
])
def test_bad_files_raise_reader_errors_naming_the_file(tmp_path, make, message):
    path = tmp_path / "bad.fits"
    make(path)
    with pytest.raises(ReaderError, match=message) as err:
        read(path)
    assert "bad.fits" in str(err.value)


def test_truncated_file_and_wrong_forced_format(tmp_path):
    path = sdss_file(tmp_path / "spec.fits")
    data = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match="cut.fits"):
        read(cut)
    with pytest.raises(ReaderError, match="does not look like a desi file"):
        read(path, format="desi")
    with pytest.raises(ReaderError, match="no such file"):
        read(tmp_path / "missing.fits")
