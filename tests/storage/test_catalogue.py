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


def _night(out, targetids, zwarn, units):
    catalogue.write_part(out, 0, {"TARGETID": np.asarray(targetids), "Z": np.linspace(0.1, 0.5, len(targetids)),
                                  "ZWARN": np.asarray(zwarn, np.int64), "MODEL_ID": np.full(len(targetids), "m")})
    catalogue.merge(out, 1, np.asarray(targetids), units, {"model_id": "m"})
    return str(out)


def test_nightly_catalogues_combine_with_their_night_and_repeated_targets_flagged(tmp_path):
    from astropy.table import Table

    from pipeline.assess.zwarning import ZWarn

    units = {"TARGETID": "", "Z": "", "ZWARN": "", "MODEL_ID": ""}
    first = _night(tmp_path / "a", [1, 2, 3], [0, 4, 0], units)
    second = _night(tmp_path / "b", [4, 2], [0, 0], units)
    out = tmp_path / "all"
    result = catalogue.combine(out, [("20261201T020000Z", first), ("20261202T020000Z", second)], {"model_id": "m"})
    assert result["rows"] == 5 and result["duplicates"] == 2
    cat = catalogue.read(out)
    dup = int(ZWarn.DUPLICATE_TARGETID)
    assert cat["TARGETID"].tolist() == [1, 2, 3, 4, 2]
    assert cat["ZWARN"].tolist() == [0, 4 | dup, 0, 0, dup]  # earlier bits kept
    assert cat["BATCH"].tolist() == ["20261201T020000Z"] * 3 + ["20261202T020000Z"] * 2
    fits = Table.read(out / "catalogue.fits")
    assert len(fits) == 5 and fits["BATCH"][3] == "20261202T020000Z" and fits["ZWARN"][4] == dup
    assert catalogue.provenance(out)["model_id"] == "m"
