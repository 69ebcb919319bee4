"""A training store keeps enough to redraw the spectra a generator would have made."""

import numpy as np
import pytest

from pipeline.physics.simulate import chunk_params, noise_terms, observe, render
from storage import store, training_store
from storage.store import PIXEL, SPECTRUM


@pytest.fixture(scope="module", params=["default", "thesis"])
def stored(request, tmp_path_factory):
    """(rendered batch, chunk arrays read back from a one-chunk store) for a preset."""
    params, config = chunk_params(0, 64, seed=5, preset=request.param)
    rendered = render(params, config)
    reference = render(params, config)  # fill normalises its batch in place
    path = tmp_path_factory.mktemp("train") / "t.zarr"
    npix = rendered.model.shape[1]
    sky, obj = noise_terms(config)
    store.create(path, training_store.variables(list(params)), {SPECTRUM: 64, PIXEL: npix, training_store.INSTRUMENT: 1}, 64,
                 {}, fixed={"wavelength": rendered.wavelength, "noise_sky": sky[None], "noise_object": obj[None]})
    arrays = training_store.empty_chunk(64, npix, list(params))
    training_store.fill(arrays, slice(0, 64), rendered, first_targetid=0)
    store.mark_complete(path, 0, store.write_chunk(path, 0, arrays))
    ds = store.open_dataset(path).load()
    return reference, {name: ds[name].values for name in ds.data_vars}


def test_model_flux_round_trips_within_float16_precision(stored):
    reference, batch = stored
    model = training_store.model_flux(batch)
    peak = reference.model.max(axis=1, keepdims=True)
    assert np.abs(model - reference.model).max() <= 4.9e-4 * peak.max()
    np.testing.assert_allclose(model, reference.model, rtol=5e-4, atol=float(1e-7 * peak.min()))


def test_labels_coverage_and_ids_are_stored(stored):
    reference, batch = stored
    np.testing.assert_array_equal(batch["z"], reference.labels["z"])
    np.testing.assert_array_equal(batch["targetid"], np.arange(64))
    np.testing.assert_array_equal(training_store.covered(batch), reference.covered)


def test_redrawn_noise_matches_the_generator(stored):
    reference, batch = stored
    noise = training_store.noise_model(batch, batch["noise_sky"], batch["noise_object"])
    covered = training_store.covered(batch)
    _, ivar = observe(training_store.model_flux(batch), noise, covered, seed=None)
    _, ivar_ref = observe(reference.model, reference.noise, reference.covered, seed=None)
    assert np.all(ivar[~covered] == 0)
    np.testing.assert_allclose(ivar[covered], ivar_ref[covered], rtol=2e-3)
