"""Training requests are checked before any work starts."""

import pytest

from flows.jobs.generate import GenerateRequest, prepare
from flows.jobs.train import TrainRequest


def test_unknown_network_and_missing_store(tmp_path):
    with pytest.raises(ValueError, match="unknown network 'resnet'"):
        TrainRequest(str(tmp_path / "s.zarr"), model="resnet").check()
    with pytest.raises(ValueError, match="is not a spectra store"):
        TrainRequest(str(tmp_path / "s.zarr")).check()


def test_incomplete_store_and_bad_budget(tmp_path, small_training_store):
    path = tmp_path / "part.zarr"
    prepare(GenerateRequest(str(path), n=100, chunk=50, seed=1))
    with pytest.raises(ValueError, match="incomplete"):
        TrainRequest(str(path)).check()
    with pytest.raises(ValueError, match="--max-minutes must be positive"):
        TrainRequest(small_training_store, max_minutes=0).check()


def test_output_directory_may_be_new_but_not_under_a_file(tmp_path, small_training_store):
    TrainRequest(small_training_store, out=str(tmp_path / "models" / "default")).check()
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match="cannot write .*is a file, not a directory"):
        TrainRequest(small_training_store, out=str(tmp_path / "notes.txt" / "model")).check()
