"""Observing: artifacts as augmentation, the observer's (honest) ivar, native sampling."""

import dataclasses

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from pipeline.physics import artifacts as art
from pipeline.physics.instruments import DEIMOS, DESI, SDSS
from pipeline.physics.observing import IVAR_SMOOTH_PIXELS, observing_path
from pipeline.physics.simulate import SimulationConfig, chunk_params, observe, preset_config, render, simulate
from pipeline.sampling.grid import model_grid
from pipeline.sampling.regrid import to_model_grid
from pipeline.sampling.resample import PixelMajorOverlap, resample

ARTIFACTS = SimulationConfig(artifacts=True)  # on the model grid: pixels map one to one


def table(n=40, instrument=DEIMOS, seed=1):
    params, _ = chunk_params(0, n, seed, "default", instrument)
    return params


def lag1(pull, good):
    both = good[:, :-1] & good[:, 1:]
    return np.corrcoef(pull[:, :-1][both], pull[:, 1:][both])[0, 1]


def test_presets_switch_artifacts_and_native_sampling():
    assert preset_config("default")[1].artifacts and preset_config("default")[1].native
    assert not preset_config("thesis")[1].artifacts and not preset_config("thesis")[1].native
    assert "artifact_key" in chunk_params(0, 3, 1)[0] and "artifact_key" not in chunk_params(0, 3, 1, "thesis")[0]


def test_artifact_labels_are_recorded_and_follow_the_key_not_the_batch():
    p = table(60)
    whole = render(p, ARTIFACTS).labels
    part = render({k: v[20:30] for k, v in p.items()}, ARTIFACTS).labels
    for name in art.LABELS:
        assert name in whole
        np.testing.assert_array_equal(whole[name][20:30], part[name])
    assert np.all(whole["has_gap"] == 1)  # DEIMOS: a chip gap in every spectrum
    assert whole["n_masked"].min() > 0 and np.ptp(whole["skyres_amp"]) > 0 and np.ptp(whole["fluxcal_amp"]) > 0
    other = render({**p, "artifact_key": p["artifact_key"] + 1}, ARTIFACTS).labels
    assert not np.array_equal(whole["skyres_amp"], other["skyres_amp"])


def test_masked_pixels_gaps_and_cosmic_rays_set_ivar_as_the_pipelines_do():
    p = table(60)
    r = render(p, ARTIFACTS)
    flux, ivar = observe(r.model, r.noise, r.covered, 5, r.artifacts, r.path)
    clean, _ = observe(r.model, r.noise, r.covered, 5, None, r.path)
    # every masked pixel of the coverage is counted in n_masked, and only those have ivar 0
    zero = (ivar == 0) & r.covered
    np.testing.assert_array_equal(zero.sum(axis=1), r.labels["n_masked"])
    placed = art.place(r.artifacts, r.wavelength, r.lo, r.hi, DEIMOS)
    centre = np.searchsorted(r.wavelength, 0.5 * (r.wavelength[r.lo] + r.wavelength[r.hi]))
    assert np.all(ivar[np.arange(len(centre)), centre] == 0)  # the chip gap
    hit = placed.spike > 0
    assert hit.any() and (hit & placed.masked).any() and (hit & ~placed.masked).any()
    assert np.all(ivar[hit & placed.masked] == 0)  # found cosmic rays: masked, flux kept
    missed = hit & ~placed.masked
    assert np.all(ivar[missed] > 0)
    sigma = r.noise.sigma(r.model, r.covered)
    assert np.all((flux - clean)[missed] > 3 * sigma[missed])  # missed ones: spikes of >= 5 sigma


def test_sky_residuals_follow_the_sky_lines_and_telluric_and_fluxcal_factors_match_their_labels():
    p = table(20)
    r = render(p, ARTIFACTS)
    quiet = dataclasses.replace(r.artifacts, cr_n=np.zeros_like(r.artifacts.cr_n))
    with_sky, _ = observe(r.model, r.noise, r.covered, None, quiet, r.path)
    factor = art.multiplicative(quiet, r.wavelength, DEIMOS)
    residual = with_sky - r.model * factor
    amp = r.artifacts.skyres_amp * r.noise.scale * np.sqrt(art.SKY_COUNTS)
    np.testing.assert_allclose(residual[r.covered], (amp[:, None] * r.path.sky_lines[None] * r.covered)[r.covered],
                               rtol=1e-3, atol=1e-3 * np.abs(amp).max() * np.abs(r.path.sky_lines).max())
    a_band = (r.wavelength > 7600) & (r.wavelength < 7620)
    cal = art.multiplicative(dataclasses.replace(quiet, telluric_amp=np.zeros(20)), r.wavelength, DEIMOS)
    ratio = factor[:, a_band] / cal[:, a_band]
    np.testing.assert_allclose(ratio, np.broadcast_to(1 - 0.6 * r.labels["telluric_amp"][:, None], ratio.shape), rtol=1e-5)
    inside = (r.wavelength >= DEIMOS.lambda_range[0]) & (r.wavelength <= DEIMOS.lambda_range[1])
    # rms over the range in x = 2 (lambda - lo) / (hi - lo) - 1 (uniform in lambda, not ln lambda)
    weights = np.gradient(r.wavelength)[inside]
    rms = np.sqrt(((cal[:, inside] - 1) ** 2 * weights).sum(axis=1) / weights.sum())
    np.testing.assert_allclose(rms, r.labels["fluxcal_amp"], rtol=0.05)


