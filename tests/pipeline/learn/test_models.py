"""A model directory: its identity and one load per process."""

import shutil

from pipeline.learn import models, weights
from pipeline.sampling.grid import model_grid


def test_model_id_names_the_weights_and_a_model_loads_once(tmp_path):
    shipped = weights.shipped_dir(weights.DEFAULT)
    copy = tmp_path / "copy"
    shutil.copytree(shipped, copy)
    assert models.model_id(copy) == models.model_id(shipped)  # the bytes, not the path
    assert models.model_id(shipped).startswith(models.read_card(shipped)["task"] + "-")
    wavelength = model_grid().wavelength
    first = models.loaded_model(shipped, wavelength)
    assert models.loaded_model(shipped, wavelength) is first
    assert first.id == models.model_id(shipped) and first.card["task"] == models.read_card(shipped)["task"]
