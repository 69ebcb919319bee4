"""Local paths and fsspec URLs behind one small interface."""

import pytest

from storage import location


def test_urls_and_local_paths_are_told_apart_and_joined_their_own_way():
    assert location.is_url("s3://bucket/survey.zarr") and location.is_url("memory://x")
    assert not location.is_url("data/survey.zarr") and not location.is_url("file:///tmp/x")
    assert location.join("s3://bucket/cat", "parts", "p.parquet") == "s3://bucket/cat/parts/p.parquet"
    assert location.resolved("memory://a/b") == "memory://a/b"


@pytest.mark.parametrize("kind", ["local", "url"])
def test_written_files_appear_whole_or_not_at_all(tmp_path, kind):
    base = str(tmp_path) if kind == "local" else f"memory://location-test-{tmp_path.name}"
    path = location.join(base, "sub", "file.bin")
    with location.written(path) as local:
        with open(local, "wb") as f:
            f.write(b"abc")
        assert not location.exists(path)  # not visible until the block ends
    assert location.exists(path) and location.size_bytes(base) == 3
    with location.open_read(path) as f:
        assert f.read() == b"abc"
    with pytest.raises(RuntimeError):
        with location.written(location.join(base, "failed.bin")) as local:
            open(local, "wb").close()
            raise RuntimeError("writer died")
    assert not location.exists(location.join(base, "failed.bin"))
    location.remove(path)
    assert not location.exists(path)


def test_one_writability_check_for_files_stores_and_directories(tmp_path):
    (tmp_path / "a-file").write_text("")
    assert location.unwritable_reason(tmp_path / "new.zarr") is None
    assert "does not exist" in location.unwritable_reason(tmp_path / "missing" / "new.zarr")
    assert location.unwritable_reason(tmp_path / "missing" / "deeper", make_parents=True) is None
    assert "is a file, not a directory" in location.unwritable_reason(tmp_path / "a-file" / "x", make_parents=True)
    assert location.unwritable_reason("memory://anything") is None
    with pytest.raises(ValueError, match=r"cannot write .*x: .*a-file is a file"):
        location.require_writable(tmp_path / "a-file" / "x")
