"""Which incoming files a nightly run takes, and its ledger (no Prefect)."""

import os

import pytest

from flows.jobs import nightly
from flows.jobs.nightly import NightlyRequest
from storage import ledger

NOW = 1.7e9  # 2023-11-14 22:13:20 UTC


def _file(path, text="x", mtime=NOW - 3600.0):
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def _request(tmp_path, **kw):
    return NightlyRequest((str(tmp_path / "incoming" / "*.fits"),), str(tmp_path / "root"), "model", **kw)


def test_new_files_become_a_pending_batch_and_done_ones_are_not_taken_again(tmp_path):
    (tmp_path / "incoming").mkdir()
    a, b = _file(tmp_path / "incoming" / "a.fits"), _file(tmp_path / "incoming" / "b.fits")
    request = _request(tmp_path)
    batch, settling = nightly.begin(request, now=NOW)
    assert batch["name"] == "20231114T221320Z" and batch["state"] == "pending" and settling == []
    assert [f["path"] for f in batch["files"]] == [str(a.resolve()), str(b.resolve())]
    again, _ = nightly.begin(request, now=NOW + 60)  # cut off before it finished: the same batch
    assert again == batch
    ledger.finish(request.root, batch["name"], {"spectra": 2, "quarantined": []})
    assert nightly.begin(request, now=NOW + 120) == (None, [])  # nothing new
    c = _file(tmp_path / "incoming" / "c.fits")
    _file(a, "rewritten, longer", mtime=NOW + 600)  # a file made good since: taken again
    batch2, _ = nightly.begin(request, now=NOW + 86400)
    assert batch2["name"] == "20231115T221320Z"
    assert sorted(f["path"] for f in batch2["files"]) == sorted([str(a.resolve()), str(c.resolve())])
    assert [b["name"] for b in ledger.read_ledger(request.root)["batches"]] == [batch["name"], batch2["name"]]
    assert [b["name"] for b in ledger.done_batches(request.root)] == [batch["name"]]


def test_files_still_being_written_wait_for_the_next_run(tmp_path):
    (tmp_path / "incoming").mkdir()
    old = _file(tmp_path / "incoming" / "old.fits")
    fresh = _file(tmp_path / "incoming" / "fresh.fits", mtime=NOW - 5.0)
    batch, settling = nightly.begin(_request(tmp_path, settle_s=60.0), now=NOW)
    assert [f["path"] for f in batch["files"]] == [str(old.resolve())]
    assert settling == [str(fresh.resolve())]


def test_no_matching_file_is_no_batch_not_an_error(tmp_path):
    assert nightly.begin(_request(tmp_path)) == (None, [])
    assert not (tmp_path / "root" / ledger.LEDGER).exists()


def test_bad_requests_and_a_damaged_ledger_are_named(tmp_path):
    with pytest.raises(ValueError, match="no incoming"):
        NightlyRequest((), str(tmp_path), "model")
    with pytest.raises(ValueError, match="--settle"):
        NightlyRequest(("x",), str(tmp_path), "model", settle_s=-1)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ValueError, match="a-file is a file, not a directory"):
        NightlyRequest(("x",), str(tmp_path / "a-file" / "root"), "model").check()
    (tmp_path / ledger.LEDGER).write_text("{not json")
    with pytest.raises(ValueError, match="nightly.json is not valid JSON"):
        NightlyRequest(("x",), str(tmp_path), "model").check()


def test_a_batch_of_nothing_readable_has_no_catalogue_to_combine(tmp_path):
    (tmp_path / "incoming").mkdir()
    _file(tmp_path / "incoming" / "bad.fits")
    request = _request(tmp_path)
    batch, _ = nightly.begin(request, now=NOW)
    ledger.finish(request.root, batch["name"], {"spectra": 0, "quarantined": [{"path": "bad.fits"}]})
    assert ledger.scored_batches(request.root) == []
    assert nightly.combined_is_current(request.root)  # nothing to build
