"""Rest-UV features at 1.5 < z < 4: interstellar absorption and the nebular UV lines."""

import numpy as np
import pytest

from pipeline.physics.constants import C_KMS
from pipeline.physics.ism_absorption import ISM_LINES
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.params import validate
from pipeline.physics.simulate import SimulationConfig, continuum, line_fluxes, simulate

CONFIG = SimulationConfig(noise="none", igm=False)
Z = 2.5


def _star_forming(params, **kw):
    base = dict(z=Z, log_sfr=1.5, log_mass_old=0.0, age_myr=100.0, sigma_v=50.0, v_ism=-150.0,
                lambda_lo=4100.0, lambda_hi=11000.0)
    base.update(kw)
    return validate(params(1, **base))


def _transmission(params, **kw):
    """Continuum with the troughs over the same continuum without them, (npix,)."""
    with_ism = continuum(_star_forming(params, ism_ew_scale=1.0, **kw), CONFIG)[0]
    without = continuum(_star_forming(params, ism_ew_scale=0.0, **kw), CONFIG)[0]
    return np.divide(with_ism, without, out=np.ones_like(with_ism), where=without > 0)


@pytest.mark.parametrize("name", ["SiII1260", "CII1334", "SiII1526", "FeII2344", "FeII2587", "FeII2600"])
def test_rest_equivalent_width_of_isolated_troughs_matches_input(params, name):
    wavelength = simulate(_star_forming(params), CONFIG).wavelength
    t = _transmission(params)
    rest, ew_in = ISM_LINES[name]
    centre = rest * (1 + Z) * (1 - 150.0 / C_KMS)
    window = np.abs(wavelength / centre - 1) < 1000.0 / C_KMS
    ew = np.sum((1 - t[window]) * np.gradient(wavelength)[window]) / (1 + Z)
    assert ew == pytest.approx(ew_in, rel=0.03)  # f_young ~ 1: no old stars
    trough = wavelength[window][np.argmin(t[window])]
    assert abs(trough / centre - 1) * C_KMS < 40.0  # blueshifted by v_ism, within a pixel


def test_quiescent_galaxy_has_no_interstellar_absorption(params):
    t = _transmission(params, log_sfr=-6.0, log_mass_old=11.0, age_old_gyr=2.0)
    assert np.max(np.abs(1 - t)) < 1e-3


def test_nebular_uv_lines_are_rendered_at_high_redshift(params):
    grid = load_line_grid()
    p = _star_forming(params, ism_ew_scale=0.0, log_q=8.4, metallicity=8.0)
    flux = line_fluxes(p, CONFIG)[0]
    for name in ("CIV1548", "CIV1551", "HeII1640", "OIII1661", "OIII1666", "CIII1907", "CIII1909"):
        assert flux[grid.index(name)] > 0, name
    spectra = simulate(p, CONFIG)
    lines = spectra.model_flux[0] - continuum(p, CONFIG)[0]
    lam = spectra.wavelength
    centre = 1907.7 * (1 + Z)
    window = np.abs(lam / centre - 1) < 600.0 / C_KMS
    measured = np.sum(lines[window] * np.gradient(lam)[window])
    expected = flux[grid.index("CIII1907")] + flux[grid.index("CIII1909")]
    assert measured == pytest.approx(expected, rel=0.02)
