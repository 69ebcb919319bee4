"""Physics of the rendered spectra: measured on the output arrays, not on inputs."""

import numpy as np
import pytest
from astropy import units as u
from astropy.cosmology import Planck18

from pipeline.physics.dust import calzetti_k
from pipeline.physics.igm import igm_transmission
from pipeline.physics.instruments import DESI, SDSS
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.params import validate
from pipeline.physics.simulate import SimulationConfig, continuum, simulate, simulate_chunk

NOISELESS = SimulationConfig(noise="none", igm=False)


def lines_only(params, config=NOISELESS):
    """Rendered model spectrum minus its continuum: the emission lines alone."""
    spectra = simulate(params, config)
    return spectra.wavelength, spectra.model_flux - continuum(validate(params), config)


def integrate(wavelength, flux, centre, half_width_kms=450.0):
    """Integrated flux (per row) within +-half_width of ``centre`` (Å, per row)."""
    width = np.gradient(wavelength)
    window = np.abs(wavelength[None, :] / centre[:, None] - 1) < half_width_kms / 3e5
    return (flux * width * window).sum(axis=1)


def vacuum(name):
    grid = load_line_grid()
    return grid.wavelength[grid.index(name)]


@pytest.mark.parametrize("name", ["Halpha", "OIII5007", "Hbeta"])
def test_line_centres_land_at_one_plus_z_times_rest_within_a_pixel(params, name):
    z = np.array([0.05, 0.31, 0.6, 0.9, 1.2])
    p = params(len(z), z=z, sigma_v=30.0)
    lam, lines = lines_only(p)
    expected = vacuum(name) * (1 + z)
    ok = expected < lam[-1] - 20
    for i in np.flatnonzero(ok):
        near = np.abs(lam / expected[i] - 1) < 3e-3
        peak = lam[near][np.argmax(lines[i][near])]
        pixel = lam[np.searchsorted(lam, peak)] * np.expm1(1.0909e-4)
        assert abs(peak - expected[i]) <= pixel, (name, z[i], peak, expected[i])


def test_halpha_flux_scales_as_inverse_square_luminosity_distance(params):
    z = np.array([0.01, 0.1, 0.3, 0.6])
    lam, lines = lines_only(params(len(z), z=z))
    flux = integrate(lam, lines, vacuum("Halpha") * (1 + z))
    dl = Planck18.luminosity_distance(z).to_value(u.cm)
    product = flux * dl**2
    np.testing.assert_allclose(product / product[0], 1.0, rtol=2e-3)
    # and the absolute level: L(Halpha) = SFR / 5.5e-42 erg/s (SFR = 10 Msun/yr here)
    lum = 4 * np.pi * product * 1e-17
    np.testing.assert_allclose(lum, 10.0 / 5.5e-42, rtol=5e-3)


def test_halpha_flux_is_linear_in_sfr(params):
    log_sfr = np.array([-1.0, 0.0, 1.0, 2.0])
    lam, lines = lines_only(params(4, log_sfr=log_sfr, z=0.2))
    flux = integrate(lam, lines, np.full(4, vacuum("Halpha") * 1.2))
    np.testing.assert_allclose(flux / flux[0], 10.0 ** (log_sfr + 1), rtol=2e-3)


def test_intrinsic_and_dusty_balmer_decrement_follow_calzetti(params):
    ebv = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    z = 0.1
    lam, lines = lines_only(params(len(ebv), ebv=ebv, z=z, metallicity=8.3))
    ha = integrate(lam, lines, np.full(len(ebv), vacuum("Halpha") * (1 + z)))
    hb = integrate(lam, lines, np.full(len(ebv), vacuum("Hbeta") * (1 + z)))
    decrement = ha / hb
    assert abs(decrement[0] / 2.86 - 1) < 0.03  # case B before dust
    k_hb, k_ha = calzetti_k([vacuum("Hbeta"), vacuum("Halpha")])
    expected = decrement[0] * 10 ** (0.4 * ebv * (k_hb - k_ha))
    np.testing.assert_allclose(decrement, expected, rtol=2e-3)


def test_igm_suppresses_flux_blueward_of_lyman_alpha_as_inoue_predicts(params):
    z = np.array([3.2, 4.0, 5.5])
    p = params(len(z), z=z, lya_fesc=0.0)
    with_igm = simulate(p, SimulationConfig(noise="none", igm=True)).model_flux
    without = simulate(p, NOISELESS).model_flux
    lam = simulate(p, NOISELESS).wavelength
    forest = (lam[None, :] < 1180 * (1 + z[:, None])) & (lam[None, :] > 1050 * (1 + z[:, None]))
    ratio = np.where(forest, with_igm / np.where(without > 0, without, 1), np.nan)
    expected = igm_transmission(lam, z)
    np.testing.assert_allclose(ratio[forest], expected[forest], rtol=1e-4)
    mean_t = np.nanmean(ratio, axis=1)
    assert np.all(np.diff(mean_t) < 0) and mean_t[0] < 0.8 and mean_t[-1] < 0.3
    red = lam[None, :] > 1230 * (1 + z[:, None])
    np.testing.assert_allclose(with_igm[red], without[red])


