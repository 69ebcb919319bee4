"""Survey readers on real FITS files written with astropy in each survey's layout."""

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from survey_files import FLUX, IVAR, WAVE, desi_file, eso_file, sdss_file

from pipeline.physics.airvac import vacuum_to_air
from storage.readers import FORMATS, READERS, RawSpectra, ReaderError, read
from storage.readers.base import Arm, check, floats, name_id


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
    (lambda p: fits.PrimaryHDU(np.zeros((4, 4))).writeto(p),
     "not an SDSS spec, DESI coadd, ESO SDP spectrum or spectrum-table"),
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


# --- ESO Phase 3 SDP 1-D spectra: one row of array columns ----------------------------

CGS = 1e-17  # FLUX is in 1e-17 erg/s/cm2/Å; ESO files hold erg/s/cm2/Å


def test_eso_spectrum_nm_air_wavelengths_qual_and_bad_errors(tmp_path):
    flux, err = FLUX * CGS, np.full(WAVE.size, 0.5 * CGS)
    qual = np.where(np.arange(WAVE.size) == 10, 4, 0)
    err[20], err[21], flux[30] = 0.0, np.nan, np.nan  # ERR <= 0, ERR NaN, FLUX NaN: bad pixels
    path = eso_file(tmp_path / "ADP.fits", vacuum_to_air(WAVE) / 10.0, flux, err, qual)
    raw = read(path)
    assert raw.format == "eso" and len(raw) == 1 and not raw.meta
    assert raw.targetid.tolist() == [name_id("ADP.2024-01-01T00:00:00.000.fits")]  # ARCFILE
    arm = raw.arms[0]
    np.testing.assert_allclose(arm.wavelength, WAVE, rtol=2e-7)  # nm, air -> vacuum Å
    bad = np.isin(np.arange(WAVE.size), [10, 20, 21, 30])
    np.testing.assert_allclose(arm.flux[0][~bad], FLUX[~bad], rtol=1e-6)
    np.testing.assert_allclose(arm.ivar[0][~bad], 4.0, rtol=1e-6)
    assert np.all(arm.ivar[0][bad] == 0) and np.isfinite(arm.flux).all()
    assert arm.flux.dtype == arm.ivar.dtype == np.float32


def test_eso_vacuum_wave_air_column_scaled_units_and_header_targetid(tmp_path):
    vac = eso_file(tmp_path / "vac.fits", WAVE, FLUX, np.full(WAVE.size, 0.5), wave_unit="angstrom",
                   wave_ucd="em.wl", flux_unit="10**(-17)erg/s/cm2/Angstrom", header={"TARGETID": 5})
    raw = read(vac)
    assert raw.targetid.tolist() == [5]
    np.testing.assert_array_equal(raw.arms[0].wavelength, WAVE)  # em.wl: vacuum, unchanged
    np.testing.assert_allclose(raw.arms[0].flux[0], FLUX, rtol=1e-6)
    np.testing.assert_allclose(raw.arms[0].ivar[0], 4.0, rtol=1e-6)
    air = eso_file(tmp_path / "air.fits", vacuum_to_air(WAVE), FLUX * CGS, np.full(WAVE.size, 0.5 * CGS),
                   wave_unit="angstrom", wave_ucd="", wave_name="WAVE_AIR")
    np.testing.assert_allclose(read(air).arms[0].wavelength, WAVE, rtol=2e-7)  # WAVE_AIR: air, converted
    none = eso_file(tmp_path / "none.fits", vacuum_to_air(WAVE), FLUX * CGS, np.full(WAVE.size, 0.5 * CGS),
                    wave_unit="angstrom", wave_ucd="")
    raw = read(none)  # no TUCD, no AIRORVAC: air assumed, and said so
    np.testing.assert_allclose(raw.arms[0].wavelength, WAVE, rtol=2e-7)
    assert "wavelength in air (no TUCD)" in raw.meta["assumed_units"]


def test_eso_uncalibrated_adu_flux_is_kept_as_a_relative_flux(tmp_path):
    path = eso_file(tmp_path / "adu.fits", WAVE / 10.0, FLUX * 300.0, np.full(WAVE.size, 150.0), flux_unit="ADU")
    raw = read(path, format="eso")
    np.testing.assert_allclose(raw.arms[0].flux[0], FLUX * 300.0, rtol=1e-6)
    np.testing.assert_allclose(raw.arms[0].ivar[0], 1 / 150.0**2, rtol=1e-6)
    assert any("relative flux" in a for a in raw.meta["assumed_units"])


def test_eso_arrays_of_different_lengths_are_a_reader_error(tmp_path):
    path = eso_file(tmp_path / "broken.fits", WAVE / 10.0, FLUX[:-10] * CGS, np.full(WAVE.size - 10, CGS))
    with pytest.raises(ReaderError, match=r"broken.fits: ESO spectrum arrays differ in length: WAVE 400, FLUX 390"):
        read(path)


def test_one_row_array_table_is_eso_and_refused_by_the_table_reader(tmp_path):
    """The reported case: such a file used to pass as a table and fail later (ValueError)."""
    path = eso_file(tmp_path / "adp.fits", WAVE / 10.0, FLUX * CGS, np.full(WAVE.size, CGS))
    assert read(path).format == "eso"
    with pytest.raises(ReaderError, match="holds arrays"):
        read(path, format="table")


def test_eso_is_detected_before_the_generic_table_and_offered_by_the_cli():
    from flows.cli import build_parser
    from flows.cli.common import FORMATS as CLI_FORMATS

    assert list(READERS).index("eso") < list(READERS).index("table")
    assert CLI_FORMATS == FORMATS
    assert build_parser().parse_args(["ingest", "a.fits", "--out", "s.zarr", "--format", "eso"]).format == "eso"


def test_reader_output_breaking_the_contract_is_a_reader_error():
    arm = Arm(WAVE, np.ones((2, WAVE.size), np.float32), np.ones((1, WAVE.size), np.float32))
    with pytest.raises(ReaderError, match="x.fits: table reader: arm 0: flux"):
        check(RawSpectra("x.fits", "table", np.array([1, 2]), [arm]))
    arm = Arm(WAVE[None, :], np.ones((1, WAVE.size), np.float32), np.ones((1, WAVE.size), np.float32))
    with pytest.raises(ReaderError, match="wavelength must be 1-D"):
        check(RawSpectra("x.fits", "table", np.array([1]), [arm]))


def test_floats_keep_float32_unless_the_values_need_float64():
    assert floats(np.ones(3, ">f4")).dtype == np.float32
    assert floats(np.array([1.0, 2e30, np.nan])).dtype == np.float32
    big = floats(np.array([4e60, 0.0, np.inf]))
    assert big.dtype == np.float64 and big[0] == 4e60
    assert floats(np.array([1e-47])).dtype == np.float64
