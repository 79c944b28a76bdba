"""Every generation records its format; older generations still open and are known to need a rebuild."""
import json

import whoosh.index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema

from content import IndexDoc, SearchIndex, engine
from content import documents as documents_module
from content.analysis import BigramAnalyzer, ChineseAnalyzer
from content.documents import FORMAT_VERSION, analysis_fingerprint, format_stamp


def doc(n, body, **extra):
    return IndexDoc(doc_id=f"d{n}", kind="lesson", title=f"课程{n}", body=body, **extra)


def format_1_schema():
    """The schema of generations written before formats were recorded: jieba words indexed."""
    return Schema(
        doc_id=ID(stored=True, unique=True), kind=ID(stored=True),
        title=TEXT(analyzer=ChineseAnalyzer(), stored=True), body=TEXT(analyzer=ChineseAnalyzer(), stored=True),
        grams=TEXT(analyzer=BigramAnalyzer(), phrase=False), text=COLUMN(VarBytesColumn()),
        reading_id=ID(stored=True), course_id=ID(stored=True), lesson_id=ID(stored=True),
        anchor=STORED, anchors=STORED,
        series=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        sectors=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        audience=KEYWORD(stored=False, commas=True, lowercase=False, scorable=False),
    )


def old_index(tmp_path):
    """An index whose only generation was written by the code before format stamps."""
    gen = tmp_path / "ix" / "gen-00000000000000000001-oldcode"
    gen.mkdir(parents=True)
    ix = whoosh.index.create_in(str(gen), format_1_schema())
    with ix.writer() as writer:
        writer.add_document(**doc(1, "三会一课制度").fields())
        writer.add_document(**doc(2, "主题党日活动").fields())
    (tmp_path / "ix" / "CURRENT").write_text(gen.name + "\n")
    engine.clear_caches()
    return SearchIndex(tmp_path / "ix")


def test_a_new_index_records_the_current_format(tmp_path):
    index = SearchIndex(tmp_path / "ix")
    assert not index.format_is_current()  # no index yet: it has to be built
    index.create_or_open()
    assert index.format_is_current()
    stamp = json.loads((index.current_generation() / "FORMAT.json").read_text())
    assert stamp == format_stamp() == {"format": FORMAT_VERSION, "analysis": analysis_fingerprint()}
    index.rebuild([doc(1, "三会一课")])
    assert index.format_is_current()


def test_the_format_survives_updates_deletes_and_merges(tmp_path):
    index = SearchIndex(tmp_path / "ix")
    index.rebuild([doc(n, "三会一课") for n in range(5)])
    for n in range(12):  # enough commits for whoosh to merge small segments
        index.update_documents([doc(100 + n, "主题党日")])
    index.delete_by("doc_id", "d1")
    index.optimize()
    assert index.format_is_current()
    assert index.search("主题党日").total == 12


def test_a_generation_of_older_code_still_answers_and_is_not_current(tmp_path):
    index = old_index(tmp_path)
    assert not index.format_is_current()
    assert [h.doc_id for h in index.search("三会一课").hits] == ["d1"]
    index.update_documents([doc(3, "三会一课")])  # incremental writes keep working on it
    assert index.search("三会一课").total == 2 and not index.format_is_current()
    with index.searcher() as searcher:
        body = searcher._whoosh.schema["body"]
        assert body.indexed
    # What the app does after an upgrade: rebuild, after which the format is current.
    index.rebuild([doc(1, "三会一课制度"), doc(3, "三会一课")])
    assert index.format_is_current()
    with index.searcher() as searcher:
        schema = searcher._whoosh.schema
        assert not schema["body"].indexed and not schema["title"].indexed  # stored only
        assert schema["grams"].indexed
    assert {h.doc_id for h in index.search("三会一课").hits} == {"d1", "d3"}


def test_a_generation_with_other_analysis_or_version_is_not_current(tmp_path, monkeypatch):
    index = SearchIndex(tmp_path / "ix").create_or_open()
    stamp_file = index.current_generation() / "FORMAT.json"
    stamp_file.write_text(json.dumps({"format": FORMAT_VERSION, "analysis": "0" * 32}))
    assert not index.format_is_current()
    stamp_file.write_text(json.dumps({"format": FORMAT_VERSION - 1, "analysis": analysis_fingerprint()}))
    assert not index.format_is_current()
    stamp_file.write_text("not json")
    assert not index.format_is_current()
    stamp_file.write_text(json.dumps(format_stamp()))
    assert index.format_is_current()


def test_the_fingerprint_follows_folding(monkeypatch):
    current = analysis_fingerprint()
    real_fold = documents_module.fold
    monkeypatch.setattr(documents_module, "_fingerprint", None)
    # Another folding of one character (say a new Traditional-to-Simplified pair) changes it.
    monkeypatch.setattr(documents_module, "fold", lambda text: real_fold(text).replace("党", "x"))
    assert analysis_fingerprint() != current
    monkeypatch.setattr(documents_module, "_fingerprint", None)
    monkeypatch.setattr(documents_module, "fold", real_fold)
    assert analysis_fingerprint() == current
