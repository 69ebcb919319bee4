"""Stellar velocity dispersion and LSF: measured on rendered noiseless continua."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import minimize_scalar

from pipeline.physics.constants import C_KMS
from pipeline.physics.instruments import DEIMOS
from pipeline.physics.kinematics import SIGMA_STAR_CLIP_KMS, draw_sigma_star, node_weights
from pipeline.physics.params import validate
from pipeline.physics.simulate import SimulationConfig, continuum
from pipeline.physics.stellar import (
    LOG_OLD_AGE_NODES,
    LOG_Z_NODES,
    StellarLibrary,
    library_resolution,
    load_stellar_library,
)
from pipeline.sampling.grid import model_grid, rest_grid

CONFIG = SimulationConfig(instrument=DEIMOS, noise="none", igm=False, nebular_continuum=False)
SHIFT = 1000  # observed pixel j = rest pixel j + offset - SHIFT: z = exp(SHIFT dln) - 1, no fraction


def _old_population(params, sigma_star):
    z = np.expm1(SHIFT * model_grid().dln)
    return validate(params(1, z=z, log_sfr=-6.0, log_mass_old=11.0, age_old_gyr=10.0, metallicity=8.76,
                           sigma_star=sigma_star, lambda_lo=4100.0, lambda_hi=11000.0))


def _fitted_kernel_kms(params, sigma_star, rest_window=(5700.0, 6150.0)):
    """Gaussian sigma (km/s) that, applied to the raw library with scipy, best matches the render."""
    grid = model_grid()
    rest, offset = rest_grid(grid)
    p = _old_population(params, sigma_star)
    observed = continuum(p, CONFIG)[0].astype(np.float64)
    lib = load_stellar_library(rest)
    iz = StellarLibrary.nearest(LOG_Z_NODES, np.zeros(1))[0]
    io = StellarLibrary.nearest(LOG_OLD_AGE_NODES, np.array([10.0]))[0]
    raw = lib.old[io, iz].astype(np.float64)
    j = np.arange(grid.n)
    raw_obs = raw[j + offset - SHIFT]
    lam_rest = rest.wavelength[j + offset - SHIFT]
    window = (lam_rest > rest_window[0]) & (lam_rest < rest_window[1])

    def chi2(sigma_pix):
        ref = gaussian_filter1d(raw_obs, sigma_pix)[window]
        obs = observed[window]
        a = ref @ obs / (ref @ ref)
        return np.sum((obs - a * ref) ** 2)

    best = minimize_scalar(chi2, bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-4})
    sigma_lib = np.median(library_resolution(rest)[j + offset - SHIFT][window])
    return best.x * grid.dln * C_KMS, sigma_lib


@pytest.mark.parametrize("sigma_star", [100.0, 200.0, 300.0])
def test_continuum_width_is_dispersion_and_lsf_minus_library_in_quadrature(params, sigma_star):
    kernel, sigma_lib = _fitted_kernel_kms(params, sigma_star)
    expected = np.sqrt(sigma_star**2 + DEIMOS.lsf_sigma_kms**2 - sigma_lib**2)
    assert kernel == pytest.approx(expected, rel=0.05)
    # i.e. the total width of a line is hypot(sigma_star, sigma_LSF) (library resolution included)
    assert np.hypot(kernel, sigma_lib) == pytest.approx(np.hypot(sigma_star, DEIMOS.lsf_sigma_kms), rel=0.04)


def test_library_sharper_than_nothing_is_left_alone_where_it_is_coarser_than_the_lsf(params):
    """sigma_star = 0 at 5900 Å: MILES (54 km/s) is already coarser than DEIMOS (47 km/s)."""
    kernel, sigma_lib = _fitted_kernel_kms(params, 0.0)
    assert sigma_lib > DEIMOS.lsf_sigma_kms
    assert kernel < 15.0


def test_node_weights_give_the_exact_dispersion():
    sigma = np.array([30.0, 47.1, 110.0, 205.5, 400.0, 512.0])
    i, w = node_weights(sigma)
    from pipeline.physics.kinematics import SIGMA_NODES

    mixed = np.sqrt((1 - w) * SIGMA_NODES[i] ** 2 + w * SIGMA_NODES[i + 1] ** 2)
    np.testing.assert_allclose(mixed, sigma, rtol=1e-5)


def test_draw_sigma_star_follows_the_mass_relation_and_clip():
    rng = np.random.default_rng(3)
    log_mass = np.repeat([9.0, 10.26, 11.5], 2000)
    sigma = draw_sigma_star(log_mass, rng).reshape(3, -1)
    median = np.median(sigma, axis=1)
    assert median[1] == pytest.approx(10**2.073, rel=0.02)  # Zahid et al. 2016 break
    assert median[0] < median[1] < median[2]
    assert sigma.min() >= SIGMA_STAR_CLIP_KMS[0] and sigma.max() <= SIGMA_STAR_CLIP_KMS[1]
