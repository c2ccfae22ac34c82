"""The bucketed id index: look-ups read one bucket; appends survive a torn last line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.idindex import IdIndex, bucket_of

ids = st.text(alphabet="abcdefqb0123456789:-", min_size=1, max_size=36)


@settings(max_examples=30, deadline=None)
@given(added=st.lists(ids, max_size=40), probe=ids)
def test_an_id_is_known_exactly_when_it_was_added(tmp_path_factory, added, probe) -> None:
    directory = tmp_path_factory.mktemp("ids")
    IdIndex(directory).add(added)
    fresh = IdIndex(directory)  # another process: reads the files
    assert all(i in fresh for i in added)
    assert (probe in fresh) == (probe in added)


def test_a_look_up_reads_only_its_bucket(tmp_path: Path) -> None:
    index = IdIndex(tmp_path)
    index.add(f"qb{n:032x}" for n in range(5_000))
    probe = "qb-new"
    assert probe not in IdIndex(tmp_path)
    files = list(tmp_path.glob("*.txt"))
    assert len(files) > 1_000  # spread, so one bucket is a tiny part of the whole
    mine = (tmp_path / f"{bucket_of(probe)}.txt").stat().st_size
    assert mine < sum(f.stat().st_size for f in files) / 500


def test_ids_appended_by_another_writer_are_seen(tmp_path: Path) -> None:
    reader = IdIndex(tmp_path)
    assert "a" not in reader
    IdIndex(tmp_path).add(["a"])
    assert "a" in reader


def test_a_line_torn_by_a_crash_is_ignored_and_closed_before_the_next_append(
    tmp_path: Path,
) -> None:
    IdIndex(tmp_path).add(["first"])
    path = tmp_path / f"{bucket_of('second')}.txt"
    with open(path, "ab") as handle:
        handle.write(b"seco")  # killed mid-write: no newline
    assert "seco" not in IdIndex(tmp_path)
    index = IdIndex(tmp_path)
    index.add(["second"])
    again = IdIndex(tmp_path)
    assert "second" in again
    assert "first" in again


def test_an_empty_index_does_not_exist(tmp_path: Path) -> None:
    assert not IdIndex(tmp_path / "none").exists()
    IdIndex(tmp_path).add(["x"])
    assert IdIndex(tmp_path).exists()
