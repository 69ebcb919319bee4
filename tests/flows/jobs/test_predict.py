"""The one read-and-predict loop of scoring and evaluation."""

import numpy as np
import pytest

from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from flows.jobs.predict import predict_batches
from pipeline.learn import inference
from pipeline.learn.models import loaded_model
from storage import chunk_io, store, survey_store


@pytest.fixture(scope="module")
def small_survey_store(tmp_path_factory):
    """A simulated survey store of 16 spectra in one chunk."""
    path = str(tmp_path_factory.mktemp("predict") / "survey.zarr")
    for index in prepare(GenerateRequest(path, 16, 16, seed=5, kind="survey")):
        fill_chunk(path, index)
    return path


def test_batches_cover_the_rows_and_match_one_pass(small_survey_store, tiny_model):
    group = store.open_read(small_survey_store)
    loaded = loaded_model(tiny_model, group["wavelength"][:])
    data = chunk_io.read_rows(group, ("flux", "ivar"), 0)
    batches = [(b.rows, b.prediction["z"].copy()) for b in predict_batches(loaded, data, limit=10, batch=4)]
    assert [(r.start, r.stop) for r, _ in batches] == [(0, 4), (4, 8), (8, 10)]
    flux, ivar = survey_store.normalised({k: data[k][:10] for k in ("flux", "ivar")})
    whole = inference.predict(loaded.task, loaded.model, flux, ivar)["z"]
    np.testing.assert_allclose(np.concatenate([z for _, z in batches]), whole, rtol=1e-5)
