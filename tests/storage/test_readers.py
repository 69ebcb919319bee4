"""Survey readers on real FITS files written with astropy in each survey's layout."""

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from survey_files import FLUX, IVAR, WAVE, desi_file, sdss_file

from pipeline.physics.airvac import vacuum_to_air
from storage.readers import ReaderError, read


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
