"""A rebuild's bulk path (bigrams prepared apart, blocks written by ``BulkSegmentWriter``) writes
exactly what whoosh's own writer writes for the same documents, in one process or several."""
import random
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import whoosh.index
from hypothesis import given, settings
from hypothesis import strategies as st

from content import IndexDoc, SearchIndex, engine, reading_documents, store, whoosh_compat
from content.analysis import BigramAnalyzer
from content.documents import GRAMS_FIELD, gram_counts, make_schema, prepare_grams

# Letters of every kind the analysis treats differently: CJK (Simplified and Traditional),
# full-width and ASCII letters and digits, punctuation, spaces, line breaks, and NUL (never in a run).
ALPHABET = "党员学习教育培训黨員學習新质生产力ＡＢＣａｂｃ１２３abcXYZ019，。、！？；： \n\t-_()\0"


def whoosh_gram_counts(text):
    counts = {}
    for token in BigramAnalyzer()(text):
        counts[token.text] = counts.get(token.text, 0) + 1
    return counts


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_gram_counts_are_the_bigrams_whooshs_analyzer_indexes(text):
    assert dict(gram_counts(text)) == whoosh_gram_counts(text)


def test_prepare_grams_groups_postings_by_bigram():
    prepared = prepare_grams(["课程\n党员党员", "课程\n学习。党员", "\n。"], first_docnum=10)
    assert prepared.first_docnum == 10
    assert list(prepared.lengths) == [4, 3, 0]
    assert {gram: (list(ids), list(freqs)) for gram, (ids, freqs) in prepared.postings.items()} == {
        "课程": ([10, 11], [1, 1]), "党员": ([10, 11], [2, 1]), "员党": ([10], [1]), "学习": ([11], [1]),
    }
    assert prepared.texts == ["课程\n党员党员".encode(), "课程\n学习。党员".encode(), "\n。".encode()]


def corpus(sample_reading):
    """Reading chunks (terms in hundreds of documents: several blocks), and odd documents."""
    docs = reading_documents(sample_reading, 1, chunk_chars=300, series=["s1"], audience=["public"])
    rng = random.Random(7)
    docs += [IndexDoc(doc_id=f"x{n}", kind="course", title=rng.choice(["ＱＸ７党员课", "", "党员", "黨員培训"]),
                      body="".join(rng.choice(ALPHABET.replace("\0", "")) for _ in range(rng.randint(0, 60))),
                      course_id=n, sectors=["农村"] if n % 2 else [])
             for n in range(400)]
    docs.append(IndexDoc(doc_id="empty", kind="lesson", title="", body="。"))  # no bigram at all
    return docs


def segment_files(folder):
    """{file name with the segment id taken out: bytes} of an index of one segment."""
    ix = whoosh.index.open_dir(str(folder))
    [segment] = ix._segments()
    segid = segment.segment_id()
    return {p.name.replace(segid, "SEG"): p.read_bytes() for p in Path(folder).iterdir()
            if segid in p.name}


@pytest.mark.parametrize("procs", [1, 2])  # 2: bigrams prepared and blocks encoded in worker processes
def test_bulk_segment_is_byte_for_byte_whooshs_own(tmp_path, sample_reading, monkeypatch, procs):
    docs = corpus(sample_reading)
    plain_dir, bulk_dir = tmp_path / "plain", tmp_path / "bulk"
    plain_dir.mkdir()
    bulk_dir.mkdir()
    plain = whoosh.index.create_in(str(plain_dir), make_schema())
    with plain.writer(compound=False) as writer:
        for doc in docs:
            writer.add_document(**doc.fields())
    bulk = whoosh.index.create_in(str(bulk_dir), make_schema())
    writer = whoosh_compat.BulkSegmentWriter(bulk, GRAMS_FIELD, compound=False)
    monkeypatch.setattr(store, "BUILD_BATCH_CHARS", 2000)  # many batches: postings of a term come in parts
    with ExitStack() as stack:
        assert store._write_all(writer, docs, procs, stack) == len(docs)
        assert (writer.block_encoder is not None) == (procs > 1)
        writer.commit()
    plain_files, bulk_files = segment_files(plain_dir), segment_files(bulk_dir)
    assert any(name.endswith(".pst") for name in plain_files)
    assert plain_files.keys() == bulk_files.keys()
    for name in plain_files:
        assert plain_files[name] == bulk_files[name], name
    with bulk.searcher() as searcher:
        reader = searcher.reader()
        assert reader.doc_frequency(GRAMS_FIELD, "党员") > 2 * 128  # several blocks
        assert reader.field_length(GRAMS_FIELD) == sum(sum(gram_counts(d.text).values()) for d in docs)


