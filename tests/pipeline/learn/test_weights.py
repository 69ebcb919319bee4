"""The shipped model: present in the package, loadable offline, and resolvable by name."""

import pytest

from pipeline.learn.networks import build_from_card
from pipeline.learn.training import load_model
from pipeline.learn.weights import SHIPPED, resolve, shipped_dir


def test_shipped_survey_model_loads_with_its_card():
    model, card = load_model(shipped_dir("survey"), build_from_card)
    assert card["task"] == "default" and sum(p.numel() for p in model.parameters()) > 0
    generator = card["training_store"]["generator"]
    assert generator["preset"] == "default" and set(generator["instrument"].split(",")) == {"deimos", "sdss", "desi"}


def test_resolve_takes_a_directory_or_a_shipped_name(tmp_path):
    assert resolve(str(tmp_path)) == str(tmp_path)
    assert resolve("survey") == str(shipped_dir("survey")) and "survey" in SHIPPED
    with pytest.raises(ValueError, match="neither a model directory .* nor a shipped model"):
        resolve(str(tmp_path / "missing"))


def test_shipped_class_model_has_its_class_head():
    model, card = load_model(shipped_dir("survey-classes"), build_from_card)
    assert card["classes"] == ["GALAXY", "QSO", "STAR", "SKY"] and model.config["n_classes"] == 4
    assert card["training_store"]["generator"]["preset"] == "survey"
