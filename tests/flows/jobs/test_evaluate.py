"""Evaluation refuses a simulated survey that repeats the model's training galaxies."""

import json
from pathlib import Path

import pytest

from flows.jobs.evaluate import EvaluateRequest, refuse_shared_galaxies
from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.learn import weights


def scored_survey(tmp_path, seed):
    """A 16-spectrum survey store drawn with ``seed``, scored by the shipped model."""
    path, out = str(tmp_path / f"survey-{seed}.zarr"), str(tmp_path / f"catalogue-{seed}")
    for index in prepare(GenerateRequest(path, 16, 16, seed=seed, kind="survey")):
        fill_chunk(path, index)
    request = ScoreRequest(path, weights.resolve(weights.DEFAULT), out)
    request.check()
    score_chunk(path, request.model, out, 0)
    merge(request)
    return path, out


def test_a_survey_drawn_with_the_training_seed_is_refused_naming_both_stores(tmp_path):
    model = weights.resolve(weights.DEFAULT)
    trained = json.loads(Path(model, "card.json").read_text())["training_store"]
    path, out = scored_survey(tmp_path, trained["generator"]["seed"])
    with pytest.raises(ValueError, match="shares galaxies") as err:
        EvaluateRequest(out).resolved()
    assert path in str(err.value) and trained["path"] in str(err.value)
    _, other = scored_survey(tmp_path, trained["generator"]["seed"] + 1)
    assert EvaluateRequest(other).resolved().model is not None


def test_ingested_surveys_and_other_priors_pass():
    trained = {"path": "train.zarr", "generator": {"seed": 3, "prior": "default"}}
    refuse_shared_galaxies(trained, "real.zarr", None)
    refuse_shared_galaxies(trained, "sim.zarr", {"seed": 3, "prior": "thesis"})
    with pytest.raises(ValueError, match="train.zarr"):
        refuse_shared_galaxies(trained, "sim.zarr", {"seed": 3, "prior": "default", "n": 99})
