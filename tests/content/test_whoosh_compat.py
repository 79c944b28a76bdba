"""The whoosh internals ``content.whoosh_compat`` relies on still work on the installed whoosh.

Every fast path must really be taken (a whoosh upgrade that breaks one must fail here, not
silently fall back to the slower public API) and must give exactly what the public API gives.
"""
import logging
import pickle
from array import array

import pytest
import whoosh.index
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.formats import Positions
from whoosh.query import Phrase
from whoosh.system import pack_uint

from content import IndexDoc, SearchIndex, engine, whoosh_compat
from content import analysis as analysis_module
from content.analysis import BigramAnalyzer
from content.documents import make_schema

# (field, term) pairs covering every kind of field the engine reads postings of.
TERMS = [
    ("grams", "党员"),  # bigrams, in every document: several postings blocks
    ("grams", "课程"),  # in every title
    ("grams", "新质"),  # in a third of the documents
    ("kind", "lesson"),  # ID field
    ("audience", "course:1"),  # KEYWORD field, not scorable
    ("doc_id", "d3"),  # a single posting
]
QUERIES = ['"新质生产力"', "党员", "党员 培训", "新质 -改写", "课程", "质", '"学习教育"', "改写 OR 新质"]


def doc(n, body):
    return IndexDoc(doc_id=f"d{n}", kind="lesson", title=f"课程{n}", body=body, audience=[f"course:{n % 2}"])


@pytest.fixture
def index(tmp_path):
    """Two segments, the first with deletions; the commonest terms span several postings blocks."""
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(n, f"第{n}条：党员学习教育培训。" + ("新质生产力。" if n % 3 == 0 else ""))
                         for n in range(300)])
    ix.update_documents([doc(n, "改写后的党员培训。") for n in range(0, 300, 7)])
    ix.delete_by("doc_id", "d5")
    return ix


def leaf_readers(searcher):
    return [segreader for segreader, _ in searcher._whoosh.reader().leaf_readers()]


def test_fixture_has_what_the_fast_paths_are_for(index):
    with index.searcher() as searcher:
        leaves = leaf_readers(searcher)
        assert len(leaves) == 2
        assert leaves[0].has_deletions()
        assert leaves[0].doc_frequency("grams", "党员") > 2 * 128  # whoosh3 blocks hold 128 postings


def test_postings_are_decoded_from_whole_blocks_and_equal_the_public_api(index):
    with index.searcher() as searcher:
        for segreader in leaf_readers(searcher):
            deleted = whoosh_compat.public_deleted_docs(segreader)
            for fieldname, text in TERMS:
                if (fieldname, text) not in segreader:
                    continue
                fast = whoosh_compat.term_postings(segreader, fieldname, text)
                assert fast.path == whoosh_compat.BLOCKS, (fieldname, text)
                assert fast.includes_deleted
                assert len(fast.ids) == segreader.doc_frequency(fieldname, text)
                assert list(fast.ids) == sorted(set(fast.ids))
                public = whoosh_compat.public_term_postings(segreader, fieldname, text)
                assert public.path == whoosh_compat.PUBLIC and not public.includes_deleted
                live = [(d, w) for d, w in zip(fast.ids, fast.weights, strict=True) if d not in deleted]
                assert live == list(zip(public.ids, public.weights, strict=True)), (fieldname, text)


def test_block_decoding_equals_whooshs_own_matcher(index, monkeypatch):
    with index.searcher() as searcher:
        for segreader in leaf_readers(searcher):
            fast = {term: whoosh_compat.term_postings(segreader, *term) for term in TERMS}
            monkeypatch.setattr(whoosh_compat, "BLOCK_DECODING", False)
            for term, postings in fast.items():
                walked = whoosh_compat.term_postings(segreader, *term)
                if postings.path == whoosh_compat.ABSENT:
                    assert walked.path == whoosh_compat.ABSENT
                    continue
                assert walked.path == whoosh_compat.MATCHER
                # Deleted documents included, ids and weights identical.
                assert (walked.ids, walked.weights) == (postings.ids, postings.weights), term
            monkeypatch.setattr(whoosh_compat, "BLOCK_DECODING", True)


