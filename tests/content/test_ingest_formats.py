"""Structure that every format must keep (issue 15): headings ending in ？/！, unnumbered subheadings,
bylines, and soft line breaks next to Chinese punctuation. Text fixtures are real files in
fixtures/ingest/; the binary formats (docx, epub) are built here from the same kind of content."""
import contextlib
import io
import zipfile
from pathlib import Path

import pytest

from content import ReadingError, parse_reading
from content.ingest import join_broken_lines

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"


def _outline(reading):
    """(section title, level, [paragraph texts]) for every section, in order."""
    return [(s.title, s.level, [p.text for p in s.paragraphs]) for s in reading.sections]


def _parse_fixture(name):
    return parse_reading((FIXTURES / name).read_bytes(), name)


TXT_OUTLINE = [
    ("", 0, [
        "——在全省党员教育工作会议上的讲话",
        "作者：李四",
        "新华社北京3月1日电（记者 张三）",
        "近日，中共中央办公厅印发了《全国党员教育培训工作规划（2024-2028年）》，要求各地区各部门结合实际认真贯彻落实。",
    ]),
    ("为什么要加强党员教育？", 2, [
        "加强党员教育是党的建设的基础工程。有人会问：党员教育与干部教育有什么不同？答案在于对象和要求。",
    ]),
    ("坚持政治引领", 2, ["党员教育培训要坚持政治引领，把学习贯彻习近平新时代中国特色社会主义思想作为主题主线。"]),
    # A numbered heading may be a question; the short questions inside the text stay paragraphs.
    ("一、为什么要学原著？", 1, ["党员要读原著、学原文、悟原理。", "这是为什么？", "因为原著是理论的源头。"]),
    ("奋进新时代！", 2, ["广大党员要深刻领悟“两个确立”的决定性意义，党员干部学时要求按照全国干部教育培训规划执行。"]),
    ("二、组织实施", 1, ["各级党委要加强领导。"]),
]


def test_txt_headings_bylines_and_subheadings():
    reading = _parse_fixture("study-guide.txt")
    assert reading.title == "党员教育培训学习辅导"
    assert _outline(reading) == TXT_OUTLINE


def test_txt_gb18030_parses_like_utf8():
    gb = (FIXTURES / "study-guide.gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")  # the fixture really is GB18030, not UTF-8 under another name
    reading = parse_reading(gb, "study-guide.txt")
    assert reading.to_dict(with_text=True) == _parse_fixture("study-guide.txt").to_dict(with_text=True)
    assert _outline(reading) == TXT_OUTLINE


@pytest.mark.parametrize("lines, expected", [
    # A question set apart by blank lines is a heading; one in the run of the text is a sentence.
    (["正文第一段。", "", "这是为什么？", "", "正文第二段，说明了原因。"],
     ["正文第一段。", "这是为什么？", "正文第二段，说明了原因。"]),
    # A short line without final punctuation before a page break is a paragraph cut by the break.
    (["正文第一段。", "各级党组织要", "\f", "认真组织学习。"], ["正文第一段。", "各级党组织要认真组织学习。"]),
    # After an introduction ending in a colon, a short line is part of what is introduced.
    (["主要内容包括：", "学习党章", "学习党规党纪，做到知行合一。"],
     ["主要内容包括：", "学习党章学习党规党纪，做到知行合一。"]),
    # A question with a comma inside is a sentence even when it stands alone.
    (["正文。", "", "我们是谁，要做什么？", "", "正文第二段，说明了原因。"],
     ["正文。", "我们是谁，要做什么？", "正文第二段，说明了原因。"]),
    # A byline never joins the text it introduces, nor the text before it.
    (["作者：李四", "正文第一段，没有写完", "文／张三"], ["作者：李四", "正文第一段，没有写完", "文／张三"]),
])
def test_join_broken_lines_keeps_headings_and_bylines_apart(lines, expected):
    assert join_broken_lines(lines) == expected


def test_txt_question_in_running_text_stays_a_paragraph():
    text = "学习材料\n\n正文第一段。\n\n这是为什么？\n因为学是为了用。\n"
    reading = parse_reading(text.encode(), "a.txt")
    assert _outline(reading) == [("", 0, ["正文第一段。", "这是为什么？", "因为学是为了用。"])]


