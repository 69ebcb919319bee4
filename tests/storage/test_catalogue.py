import numpy as np

from storage import catalogue


def _part(out, chunk, model_id):
    catalogue.write_part(out, chunk, {"TARGETID": np.arange(3) + 3 * chunk, "MODEL_ID": np.full(3, model_id)})


def test_parts_made_from_another_model_or_input_are_removed(tmp_path):
    first = {"model_id": "default-aaa", "input_fingerprint": "f1"}
    assert not catalogue.claim_parts(tmp_path, first)
    _part(tmp_path, 0, "default-aaa")
    _part(tmp_path, 1, "default-aaa")
    assert not catalogue.claim_parts(tmp_path, first)  # same source: the parts stay
    assert catalogue.missing_parts(tmp_path, 3) == [2]
    assert catalogue.claim_parts(tmp_path, {**first, "input_fingerprint": "f2"})  # the store changed
    assert catalogue.missing_parts(tmp_path, 3) == [0, 1, 2]
    _part(tmp_path, 0, "default-aaa")
    assert catalogue.claim_parts(tmp_path, {**first, "model_id": "default-bbb"})  # the model changed
    assert catalogue.missing_parts(tmp_path, 3) == [0, 1, 2]


def test_read_and_provenance_of_a_merged_catalogue(tmp_path):
    for chunk in range(2):
        _part(tmp_path, chunk, "m")
    catalogue.merge(tmp_path, 2, np.arange(6), {"TARGETID": ""}, {"model_id": "m", "input_store": "/s.zarr"})
    assert catalogue.read(tmp_path, ["TARGETID"])["TARGETID"].tolist() == list(range(6))
    assert catalogue.provenance(tmp_path)["input_store"] == "/s.zarr"
