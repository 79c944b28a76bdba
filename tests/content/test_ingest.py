import io
import random
import zipfile

import pytest

from content import ReadingError, estimate_reading_minutes, ingest, parse_reading
from content.ingest import join_broken_lines
from content.reading import CHINESE_CHARS_PER_MINUTE


def _texts(reading):
    return [p.text for p in reading.paragraphs]


def test_sample_title_and_chapters(sample_reading):
    assert sample_reading.title == "中共中央办公厅印发《全国党员教育培训工作规划(2024-2028年)》"
    chapters = [s.title for s in sample_reading.sections if s.level == 1]
    assert chapters == [
        "一、总体要求",
        "二、持续用习近平新时代中国特色社会主义思想统一全党思想意志行动",
        "三、分级分类开展专题培训，教育引导党员在推进中国式现代化中建功立业",
        "四、创新方法载体，充分运用信息化手段推动党员教育培训工作提质增效",
        "五、加强组织实施",
    ]
    items = [s.title for s in sample_reading.sections if s.level == 2]
    assert len(items) == 17
    assert items[0] == "(一) 深化学习教育"
    assert items[-1] == "(十七) 强化督导评估"
    preamble = sample_reading.sections[0]
    assert preamble.level == 0 and preamble.paragraphs[0].text.startswith("新华社北京2月27日电 近日")


def test_sample_paragraph_ids_and_sections(sample_reading):
    ids = [p.id for p in sample_reading.paragraphs]
    assert ids == [f"p-{i}" for i in range(1, len(ids) + 1)]
    for section in sample_reading.sections:
        for paragraph in section.paragraphs:
            assert paragraph.section_id == section.id
    item = next(s for s in sample_reading.sections if s.title == "(一) 深化学习教育")
    assert item.paragraphs[0].text.startswith("突出学习贯彻习近平新时代中国特色社会主义思想主题主线")


def test_sample_page_break_artefacts_are_rejoined(sample_reading):
    texts = _texts(sample_reading)
    joined = [t for t in texts if "党员干部学时要求按照全国干部教育培训规划执行。" in t]
    assert len(joined) == 1 and joined[0].endswith("集中学习培训不作硬性要求。")
    assert any("因地制宜发展新质生产力、建设现代化产业体系" in t for t in texts)
    item = next(s for s in sample_reading.sections if s.title == "(十三) 明确工作责任")
    assert item.paragraphs[0].text.startswith("加强对党员教育培训工作的组织领导，压紧压实")
    assert not any(t in ("全国干部教育培训规划执行。", "培训工作的组织领导") for t in texts)
    assert not any(t.endswith(("按照", "因地制宜发")) for t in texts)


def test_join_across_form_feed_and_page_number():
    lines = ["第一章 总则", "各级党组织要认真组织", "", "- 3 -", "\f", "党员开展学习。", "第 4 页", "新的段落。"]
    assert join_broken_lines(lines) == ["第一章 总则", "各级党组织要认真组织党员开展学习。", "新的段落。"]


def test_gb18030_text_is_detected(sample_bytes, sample_reading):
    reading = parse_reading(sample_bytes.decode("utf-8").encode("gb18030"), "plan.txt")
    assert reading.to_dict(with_text=True) == sample_reading.to_dict(with_text=True)


def test_reading_minutes_uses_named_speed(sample_reading):
    chars = sum(len(p.text) for p in sample_reading.paragraphs)
    minutes = estimate_reading_minutes(sample_reading)
    assert chars / CHINESE_CHARS_PER_MINUTE * 0.9 <= minutes <= chars / CHINESE_CHARS_PER_MINUTE * 1.1 + 1
    assert estimate_reading_minutes(parse_reading("短文。".encode(), "a.txt")) == 1


def test_markdown_headings():
    md = ("# 学习材料\n\n## 第一章 总则\n\n第一段文字，\n接着写完。\n\n"
          "### 一、目标\n\n目标段落。\n\n## 第二章 要求\n\n- 要点一\n")
    reading = parse_reading(md.encode(), "x.md")
    assert reading.title == "学习材料"
    assert [(s.title, s.level) for s in reading.sections] == [
        ("第一章 总则", 1), ("一、目标", 2), ("第二章 要求", 1)]
    assert _texts(reading) == ["第一段文字，接着写完。", "目标段落。", "要点一"]


def test_html_headings_skip_scripts_and_decode_entities():
    page = """<html><head><title>党课讲稿</title><style>p{color:red}</style></head><body>
    <h1>党课讲稿</h1><script>alert('x')</script>
    <h2>一、学习要求</h2><p>认真学习&lt;党章&gt;，
    做到学思践悟。</p><h3>（一）具体安排</h3><p>每月一次。<br>每次两小时。</p></body></html>"""
    reading = parse_reading(page.encode(), "lecture.html")
    assert reading.title == "党课讲稿"
    assert [(s.title, s.level) for s in reading.sections] == [("一、学习要求", 1), ("（一）具体安排", 2)]
    assert _texts(reading) == ["认真学习<党章>，做到学思践悟。", "每月一次。", "每次两小时。"]


