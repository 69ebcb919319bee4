import numpy as np

from pipeline.assess import columns
from pipeline.assess.zwarning import ZWarn
from pipeline.fit.by_class import expand, fit_by_class
from pipeline.learn.pz import ZBins
from pipeline.physics.stars import load_stellar_templates, render_stars


def _prediction(kind, p_class):
    b = len(kind)
    bins = ZBins()
    pz = np.zeros((b, bins.n))
    pz[:, 40] = 1.0
    return {"z": np.full(b, 0.08), "zerr": np.full(b, 1e-3), "z_lo": np.full(b, 0.079), "z_hi": np.full(b, 0.081),
            "p1": np.ones(b), "z2": np.full(b, np.nan), "p2": np.zeros(b), "pz": pz,
            "log_sfr": np.zeros(b), "log_sfr_err": np.ones(b), "spectype": np.asarray(kind), "p_class": p_class}


def test_rows_carry_spectype_subtype_class_probabilities_and_the_class_bits():
    t = load_stellar_templates()
    flux = render_stars(np.array([11, 11, 11]), np.zeros(3), np.array([0.0, 0.0, 90.0]), np.zeros(3), np.ones(3))
    ivar = np.full_like(flux, 1e4)
    p_class = np.array([[0.2, 0.6, 0.2, 0.0], [0.0, 0.0, 0.0, 1.0], [0.01, 0.01, 0.97, 0.01]], np.float32)
    pred = _prediction([1, 3, 2], p_class)
    fit, stars = fit_by_class(flux, ivar, pred, ZBins(), refine=True)
    # the quasar row is fitted with the quasar basis; its COEFF (the galaxy basis's) stays NaN
    assert np.isfinite(fit.z[0]) and np.isnan(fit.z[1:]).all() and np.isnan(fit.coeff).all()
    out = columns.rows(pred, np.arange(3), np.zeros(3), flux, ivar, (0.0, 6.0), "m", 0, fit, stars)
    assert list(out["SPECTYPE"]) == ["QSO", "SKY", "STAR"]
    assert list(out["SUBTYPE"]) == ["", "", t.subtype[11]]
    assert abs(out["Z"][2] * 299792.458 - 90.0) < 10  # the star's Z is its velocity from the stellar fit
    assert out["Z"][0] == fit.z[0] and out["Z_NET"][0] == pred["z"][0]
    assert out["Z"][1] == pred["z"][1]  # a sky fibre keeps the network's summary
    np.testing.assert_allclose(out["P_STAR"], p_class[:, 2])
    assert out["ZWARN"][1] & ZWarn.SKY and not out["ZWARN"][2] & ZWarn.SKY
    assert out["ZWARN"][0] & ZWarn.UNCERTAIN_CLASS and not out["ZWARN"][2] & ZWarn.UNCERTAIN_CLASS
    assert np.isnan(out["LOG_SFR"]).all()  # no ISM values for rows that are not galaxies


def test_rows_of_a_model_without_class_head_are_galaxies_with_nan_probabilities():
    b = 2
    pred = _prediction([0, 0], None)
    del pred["spectype"], pred["p_class"]
    flux = np.ones((b, 10240), np.float32)
    out = columns.rows(pred, np.arange(b), np.zeros(b), flux, flux, (0.0, 6.0), "m", 0)
    assert list(out["SPECTYPE"]) == ["GALAXY", "GALAXY"]
    assert np.isnan(out["P_QSO"]).all()
    assert np.isfinite(out["LOG_SFR"]).all()


def test_expand_fills_the_rows_of_other_classes():
    from pipeline.fit.stars import StarFit

    part = StarFit(np.array([0.1]), np.array([0.2]), np.array([3.0]), np.array([5], np.int32), np.array([1.0]),
                   np.array([2]), np.array(["M"]))
    full = expand(part, np.array([False, True, False]), 3)
    assert np.isnan(full.z[[0, 2]]).all() and full.z[1] == 0.1
    assert list(full.subtype) == ["", "M", ""] and full.npix.tolist() == [0, 5, 0]