def postings_of(index):
    """Every (field, term, docnum, weight) and every document's grams length and text of an index."""
    with index.searcher() as searcher:
        reader = searcher._whoosh.reader()
        [(segreader, _)] = reader.leaf_readers()
        terms = sorted(
            (field, text, tuple(whoosh_compat.term_postings(segreader, field, text).ids),
             tuple(whoosh_compat.term_postings(segreader, field, text).weights))
            for field, text in segreader.all_terms())
        lengths = [segreader.doc_field_length(d, GRAMS_FIELD) for d in range(segreader.doc_count_all())]
        stored = [segreader.stored_fields(d) for d in range(segreader.doc_count_all())]
        column = segreader.column_reader("text", translate=False)
        texts = [bytes(column[d]) for d in range(segreader.doc_count_all())]
    return terms, lengths, stored, texts


def test_rebuild_in_worker_processes_equals_one_process_and_whooshs_writer(tmp_path, sample_reading,
                                                                          monkeypatch):
    docs = corpus(sample_reading)
    monkeypatch.setattr(store, "BUILD_BATCH_CHARS", 3000)
    one, two = SearchIndex(tmp_path / "one"), SearchIndex(tmp_path / "two")
    assert one.rebuild(docs, procs=1) == two.rebuild(iter(docs), procs=2) == len(docs)
    monkeypatch.setattr(whoosh_compat, "bulk_supported", lambda *args: False)  # whoosh's writer only
    plain = SearchIndex(tmp_path / "plain")
    assert plain.rebuild(docs) == len(docs)
    assert postings_of(one) == postings_of(two) == postings_of(plain)
    engine.clear_caches()
    for query in ('"中国人民解放军"', "党员", "ｑｘ７", "学习 -教育"):
        assert one.search(query, pagelen=50).to_dict() == plain.search(query, pagelen=50).to_dict()


def child_pids():
    pids = set()
    for task in Path("/proc/self/task").iterdir():
        pids.update((task / "children").read_text().split())
    return pids


def test_failed_rebuild_in_worker_processes_keeps_old_generation_and_stops_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BUILD_BATCH_CHARS", 100)
    index = SearchIndex(tmp_path / "ix")
    index.update_documents([IndexDoc(doc_id="old", kind="lesson", title="三会一课")])
    old_gen = index.current_generation()
    before = child_pids()

    def docs():
        for n in range(20):
            yield IndexDoc(doc_id=f"d{n}", kind="lesson", title="新文档", body="党员" * 60)
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        index.rebuild(docs(), procs=2)
    assert child_pids() <= before
    assert index.current_generation() == old_gen
    assert [h.doc_id for h in index.search("三会一课").hits] == ["old"]
    with pytest.raises(ValueError, match="kind"):
        index.rebuild([IndexDoc(doc_id=f"d{n}", kind="lesson", title="党员" * 60) for n in range(5)]
                      + [IndexDoc(doc_id="bad", kind="video", title="x")], procs=2)
    assert index.current_generation() == old_gen and child_pids() <= before


def test_a_failing_worker_reports_its_error():
    with store._BuildWorkers(1) as workers:
        workers.send(0, "prepare_grams", ([None], 0))  # not a text: prepare_grams fails in the worker
        with pytest.raises(RuntimeError, match="AttributeError"):
            workers.receive(0)
        workers.send(0, "prepare_grams", (["党员"], 0))  # the worker serves the next request
        assert list(workers.receive(0).postings) == ["党员"]
    assert all(proc.returncode == 0 for proc in workers.procs)


def test_workers_do_not_run_the_callers_main_module(tmp_path):
    # A script without a ``__name__ == "__main__"`` guard: multiprocessing's spawn would run it
    # again in every worker (and a pool would start new workers forever).
    marker = tmp_path / "runs"
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from content import IndexDoc, SearchIndex, store\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "store.BUILD_BATCH_CHARS = 100\n"
        f"n = SearchIndex({str(tmp_path / 'ix')!r}).rebuild("
        "[IndexDoc(doc_id=str(i), kind='lesson', title='党员' * 60) for i in range(6)], procs=2)\n"
        "print(n)\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "6", result.stderr
    assert marker.read_text() == "run\n"


def test_bulk_writer_refuses_what_it_cannot_write(tmp_path):
    index = SearchIndex(tmp_path / "ix").create_or_open()
    index.update_documents([IndexDoc(doc_id="a", kind="lesson", title="党员")])
    _, ix = index.open_generation()
    with pytest.raises(ValueError, match="empty index"):
        whoosh_compat.BulkSegmentWriter(ix, GRAMS_FIELD)
    fresh = whoosh.index.create_in(str(tmp_path), make_schema())
    with pytest.raises(ValueError, match="cannot be written in bulk"):
        whoosh_compat.BulkSegmentWriter(fresh, "doc_id")
    writer = whoosh_compat.BulkSegmentWriter(fresh, GRAMS_FIELD)
    doc = IndexDoc(doc_id="a", kind="lesson", title="党员")
    prepared = prepare_grams([doc.text])
    with pytest.raises(ValueError, match="docnum"):
        writer.add_batch([doc.stored_fields()], prepared.lengths, prepared.postings, first_docnum=1)
    with pytest.raises(ValueError, match="in bulk"):
        writer.add_batch([doc.fields()], prepared.lengths, prepared.postings, first_docnum=0)
    writer.cancel()
