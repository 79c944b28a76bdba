import json
import threading
import time

import pytest
import whoosh.index

from content import IndexBusyError, IndexDoc, SearchIndex, reading_documents
from content.cli import main
from content.documents import make_schema


def doc(n, body, **extra):
    return IndexDoc(doc_id=f"d{n}", kind="lesson", title=f"课程{n}", body=body, **extra)


@pytest.fixture
def index(tmp_path):
    ix = SearchIndex(tmp_path / "index").create_or_open()
    ix.update_documents([doc(1, "三会一课"), doc(2, "主题党日")])
    return ix


def test_update_replaces_by_doc_id(index):
    index.update_documents([doc(1, "脱产培训")])
    assert index.doc_count() == 2
    assert index.search("三会一课").total == 0
    assert index.search("脱产培训").total == 1


def test_dicts_are_accepted(index):
    index.update_documents([{"doc_id": "x", "kind": "course", "title": "新课", "body": "流动党员"}])
    assert index.search("流动党员").hits[0].doc_id == "x"


def test_invalid_document_writes_nothing(index):
    with pytest.raises(ValueError, match="kind"):
        index.update_documents([doc(3, "新质生产力"), IndexDoc(doc_id="bad", kind="video", title="x")])
    with pytest.raises(ValueError, match="comma"):
        index.update_documents([doc(4, "新质生产力", audience=["a,b"])])
    assert index.search("新质生产力").total == 0 and index.doc_count() == 2


def test_replace_by_and_delete_by(index, sample_reading):
    index.replace_by("reading_id", 5, reading_documents(sample_reading, 5))
    chunks = index.search('"中国人民解放军"', kinds=["reading"]).total
    assert chunks == 1
    smaller = reading_documents(sample_reading, 5, chunk_chars=100000)
    assert len(smaller) == 1
    index.replace_by("reading_id", 5, smaller)
    assert index.search("党员", kinds=["reading"]).total == 1
    assert index.delete_by("reading_id", 5) == 1
    assert index.search("党员", kinds=["reading"]).total == 0
    with pytest.raises(ValueError):
        index.delete_by("body", "x")


def test_searcher_refreshes_after_update(index):
    with index.searcher() as searcher:
        assert searcher.search("新质生产力", refresh=False).total == 0
        index.update_documents([doc(3, "新质生产力")])
        assert not searcher.up_to_date()
        assert searcher.search("新质生产力", refresh=False).total == 0
        assert searcher.search("新质生产力").total == 1
        assert searcher.up_to_date()


def test_rebuild_swaps_generation_and_open_reader_keeps_working(index):
    old_gen = index.current_generation()
    searcher = index.searcher()
    assert searcher.search("三会一课", refresh=False).total == 1
    count = index.rebuild([doc(7, "新质生产力"), doc(8, "新质生产力与基层治理")])
    assert count == 2
    new_gen = index.current_generation()
    assert new_gen != old_gen and not old_gen.exists() and new_gen.exists()
    assert [p.name for p in index.path.iterdir() if p.name.startswith("gen-")] == [new_gen.name]
    # The open reader still answers from the old generation (its files stay open) …
    assert searcher.search("三会一课", refresh=False).total == 1
    assert not searcher.up_to_date()
    # … and follows the swap on refresh.
    assert searcher.search("三会一课").total == 0
    assert searcher.search("新质生产力").total == 2
    assert searcher.generation == new_gen
    searcher.close()


def test_failed_rebuild_keeps_old_generation(index):
    old_gen = index.current_generation()

    def docs():
        yield doc(9, "新文档")
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        index.rebuild(docs())
    assert index.current_generation() == old_gen
    assert index.search("三会一课").total == 1
    assert [p.name for p in index.path.iterdir() if p.name.startswith("gen-")] == [old_gen.name]


def test_writer_times_out_while_another_holds_the_lock(index):
    _, holder = index._writer()
    try:
        impatient = SearchIndex(index.path, writer_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match="busy"):
            impatient.update_documents([doc(3, "新质生产力")])
        assert 0.15 <= time.monotonic() - started < 5
    finally:
        holder.cancel()
    SearchIndex(index.path, writer_timeout=0.2).update_documents([doc(3, "新质生产力")])
    assert index.search("新质生产力").total == 1


def test_waiting_writer_proceeds_when_lock_is_released(index):
    _, holder = index._writer()
    errors = []

    def write():
        try:
            SearchIndex(index.path, writer_timeout=10).update_documents([doc(3, "新质生产力")])
        except Exception as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)
    assert index.search("新质生产力").total == 0
    holder.cancel()
    thread.join(10)
    assert not errors and index.search("新质生产力").total == 1


def test_writer_waiting_during_rebuild_writes_into_new_generation(index):
    _, holder = index._writer()  # stands in for a long rebuild holding the old generation's lock
    done = []
    thread = threading.Thread(
        target=lambda: done.append(SearchIndex(index.path).update_documents([doc(3, "新质生产力")])))
    thread.start()
    time.sleep(0.2)
    new_gen = index._new_generation()
    whoosh.index.create_in(str(new_gen), make_schema())
    index._point_current_to(new_gen)
    holder.cancel()
    thread.join(10)
    assert done == [1]
    assert index.current_generation() == new_gen
    assert index.search("新质生产力").total == 1


def test_searcher_retries_when_generation_vanishes(index, monkeypatch):
    real_open_dir = whoosh.index.open_dir
    calls = []

    def flaky_open_dir(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise FileNotFoundError("segment vanished")
        return real_open_dir(*args, **kwargs)

    monkeypatch.setattr(whoosh.index, "open_dir", flaky_open_dir)
    with index.searcher() as searcher:
        assert searcher.search("三会一课").total == 1
    assert len(calls) >= 2


def test_create_or_open_twice_keeps_one_generation(tmp_path):
    first = SearchIndex(tmp_path / "ix").create_or_open()
    gen = first.current_generation()
    SearchIndex(tmp_path / "ix").create_or_open()
    assert first.current_generation() == gen


def test_cli_parse_and_search(tmp_path, capsys, sample_bytes):
    reading_file = tmp_path / "plan.txt"
    reading_file.write_bytes(sample_bytes)
    assert main(["parse", str(reading_file)]) == 0
    outline = json.loads(capsys.readouterr().out)
    assert outline["title"].startswith("中共中央办公厅印发")
    assert outline["sections"][1]["title"] == "一、总体要求"

    index = SearchIndex(tmp_path / "ix").create_or_open()
    index.update_documents([doc(1, "三会一课")])
    assert main(["search", str(tmp_path / "ix"), "三会一课", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 1 and "<mark>三会一课</mark>" in result["hits"][0]["snippet_html"]
    assert main(["search", str(tmp_path / "ix"), '"unclosed']) == 1
    assert "quotation mark" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    assert main(["parse", str(bad)]) == 1
    assert "empty" in capsys.readouterr().err