def test_markdown_soft_breaks_bylines_and_subheadings():
    reading = _parse_fixture("study-guide.md")
    assert reading.title == "党员教育培训学习辅导"
    assert _outline(reading) == [
        ("", 0, ["——在全省党员教育工作会议上的讲话", "作者：李四"]),
        ("为什么要加强党员教育？", 1, [
            # Breaks after “, after —— and after …… join without a space, as between any Chinese characters.
            "加强党员教育是党的建设的基础工程，广大党员要深刻领悟“两个确立”的决定性意义，"
            "学习习近平新时代中国特色社会主义思想——党的创新理论的最新成果……要读原著、学原文、悟原理。",
        ]),
        ("坚持政治引领", 3, ["党员教育培训要坚持政治引领，把学习贯彻习近平新时代中国特色社会主义思想作为主题主线。"]),
        # Between Latin words a break stays a space; list items are never headings.
        ("一、为什么要学原著？", 2, ["因为原著是理论的源头。Read the original works.", "这是为什么？", "怎么办？"]),
    ]


def test_markdown_phrase_across_a_break_next_to_a_quote_is_found():
    md = "# 材料\n\n认真学习“习近平新时代\n中国特色社会主义思想”\n和党章。\n"
    reading = parse_reading(md.encode(), "a.md")
    assert reading.paragraphs[0].text == "认真学习“习近平新时代中国特色社会主义思想”和党章。"


