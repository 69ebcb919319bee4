"""Stores and catalogues at fsspec URLs (memory:// here; s3:// with s3fs installed):
generate a survey store, score it, merge and evaluate, with no local path involved."""

import numpy as np

from flows.jobs.evaluate import EvaluateRequest, load
from flows.jobs.generate import GenerateRequest, check, fill_chunk, prepare
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.learn import weights
from storage import catalogue, store


def test_a_survey_store_and_its_catalogue_at_urls(tmp_path):
    url = f"memory://spectroflow-{tmp_path.name}/survey.zarr"
    request = GenerateRequest(url, n=300, chunk=128, seed=5, instrument="deimos,sdss", kind="survey")
    assert check(request) == "create"
    for index in prepare(request):
        fill_chunk(url, index)
    assert store.exists(url) and store.verify(url).ok and check(request) == "complete"
    assert store.store_size_bytes(url) > 0

    out = f"memory://spectroflow-{tmp_path.name}/catalogue"
    score = ScoreRequest(url, weights.resolve(weights.DEFAULT), out)
    score.check()
    assert sum(score_chunk(url, score.model, out, i)["rows"] for i in range(3)) == 300
    assert score_chunk(url, score.model, out, 0)["skipped"]  # a rerun skips written parts
    merged = merge(score)
    assert merged["paths"] == [f"{out}/catalogue.parquet", f"{out}/catalogue.fits"]
    np.testing.assert_array_equal(catalogue.read(out, ["TARGETID"])["TARGETID"], np.arange(300))
    assert catalogue.provenance(out)["input_store"] == url

    evaluate = EvaluateRequest(out).resolved()
    assert evaluate.store == url and evaluate.out == "catalogue-report"
    cat, truth = load(evaluate)
    assert len(cat["Z"]) == len(truth["z"]) == 300


def test_training_from_a_store_at_a_url(tmp_path):
    from flows.jobs.train import TrainRequest, run_training

    url = f"memory://spectroflow-{tmp_path.name}/train.zarr"
    request = GenerateRequest(url, n=256, chunk=128, seed=2)
    for index in prepare(request):
        fill_chunk(url, index)
    card = run_training(TrainRequest(url, out=str(tmp_path / "model"), max_epochs=1, limit=128),
                        log=lambda message: None, progress_bar=False)
    assert card["epochs"] == 1 and card["training_store"]["path"] == url
    assert (tmp_path / "model" / "model.pt").exists()