def test_searching_takes_the_fast_paths(index, monkeypatch, caplog):
    paths = []
    real = whoosh_compat.term_postings

    def spy(segreader, fieldname, text):
        postings = real(segreader, fieldname, text)
        paths.append(postings.path)
        return postings

    monkeypatch.setattr(whoosh_compat, "term_postings", spy)
    monkeypatch.setattr(whoosh_compat, "_warned", set())  # every fallback is logged once per process
    engine.clear_caches()
    with caplog.at_level(logging.WARNING, logger="content.whoosh_compat"):
        for query in QUERIES:
            index.search(query)
    assert caplog.records == []
    assert whoosh_compat.BLOCKS in paths
    assert set(paths) <= {whoosh_compat.BLOCKS, whoosh_compat.ABSENT}
    with index.searcher() as searcher:
        for segreader in leaf_readers(searcher):
            # The fast path of deleted_docs is whoosh's cached set.
            assert isinstance(segreader.deleted_docs_set, frozenset)
            assert whoosh_compat.deleted_docs(segreader) == whoosh_compat.public_deleted_docs(segreader)
            # Segments have a directory, so their data is cached across readers.
            assert whoosh_compat.storage_folder(segreader.storage()) == str(index.current_generation())


def pages(index):
    engine.clear_caches()
    return [index.search(query, pagelen=100).to_dict() for query in QUERIES]


def test_search_results_are_the_same_through_the_public_api_only(index, monkeypatch):
    fast = pages(index)
    assert all(page["total"] for page in fast)
    monkeypatch.setattr(whoosh_compat, "BLOCK_DECODING", False)
    assert pages(index) == fast
    monkeypatch.setattr(whoosh_compat, "term_postings", whoosh_compat.public_term_postings)
    monkeypatch.setattr(whoosh_compat, "deleted_docs", whoosh_compat.public_deleted_docs)
    monkeypatch.setattr(whoosh_compat, "storage_folder", lambda storage: None)
    assert pages(index) == fast
    engine.clear_caches()


def test_a_broken_block_layout_falls_back_and_says_so(index, monkeypatch, caplog):
    def broken(matcher):
        raise AttributeError("'W3LeafMatcher' object has no attribute '_data'")

    monkeypatch.setattr(whoosh_compat, "_decode_blocks", broken)
    monkeypatch.setattr(whoosh_compat, "_warned", set())
    with index.searcher() as searcher, caplog.at_level(logging.WARNING, logger="content.whoosh_compat"):
        segreader = leaf_readers(searcher)[0]
        postings = whoosh_compat.term_postings(segreader, "grams", "党员")
        again = whoosh_compat.term_postings(segreader, "grams", "学习")
        assert postings.path == again.path == whoosh_compat.MATCHER
        assert len(postings.ids) == segreader.doc_frequency("grams", "党员")
    assert len(caplog.records) == 1 and "W3LeafMatcher" in caplog.records[0].getMessage()


def test_storage_folder_of_plain_compound_and_in_memory_segments(tmp_path):
    schema = Schema(doc_id=ID(stored=True), body=TEXT)
    for compound in (True, False):
        folder = tmp_path / f"compound-{compound}"
        folder.mkdir()
        ix = whoosh.index.create_in(str(folder), schema)
        with ix.writer(compound=compound) as writer:
            writer.add_document(doc_id="a", body="x y")
        with ix.searcher() as searcher:
            leaves = [segreader for segreader, _ in searcher.reader().leaf_readers()]
            assert [segreader.segment().is_compound() for segreader in leaves] == [compound]
            assert [whoosh_compat.storage_folder(segreader.storage()) for segreader in leaves] == [str(folder)]
    ram = RamStorage().create_index(make_schema())
    with ram.writer() as writer:
        writer.add_document(**doc(1, "党员").fields())
    with ram.searcher() as searcher:
        [(segreader, _)] = searcher.reader().leaf_readers()
        assert whoosh_compat.storage_folder(segreader.storage()) is None


def test_array_positions_keep_whooshs_positions_layout():
    fmt = whoosh_compat.ArrayPositions()
    value = fmt.encode([3, 7, 20])
    assert value == pack_uint(3) + array("I", [3, 7, 20]).tobytes()
    assert list(fmt.decode_positions(value)) == [3, 7, 20]
    assert Positions.decode_frequency(fmt, value) == 3  # whoosh's own reader of the count
    # Earlier generations pickled the format under content.analysis.
    assert analysis_module.ArrayPositions is whoosh_compat.ArrayPositions
    assert isinstance(pickle.loads(pickle.dumps(fmt)), whoosh_compat.ArrayPositions)


def test_an_index_with_array_positions_still_answers_phrases():
    grams = TEXT(analyzer=BigramAnalyzer(), phrase=True)
    grams.format = whoosh_compat.ArrayPositions(field_boost=grams.format.field_boost)
    ix = RamStorage().create_index(Schema(doc_id=ID(stored=True), grams=grams))
    with ix.writer() as writer:
        writer.add_document(doc_id="a", grams="新质生产力")
        writer.add_document(doc_id="b", grams="生产力新质")
    with ix.searcher() as searcher:
        hits = searcher.search(Phrase("grams", ["新质", "质生", "生产"]))
        assert [hit["doc_id"] for hit in hits] == ["a"]