def test_html_bold_heading_plain_subheading_and_byline():
    reading = _parse_fixture("study-guide.html")
    assert reading.title == "党员教育培训学习辅导"
    assert _outline(reading) == [
        ("", 0, ["新华社北京3月1日电（记者 张三）",
                 "近日，中共中央办公厅印发了《全国党员教育培训工作规划（2024-2028年）》。"]),
        # Set in bold on its own, an exclamation is a heading; a plain question is a paragraph.
        ("奋进新时代！", 2, ["广大党员要深刻领悟“两个确立”的决定性意义，“两个维护”·“四个意识”……",
                         "怎么办？", "答案是坚持学习。"]),
        ("二、组织实施", 1, []),
        ("坚持政治引领", 2, ["各级党委要加强领导，把党员教育培训工作摆上重要议事日程。", "中共中央办公厅"]),
    ]


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("支部学习资料", level=0)
    byline = document.add_paragraph()
    byline.add_run("作者：李四").add_break()
    byline.add_run("本文是支部书记在党课上的讲稿，供各支部学习参考。")
    question = document.add_paragraph()
    question.add_run("为什么要加强党员教育？").bold = True
    broken = document.add_paragraph()
    broken.add_run("党员要深入学习习近平新时代").add_break()
    broken.add_run("中国特色社会主义思想，深刻领悟“").add_break()
    broken.add_run("两个确立”的决定性意义。Read the").add_break()
    broken.add_run("original works.")
    document.add_paragraph("怎么办？")
    document.add_paragraph("答案是坚持学习，学用结合。")
    document.add_paragraph("坚持政治引领")
    document.add_paragraph("把学习贯彻党的创新理论作为主题主线，持续推动理论武装走深走实。")
    document.add_paragraph("一、为什么要学原著？")
    document.add_paragraph("因为原著是理论的源头。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "学习内容"
    table.cell(0, 1).text = "党章党规党纪是党员必须遵守的基本规范，要经常学、反复学。"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_manual_breaks_bold_heading_subheading_and_byline():
    reading = parse_reading(_docx_bytes(), "材料.docx")
    assert reading.title == "支部学习资料"
    assert _outline(reading) == [
        ("", 0, ["作者：李四", "本文是支部书记在党课上的讲稿，供各支部学习参考。"]),
        ("为什么要加强党员教育？", 2, [
            "党员要深入学习习近平新时代中国特色社会主义思想，深刻领悟“两个确立”的决定性意义。"
            "Read the original works.",
            "怎么办？",
            "答案是坚持学习，学用结合。",
        ]),
        ("坚持政治引领", 2, ["把学习贯彻党的创新理论作为主题主线，持续推动理论武装走深走实。"]),
        # A table cell is never an unmarked heading.
        ("一、为什么要学原著？", 1, [
            "因为原著是理论的源头。", "学习内容", "党章党规党纪是党员必须遵守的基本规范，要经常学、反复学。"]),
    ]
    assert any("习近平新时代中国特色社会主义思想" in p.text for p in reading.paragraphs)


def _epub_bytes(chapters: list[str], title: str = "党员读本") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as epub:
        epub.writestr("mimetype", "application/epub+zip")
        epub.writestr("META-INF/container.xml", """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>""")
        items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
                        for i in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        epub.writestr("OEBPS/content.opf", f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>{title}</dc:title></metadata><manifest>{items}</manifest><spine>{spine}</spine></package>""")
        for i, body in enumerate(chapters):
            epub.writestr(f"OEBPS/c{i}.xhtml",
                          '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                          f"<head><title>c</title></head><body>{body}</body></html>")
    return buffer.getvalue()


def test_epub_question_headings_subheadings_bylines_and_breaks():
    data = _epub_bytes([
        "<h1>第一章 为什么要学？</h1>\n<p>作者：李四\n本章讲学习的意义，供党员自学。</p>\n"
        "<p>广大党员要深刻领悟“\n两个确立”的决定性意义……\n要读原著。</p>\n"
        "<p><b>奋进新时代！</b></p>\n<p>新时代党员要有新作为，干事创业，建功立业。</p>",
        "<h1>第二章 怎样学</h1>\n<p>坚持学用结合</p>\n<p>注重理论学用转化，引导党员立足岗位担当作为。</p>\n"
        "<p>怎么办？</p>\n<p>答案是坚持学习。</p>",
    ])
    reading = parse_reading(data, "book.epub")
    assert reading.title == "党员读本"
    assert _outline(reading) == [
        ("第一章 为什么要学？", 1, ["作者：李四", "本章讲学习的意义，供党员自学。",
                               "广大党员要深刻领悟“两个确立”的决定性意义……要读原著。"]),
        ("奋进新时代！", 2, ["新时代党员要有新作为，干事创业，建功立业。"]),
        ("第二章 怎样学", 1, []),
        ("坚持学用结合", 2, ["注重理论学用转化，引导党员立足岗位担当作为。", "怎么办？", "答案是坚持学习。"]),
    ]


@pytest.mark.parametrize("name", ["study-guide.txt", "study-guide.md", "study-guide.html"])
def test_truncated_fixtures_still_parse_or_fail_cleanly(name):
    # Cut anywhere (even inside a multi-byte character), a file gives a reading or a ReadingError.
    data = (FIXTURES / name).read_bytes()
    for cut in range(1, len(data), 37):
        with contextlib.suppress(ReadingError):
            parse_reading(data[:cut], name)


@pytest.mark.parametrize("filename", ["a.docx", "a.epub"])
def test_zip_asking_for_an_unknown_zip_version_is_rejected(filename):
    data = bytearray(_epub_bytes(["<p>正文。</p>"]))
    central = data.index(b"PK\x01\x02")
    data[central + 6] = 100  # "version needed to extract" 10.0: zipfile raises NotImplementedError
    with pytest.raises(ReadingError, match="damaged or not a zip"):
        parse_reading(bytes(data), filename)


def test_docx_with_a_damaged_bold_flag_still_reads():
    import docx

    document = docx.Document()
    document.add_paragraph().add_run("坚持政治引领").bold = True
    document.add_paragraph("把学习贯彻党的创新理论作为主题主线，持续推动理论武装走深走实。")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                content = content.replace(b"<w:b/>", b'<w:b w:val="maybe"/>')
            target.writestr(info, content)
    reading = parse_reading(damaged.getvalue(), "a.docx")
    assert _outline(reading) == [
        ("坚持政治引领", 1, ["把学习贯彻党的创新理论作为主题主线，持续推动理论武装走深走实。"])]


@pytest.mark.parametrize("name", ["study-guide.txt", "study-guide.md", "study-guide.html", "a.docx", "a.epub"])
def test_damaged_files_give_a_reading_or_a_reading_error(name, damaged_copies):
    if name == "a.docx":
        data = _docx_bytes()
    elif name == "a.epub":
        data = _epub_bytes(["<h1>第一章 为什么要学？</h1><p>作者：李四\n本章讲学习的意义。</p>"
                            "<p><b>奋进新时代！</b></p>"])
    else:
        data = (FIXTURES / name).read_bytes()
    for damaged in damaged_copies(data, seed=15, count=150):
        with contextlib.suppress(ReadingError):
            parse_reading(damaged, name)


def test_speaker_under_a_subtitle_is_part_of_the_byline_a_subheading_under_a_credit_is_not():
    text = ("党课讲稿\n\n——在全省党员教育工作会议上的讲话\n\n张 三\n\n"
            "同志们：今天我们召开会议，研究部署党员教育工作。\n\n作者：李四\n\n坚持政治引领\n\n"
            "党员教育培训要坚持政治引领，把学习贯彻党的创新理论作为主题主线。\n")
    reading = parse_reading(text.encode(), "a.txt")
    assert reading.title == "党课讲稿"
    assert _outline(reading) == [
        ("", 0, ["——在全省党员教育工作会议上的讲话", "张 三",
                 "同志们：今天我们召开会议，研究部署党员教育工作。", "作者：李四"]),
        ("坚持政治引领", 1, ["党员教育培训要坚持政治引领，把学习贯彻党的创新理论作为主题主线。"]),
    ]
