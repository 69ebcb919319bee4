"""Nebular continuum: scaled to the lines' ionising budget, dusted with the gas E(B-V)."""

import numpy as np
import pytest

from pipeline.physics.params import validate
from pipeline.physics.simulate import SimulationConfig, continuum, simulate

WITH = SimulationConfig(noise="none", igm=False)
WITHOUT = SimulationConfig(noise="none", igm=False, nebular_continuum=False)
Z = 0.05


def _nebular_and_stars(params, **kw):
    base = dict(z=Z, log_sfr=1.0, log_mass_old=0.0, age_myr=5.0, metallicity=8.4, log_q=7.0, ebv=0.0)
    base.update(kw)
    p = validate(params(1, **base))
    total, stars = continuum(p, WITH)[0], continuum(p, WITHOUT)[0]
    return simulate(p, WITH).wavelength / (1 + Z), total - stars, stars


def _at(lam, values, rest):
    return values[np.searchsorted(lam, rest)]


def test_young_starburst_shows_a_balmer_jump_in_emission(params):
    lam, nebular, stars = _nebular_and_stars(params)
    assert _at(lam, nebular, 3630.0) > 2.0 * _at(lam, nebular, 3680.0)
    # a sensible share of a 5 Myr starburst's light (tens of per cent; near the Balmer jump as much as the stars)
    for rest in (3630.0, 6000.0, 8000.0):
        share = _at(lam, nebular, rest) / _at(lam, stars, rest)
        assert 0.05 < share < 1.5, (rest, share)


def test_nebular_continuum_per_hbeta_is_case_b_like(params):
    """EW(Hbeta) against the pure nebular continuum is ~10^3 Å at T_e ~ 10^4 K."""
    lam, nebular, _ = _nebular_and_stars(params)
    spectra = simulate(validate(params(1, z=Z, log_sfr=1.0, log_mass_old=0.0, age_myr=5.0, metallicity=8.4,
                                        log_q=7.0)), WITH)
    lines = spectra.model_flux[0] - continuum(validate(params(1, z=Z, log_sfr=1.0, log_mass_old=0.0, age_myr=5.0,
                                                              metallicity=8.4, log_q=7.0)), WITH)[0]
    obs = spectra.wavelength
    window = np.abs(obs / (4862.7 * (1 + Z)) - 1) < 1.5e-3
    hbeta = np.sum(lines[window] * np.gradient(obs)[window])
    ew = hbeta / _at(lam, nebular, 4862.7) / (1 + Z)
    assert 700.0 < ew < 1600.0


def test_nebular_continuum_follows_sfr_and_gas_dust(params):
    lam, neb0, _ = _nebular_and_stars(params)
    _, neb_low, _ = _nebular_and_stars(params, log_sfr=0.0)
    np.testing.assert_allclose(_at(lam, neb_low, 6000.0) / _at(lam, neb0, 6000.0), 0.1, rtol=1e-3)
    _, dusty, _ = _nebular_and_stars(params, ebv=0.3)
    from pipeline.physics.dust import attenuation

    assert _at(lam, dusty, 6000.0) / _at(lam, neb0, 6000.0) == pytest.approx(attenuation(6000.0, 0.3), rel=2e-3)


def test_quiescent_galaxy_has_no_nebular_continuum(params):
    lam, nebular, stars = _nebular_and_stars(params, log_sfr=-6.0, log_mass_old=11.0, age_myr=100.0)
    assert np.max(nebular / np.maximum(stars, 1e-30)) < 1e-5
