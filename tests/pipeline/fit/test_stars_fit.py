import numpy as np

from pipeline.fit.stars import fit_stars
from pipeline.physics.constants import C_KMS
from pipeline.physics.stars import load_stellar_templates, render_stars


def test_the_stellar_fit_recovers_velocity_and_subtype_of_every_template():
    t = load_stellar_templates()
    n = len(t.subtype)
    rng = np.random.default_rng(3)
    rv = rng.uniform(-450, 450, n)
    model = render_stars(np.arange(n), np.zeros(n), rv, np.full(n, 0.08), np.ones(n))
    sigma = 0.05
    flux = (model + rng.normal(0, sigma, model.shape)).astype(np.float32)
    fit = fit_stars(flux, np.full_like(flux, 1 / sigma**2))
    assert list(fit.subtype) == list(t.subtype)
    pull = (fit.z * C_KMS - rv) / (fit.zerr * C_KMS)
    assert np.all(np.abs(fit.z * C_KMS - rv) < 15)
    assert np.median(np.abs(pull)) < 2
    assert np.all(fit.deltachi2 > 9)


def test_masked_pixels_do_not_count():
    t = load_stellar_templates()
    model = render_stars(np.array([3]), np.zeros(1), np.array([120.0]), np.zeros(1), np.ones(1))
    ivar = np.full_like(model, 400.0)
    ivar[:, :5000] = 0
    fit = fit_stars(model, ivar)
    assert fit.npix[0] == model.shape[1] - 5000
    assert fit.subtype[0] == t.subtype[3]
    assert abs(fit.z[0] * C_KMS - 120.0) < 10