def test_docx_heading_styles():
    import docx

    document = docx.Document()
    document.add_heading("支部学习资料", level=0)
    document.add_heading("第一章 理论学习", level=1)
    document.add_paragraph("深入学习新质生产力的重要论述。")
    document.add_heading("具体要求", level=2)
    document.add_paragraph("每季度至少一次。")
    document.add_paragraph("（一）专题学习。每月组织一次专题学习。")
    buffer = io.BytesIO()
    document.save(buffer)
    reading = parse_reading(buffer.getvalue(), "材料.docx")
    assert reading.title == "支部学习资料"
    assert [(s.title, s.level) for s in reading.sections] == [
        ("第一章 理论学习", 1), ("具体要求", 2), ("（一）专题学习", 3)]
    assert _texts(reading) == ["深入学习新质生产力的重要论述。", "每季度至少一次。", "每月组织一次专题学习。"]


def _make_pdf() -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(72, 760, "一、总体要求")
    pdf.drawString(72, 740, "党员教育培训要坚持政治引领，党员干部学时要求按照")
    pdf.drawString(300, 40, "1")
    pdf.showPage()
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(72, 760, "全国干部教育培训规划执行。")
    pdf.drawString(72, 740, "二、组织实施")
    pdf.drawString(72, 720, "各级党委要加强领导。")
    pdf.drawString(300, 40, "2")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_with_chinese_text_and_page_break():
    reading = parse_reading(_make_pdf(), "plan.pdf")
    assert [s.title for s in reading.sections if s.level == 1] == ["一、总体要求", "二、组织实施"]
    assert "党员教育培训要坚持政治引领，党员干部学时要求按照全国干部教育培训规划执行。" in _texts(reading)
    assert "各级党委要加强领导。" in _texts(reading)


def _make_epub(chapters, title="党员读本", container=True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as epub:
        epub.writestr("mimetype", "application/epub+zip")
        if container:
            epub.writestr("META-INF/container.xml", """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>""")
        items = "".join(f'<item id="c{i}" href="text/c{i}.xhtml" media-type="application/xhtml+xml"/>'
                        for i in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{i}"/>' for i in reversed(range(len(chapters))))
        epub.writestr("OEBPS/content.opf", f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>{title}</dc:title></metadata><manifest>{items}</manifest><spine>{spine}</spine></package>""")
        for i, body in enumerate(chapters):
            epub.writestr(f"OEBPS/text/c{i}.xhtml",
                          f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                          f"<head><title>c</title></head><body>{body}</body></html>")
    return buffer.getvalue()


def test_epub_follows_spine_order():
    # The spine lists chapter 1 before chapter 0: reading order is the spine's, not the manifest's.
    data = _make_epub(["<h1>第二章 实践</h1><p>学以致用。</p>", "<h1>第一章 理论</h1><p>读原著、学原文。</p>"])
    reading = parse_reading(data, "book.epub")
    assert reading.title == "党员读本"
    assert [s.title for s in reading.sections] == ["第一章 理论", "第二章 实践"]
    assert _texts(reading) == ["读原著、学原文。", "学以致用。"]


@pytest.mark.parametrize("data, filename, message", [
    (b"", "a.txt", "empty"),
    (b"   \n\n", "a.txt", "empty"),
    (b"hello", "a.doc", "Unsupported file type .doc"),
    (b"hello", "noextension", r"Unsupported file type \(no extension\)"),
    (random.Random(1).randbytes(4000), "a.txt", "not"),
    (b"\x81\x30\xff\xfe" * 50, "a.txt", "neither UTF-8 nor GB18030"),
    (b"text\x00with\x00nuls", "a.txt", "binary"),
    (b"PK\x03\x04 not really a zip", "a.docx", "not a valid Word document"),
    (b"%PDF-1.4\n garbage garbage", "a.pdf", "PDF"),
    (b"just text", "a.pdf", "not a valid PDF"),
    (b"not a zip at all", "a.epub", "not a valid EPUB"),
])
def test_bad_files_are_rejected_with_a_message(data, filename, message):
    with pytest.raises(ReadingError, match=message):
        parse_reading(data, filename)


def test_docx_zip_without_document_is_rejected():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ReadingError, match="not a valid Word document"):
        parse_reading(buffer.getvalue(), "a.docx")


def test_epub_without_container_is_rejected():
    with pytest.raises(ReadingError, match=r"META-INF/container\.xml is missing"):
        parse_reading(_make_epub(["<p>x</p>"], container=False), "a.epub")


def test_too_large_file_is_rejected(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_READING_BYTES", 1024)
    with pytest.raises(ReadingError, match="too large"):
        parse_reading("学习。".encode() * 1000, "big.txt")


def test_html_without_text_is_rejected():
    with pytest.raises(ReadingError, match="no readable text"):
        parse_reading(b"<html><body><script>x()</script></body></html>", "a.html")


def test_reading_error_is_a_value_error():
    assert issubclass(ReadingError, ValueError)
