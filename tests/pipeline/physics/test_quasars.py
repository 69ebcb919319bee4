import numpy as np

from pipeline.physics import quasars as Q
from pipeline.physics.constants import C_KMS
from pipeline.physics.igm import LYA_REST, igm_transmission
from pipeline.sampling.grid import model_grid


def _table(n, z, bal=0.0, dlogl=0.0, key0=7):
    return {"object_key": np.arange(n) * 1e6 + key0, "z": np.full(n, z), "lambda_lo": np.full(n, 3600.0),
            "lambda_hi": np.full(n, 9800.0), "qso_dlogl": np.full(n, dlogl), "qso_bal": np.full(n, bal),
            "qso_ebv": np.zeros(n)}


def _fwhm_kms(wavelength, flux, centre, window=150.0):
    """FWHM of the emission line near ``centre`` above the straight line through the
    window's ends (km/s)."""
    sel = np.abs(wavelength - centre) < window
    lam, f = wavelength[sel], flux[sel]
    line = f - np.interp(lam, lam[[0, -1]], f[[0, -1]])
    half = lam[line > 0.5 * line.max()]
    return (half[-1] - half[0]) / centre * C_KMS


def test_broad_lines_are_thousands_of_km_per_s_wide():
    m = Q.load_quasar_model()
    flux = Q.rest_quasars(_table(20, 2.0), m)
    widths = [_fwhm_kms(m.rest.wavelength, row, 1549.0) for row in flux]
    # C IV FWHM of SDSS quasars: ~2,000-10,000 km/s (Shen et al. 2011)
    assert 1500 < np.median(widths) < 12000
    assert min(widths) > 1000


def test_the_coefficient_set_depends_on_the_key_not_on_the_batch():
    alone = Q.rest_quasars(_table(1, 2.2, key0=12345))
    in_batch = Q.rest_quasars({k: np.r_[v, v * 0 + v[0]] if k != "object_key" else np.r_[v, 12345.0]
                               for k, v in _table(1, 2.2, key0=99).items()})
    np.testing.assert_array_equal(alone[0], in_batch[1])
    assert not np.array_equal(in_batch[0], in_batch[1])


def test_forest_absorbs_only_blueward_of_lyman_alpha_and_keeps_the_mean():
    grid = model_grid()
    z = np.full(64, 3.0)
    key = np.arange(64) * 1e6 + 3
    mean = igm_transmission(grid.wavelength, z)
    forest = Q.forest_transmission(key, z, mean, grid.wavelength)
    fluctuation = forest * np.exp(np.minimum(Q.dla_tau(key, z, grid.wavelength), 50.0))  # without the DLAs
    red = grid.wavelength >= LYA_REST * 4.0 * (1 + 1e-4)
    np.testing.assert_allclose(fluctuation[:, red], 1.0, rtol=1e-6)
    blue = (grid.wavelength > 1100 * 4.0) & (grid.wavelength < 1190 * 4.0)
    assert forest[:, blue].std() > 0.05  # fluctuates
    observed = (mean * forest)[:, blue].mean()
    assert abs(observed - mean[:, blue].mean()) < 0.1  # close to the mean IGM


def test_bal_troughs_lie_blueward_of_their_lines():
    m = Q.load_quasar_model()
    t = Q.bal_transmission(np.arange(50) * 1e6 + 1, m.rest.wavelength)
    red = m.rest.wavelength > 1560
    low = (m.rest.wavelength > 1240) & (m.rest.wavelength < 1545)
    assert t[:, red].min() > 0.999 or t[:, red & (m.rest.wavelength > 1900)].min() < 1  # LoBAL: Al III, Mg II
    assert (t[:, low].min(axis=1) < 0.7).all()


def test_damped_absorbers_have_saturated_cores_growing_with_column():
    wavelength = np.linspace(4700, 5000, 3001)
    tau = Q.voigt_tau(wavelength, np.array([3.0, 3.0]), np.array([20.3, 21.3]))
    width = [(wavelength[t > 1][-1] - wavelength[t > 1][0]) for t in tau]
    assert tau[:, np.argmin(np.abs(wavelength - LYA_REST * 4))].min() > 1e3
    # damping wings: width ~ sqrt(N), so 10x the column gives ~3x the width
    assert 2.5 < width[1] / width[0] < 3.7