def test_ivar_is_a_function_of_the_observed_data_not_of_the_noiseless_model():
    p = table(30)
    p["snr"] = np.full(30, 3.0)
    r = render(p, SimulationConfig())
    flux, ivar = observe(r.model, r.noise, r.covered, 9)
    # the same observed flux with any other noiseless model behind it gets the same ivar:
    # ivar is the noise formula applied to the running mean of the observed flux
    good = r.covered
    total = uniform_filter1d(np.where(good, flux, 0), IVAR_SMOOTH_PIXELS, axis=1, mode="constant")
    count = uniform_filter1d(good.astype(np.float32), IVAR_SMOOTH_PIXELS, axis=1, mode="constant")
    smooth = np.maximum(np.divide(total, count, out=np.zeros_like(total), where=count > 0), 0)
    expected = 1 / r.noise.sigma(smooth, good) ** 2
    np.testing.assert_allclose(ivar[good], expected[good], rtol=1e-4)
    # so the S/N channel no longer carries a noiseless copy of the spectrum: the object term
    # recovered from ivar differs from the model by what the noise allows (~ sigma / sqrt(15))
    a, beta = r.noise.scale[:, None], r.noise.beta[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        obj_term = (1 / (ivar * a**2) - r.noise.sky) / (beta * r.noise.object)
    sigma = r.noise.sigma(r.model, good)
    ok = good & (r.model > 0)
    deviation = ((obj_term - r.model) / sigma)[ok]
    scatter = 1.4826 * np.median(np.abs(deviation - np.median(deviation)))  # robust: lines are smoothed too
    assert 0.1 < scatter < 0.6
    # and the reported ivar stays honest: pulls of the actual noise have unit scatter
    assert abs(np.std(((flux - r.model) * np.sqrt(ivar))[good]) - 1) < 0.03


@pytest.mark.parametrize("instrument, step", [(DEIMOS, 0.47), (DESI, 0.8), (SDSS, 1e-4)])
def test_native_pixels_are_the_instruments(instrument, step):
    path = observing_path(instrument, True)
    spacing = np.diff(np.log10(path.wavelength) if instrument.native_log else path.wavelength)
    np.testing.assert_allclose(spacing, step, rtol=1e-6 if not instrument.native_log else 1e-9)


def test_precomputed_overlap_resamples_as_ingest_does():
    path = observing_path(DESI, True)
    rng = np.random.default_rng(0)
    flux = rng.normal(1, 0.2, (3, len(path.wavelength))).astype(np.float32)
    ivar = np.full_like(flux, 25.0)
    ivar[:, 500:520] = 0
    ivar[1, 3000] = 0
    got = path.back.resample(flux, ivar)
    ref = resample(path.wavelength, flux, ivar, model_grid().edges)
    np.testing.assert_allclose(got[0], ref[0], atol=1e-5)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-5)
    band = PixelMajorOverlap(model_grid().edges, np.array([5000.0, 5001.0, 5003.0]))
    assert band.average(np.ones((2, model_grid().n))).shape == (2, 2)


@pytest.mark.parametrize("instrument", [DEIMOS, SDSS, DESI])
def test_native_sampling_gives_ingest_like_correlated_noise_with_consistent_ivar(instrument):
    p = table(60, instrument)
    config = SimulationConfig(instrument=instrument, native=True)
    r = render(p, config)
    flux, ivar = observe(r.model, r.noise, r.covered, 4, None, r.path)
    expected, _ = observe(r.model, r.noise, r.covered, None, None, r.path)
    good = ivar > 0
    pull = (flux - expected) * np.sqrt(ivar)
    # a native-sampled unit-noise spectrum ingested (storage readers -> regrid -> resample)
    noise = np.random.default_rng(1).standard_normal((60, len(r.path.wavelength)))
    f_ing, i_ing, _ = to_model_grid([(r.path.wavelength, noise, np.ones_like(noise))])
    ingested = lag1(f_ing * np.sqrt(i_ing), i_ing > 0)
    measured = lag1(pull, good)
    assert measured > 0.1 and abs(measured - ingested) < 0.04
    assert abs(np.std(pull[good]) - 1) < 0.03  # ivar as ingest propagates it: chi2/pixel ~ 1
    flat, _ = observe(r.model, r.noise, r.covered, 4, None, observing_path(instrument, False))
    assert abs(lag1((flat - r.model) * np.sqrt(ivar), good)) < 0.03  # model-grid noise is white


def test_default_preset_simulation_is_finite_and_stays_in_coverage():
    params, config = chunk_params(0, 20, 2, "default", SDSS)
    s = simulate(params, config, seed=3)
    lo, hi = SDSS.lambda_range
    outside = (s.wavelength < lo) | (s.wavelength > hi)
    assert np.all(s.ivar[:, outside] == 0) and np.all(s.flux[:, outside] == 0)
    assert np.isfinite(s.flux).all() and np.all(s.ivar >= 0) and (s.ivar > 0).mean() > 0.5