@pytest.mark.parametrize("snr", [5.0, 10.0, 20.0, 50.0])
def test_measured_snr_matches_requested(params, snr):
    rng = np.random.default_rng(int(snr))
    n = 60
    z = rng.uniform(0.05, 3.0, n)
    lo = rng.uniform(4100, 7000, n)
    p = params(n, z=z, snr=snr, lambda_lo=lo, lambda_hi=np.minimum(lo + 3900, 11000), log_mass_old=10.0)
    s = simulate(p, SimulationConfig(), seed=7)
    red = (s.ivar > 0) & (s.wavelength[None, :] > 1215.67 * (1 + z[:, None]))
    # SDSS's SN_MEDIAN, measured on the noisy flux and the reported ivar
    measured = np.array([np.median((s.flux[i] * np.sqrt(s.ivar[i]))[red[i]]) for i in range(n)])
    assert abs(np.median(measured) / snr - 1) < 0.10
    # and the reported ivar is honest: the pulls of the actual noise have unit scatter
    pulls = ((s.flux - s.model_flux) * np.sqrt(s.ivar))[s.ivar > 0]
    assert abs(pulls.std() - 1) < 0.02


def test_thesis_noise_is_twenty_percent_of_flux_std(params):
    p = params(3, z=[0.3, 1.0, 2.0])
    s = simulate(p, SimulationConfig(noise="thesis", igm=False), seed=1)
    for i in range(3):
        covered = s.ivar[i] > 0
        sigma = 1 / np.sqrt(s.ivar[i][covered])
        np.testing.assert_allclose(sigma, 0.2 * s.model_flux[i][covered].std(), rtol=1e-4)


def test_same_seed_is_byte_identical_and_seeds_differ():
    a, b = simulate_chunk(3, 50, seed=11), simulate_chunk(3, 50, seed=11)
    assert a.flux.tobytes() == b.flux.tobytes() and a.ivar.tobytes() == b.ivar.tobytes()
    assert not np.array_equal(a.flux, simulate_chunk(3, 50, seed=12).flux)


def test_chunk_order_does_not_change_spectra():
    forward = [simulate_chunk(c, 20, seed=5) for c in range(3)]
    backward = [simulate_chunk(c, 20, seed=5) for c in reversed(range(3))][::-1]
    for f, b in zip(forward, backward):
        assert f.flux.tobytes() == b.flux.tobytes()
        assert all(np.array_equal(f.labels[k], b.labels[k]) for k in f.labels)


@pytest.mark.parametrize("instrument", [SDSS, DESI])
def test_other_instruments_fill_only_their_range(instrument):
    s = simulate_chunk(0, 10, seed=2, instrument=instrument)
    lo, hi = instrument.lambda_range
    outside = (s.wavelength < lo) | (s.wavelength > hi)
    assert np.all(s.ivar[:, outside] == 0) and np.all(s.flux[:, outside] == 0)
    inside = (s.wavelength > lo + 5) & (s.wavelength < hi - 5)
    assert np.all((s.ivar[:, inside] > 0).mean(axis=1) > 0.97)  # all but the artifacts' masked pixels


def test_deimos_coverage_shifts_from_spectrum_to_spectrum():
    s = simulate_chunk(0, 200, seed=3)
    first = np.argmax(s.ivar > 0, axis=1)
    npix = (s.ivar > 0).sum(axis=1)
    assert s.wavelength[first].min() < 4500 and s.wavelength[first].max() > 6500
    assert 3500 < npix.min() and npix.max() < 9100
    assert np.all(np.isfinite(s.flux)) and np.all(s.ivar >= 0)


@pytest.mark.parametrize(
    "column, value",
    [("metallicity", 9.5), ("log_q", 9.0), ("log_pk", 3.0), ("z", 0.0), ("z", -0.1),
     ("ebv", np.nan), ("snr", np.inf), ("age_myr", 2e5), ("sfr", -1.0)],
)
def test_bad_parameters_raise_a_value_error_naming_them(params, column, value):
    p = params(3)
    if column == "sfr":
        p.pop("log_sfr")
        p["sfr"] = np.array([1.0, value, 2.0])
    else:
        p[column][1] = value
    with pytest.raises(ValueError, match=f"'{column}'"):
        simulate(p)


def test_missing_column_is_named(params):
    p = params(2)
    del p["log_pk"]
    with pytest.raises(ValueError, match="log_pk"):
        simulate(p)
