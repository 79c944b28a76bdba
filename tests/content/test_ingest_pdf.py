"""PDF layout (issue 15): paragraphs follow first-line indents, not printed lines ending in 。;
running headers, footers and page numbers are dropped even from one- and two-page files.
The PDFs are written here with reportlab in a CJK font, so every position is known."""
import contextlib
import io

import pytest

from content import ReadingError, parse_reading

FONT = "STSong-Light"
HEADER = "党员教育培训工作规划 · 内部学习资料"
MARGIN, INDENT = 72, 96  # the indent is two characters of 12-point type
PAGE_CENTRE = 297.6


@pytest.fixture(scope="module", autouse=True)
def _cjk_font():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _pdf(pages) -> bytes:
    """A PDF of pages, each a list of (x or "centre", y, text, size)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for items in pages:
        for x, y, text, size in items:
            pdf.setFont(FONT, size)
            if x == "centre":
                pdf.drawCentredString(PAGE_CENTRE, y, text)
            else:
                pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _body(lines, top=740, spacing=18):
    return [(x, top - i * spacing, text, 12) for i, (x, text) in enumerate(lines)]


def _outline(reading):
    return [(s.title, s.level, [p.text for p in s.paragraphs]) for s in reading.sections]


def _page(*parts):
    """One page's items from single (x, y, text, size) items and lists of them."""
    items = []
    for part in parts:
        items.extend(part if isinstance(part, list) else [part])
    return items


def _indented_three_pages() -> bytes:
    page1 = _page(("centre", 806, HEADER, 9), ("centre", 770, "党员教育培训工作规划解读", 18), _body([
        (INDENT, "一、总体要求"),
        (INDENT, "党员教育培训要坚持以习近平新时代中国特色社会主义思想为指导。"),
        (MARGIN, "深入贯彻党的二十大精神，全面落实新时代党的建设总要求和组织路线。"),
        (MARGIN, "坚持政治引领、分类指导、守正创新、服务大局。"),
        (INDENT, "党员五年内参加各类集中学习培训累计不少于二十天或一百六十学时，其"),
        (MARGIN, "中基层党组织书记累计不少于三十五天或二百八十学时。"),
    ]), ("centre", 40, "- 1 -", 9))
    page2 = _page(("centre", 806, HEADER, 9), _body([
        (MARGIN, "每年参加县级以上党委举办的脱产培训累计一般不少于五天。"),
        (INDENT, "党的创新理论教育学时应占总学时的百分之五十以上，党员干部学时要"),
        (MARGIN, "求按照全国干部教育培训规划执行。"),
    ]), ("centre", 650, "为什么要加强党员教育？", 16), _body([
        (INDENT, "加强党员教育是党的建设的基础工程，关系党的创造力、凝聚力和战斗"),
        (MARGIN, "力。"),
        (INDENT, "坚持学用结合"),
        (INDENT, "注重理论学用转化，引导党员立足岗位担当作为，开展设岗定责、承诺"),
        (MARGIN, "践诺等活动。"),
        (INDENT, "这是为什么？"),
        (INDENT, "因为学是为了用，用是更好的学。"),
    ], top=620), ("centre", 40, "- 2 -", 9))
    page3 = _page(("centre", 806, HEADER, 9), _body([
        (INDENT, "二、组织实施"),
        (INDENT, "各级党委要加强领导。"),
    ]), ("centre", 40, "- 3 -", 9))
    return _pdf([page1, page2, page3])


def test_pdf_paragraphs_start_at_indents_not_at_lines_ending_in_full_stop():
    reading = parse_reading(_indented_three_pages(), "guide.pdf")
    assert reading.title == "党员教育培训工作规划解读"
    assert _outline(reading) == [
        ("一、总体要求", 1, [
            # Two printed lines end in 。 inside this paragraph; the next line is not indented.
            "党员教育培训要坚持以习近平新时代中国特色社会主义思想为指导。深入贯彻党的二十大精神，"
            "全面落实新时代党的建设总要求和组织路线。坚持政治引领、分类指导、守正创新、服务大局。",
            # Page 1 ends a line with 。, page 2 goes on at the margin: one paragraph over the break.
            "党员五年内参加各类集中学习培训累计不少于二十天或一百六十学时，其中基层党组织书记累计"
            "不少于三十五天或二百八十学时。每年参加县级以上党委举办的脱产培训累计一般不少于五天。",
            "党的创新理论教育学时应占总学时的百分之五十以上，党员干部学时要求按照全国干部教育培训规划执行。",
        ]),
        # A question set in larger type is a heading; an indented short question is a paragraph.
        ("为什么要加强党员教育？", 2, ["加强党员教育是党的建设的基础工程，关系党的创造力、凝聚力和战斗力。"]),
        ("坚持学用结合", 2, [
            "注重理论学用转化，引导党员立足岗位担当作为，开展设岗定责、承诺践诺等活动。",
            "这是为什么？",
            "因为学是为了用，用是更好的学。",
        ]),
        ("二、组织实施", 1, ["各级党委要加强领导。"]),
    ]
    assert not any(HEADER in p.text or "- 2 -" in p.text for p in reading.paragraphs)


def _typeset(paragraphs) -> bytes:
    """Real typesetting: reportlab wraps the text itself (first-line indent, CJK wrapping) and draws
    a running header and a page number on every page."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    style = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=18, firstLineIndent=24, wordWrap="CJK")

    def furniture(canvas, document):
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(PAGE_CENTRE, 810, HEADER)
        canvas.drawCentredString(PAGE_CENTRE, 30, f"第 {document.page} 页")

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer).build([Paragraph(p, style) for p in paragraphs],
                                    onFirstPage=furniture, onLaterPages=furniture)
    return buffer.getvalue()


def test_pdf_typeset_paragraphs_come_back_whole():
    # The first paragraph is sized so that its first printed line ends exactly with 。
    # (35 characters after the two-character indent).
    first = "党员教育培训要坚持以习近平新时代中国特色社会主义思想为指导，全面加强。" \
            "深入贯彻党的二十大和二十届二中、三中全会精神，教育引导全体党员深刻领悟“两个确立”的决定性意义。"
    assert first.index("。") + 1 == 35
    paragraphs = [first] + [
        f"第{n}条要求：各级党组织要结合实际认真贯彻落实，持续推动党的创新理论武装走深走实，"
        "把学习贯彻习近平新时代中国特色社会主义思想作为主题主线。党员要读原著、学原文、悟原理。" * 2
        for n in range(1, 15)
    ]
    reading = parse_reading(_typeset(paragraphs), "typeset.pdf")
    assert len(reading.sections) == 1
    assert [p.text for p in reading.paragraphs] == paragraphs


def test_pdf_first_printed_line_of_a_paragraph_is_not_taken_for_the_title():
    paragraphs = ["各级党组织要结合实际认真贯彻落实，持续推动党的创新理论武装走深走实。" * 3] * 2
    reading = parse_reading(_typeset(paragraphs), "untitled-plan.pdf")
    assert reading.title == "untitled-plan"
    assert [p.text for p in reading.paragraphs] == paragraphs


def _one_page(header_size=9) -> bytes:
    return _pdf([_page(("centre", 806, HEADER, header_size), ("centre", 760, "支部学习材料", 16), _body([
        (INDENT, "各级党组织要认真组织党员学习党章党规党纪，引导党员学纪知纪明纪守"),
        (MARGIN, "纪。"),
        (INDENT, "党员要积极参加组织生活。"),
    ], top=720), ("centre", 40, "第 1 页 共 1 页", 9))])


def test_one_page_pdf_drops_its_header_and_footer():
    reading = parse_reading(_one_page(), "one.pdf")
    assert reading.title == "支部学习材料"
    assert _outline(reading) == [("", 0, [
        "各级党组织要认真组织党员学习党章党规党纪，引导党员学纪知纪明纪守纪。",
        "党员要积极参加组织生活。",
    ])]


def test_two_page_pdf_drops_a_repeated_header_in_body_type():
    # Same type size as the body, so only its place and its repetition on both pages mark it.
    def page(number, lines):
        return _page(("centre", 806, HEADER, 12), _body(lines), ("centre", 40, str(number), 12))

    first = page(1, [(MARGIN, "党员教育培训工作要坚持政治引领，党员干部学时要求按照")])
    first.append(("centre", 770, "学习材料", 16))
    data = _pdf([first, page(2, [(MARGIN, "全国干部教育培训规划执行。"), (MARGIN, "各级党委要加强领导。")])])
    reading = parse_reading(data, "two.pdf")
    assert reading.title == "学习材料"
    assert [p.text for p in reading.paragraphs] == [
        "党员教育培训工作要坚持政治引领，党员干部学时要求按照全国干部教育培训规划执行。", "各级党委要加强领导。"]


def test_first_line_high_on_a_single_page_is_kept():
    # A line near the top edge in body type, not repeated and not set off, is text, not a header.
    data = _pdf([_body([
        (MARGIN, "一、学习要求"),
        (MARGIN, "党员要认真学习党章。"),
        (MARGIN, "党员要积极参加组织生活。"),
    ], top=800)])
    reading = parse_reading(data, "top.pdf")
    assert [s.title for s in reading.sections] == ["一、学习要求"]
    assert [p.text for p in reading.paragraphs] == ["党员要认真学习党章。", "党员要积极参加组织生活。"]


def test_pdf_without_indents_still_ends_paragraphs_at_full_stops():
    data = _pdf([_body([
        (MARGIN, "党员教育培训要坚持政治引领，"),
        (MARGIN, "分类指导。"),
        (MARGIN, "各级党委要加强领导。"),
    ])])
    reading = parse_reading(data, "flat.pdf")
    assert [p.text for p in reading.paragraphs] == ["党员教育培训要坚持政治引领，分类指导。", "各级党委要加强领导。"]


def test_damaged_pdfs_give_a_reading_or_a_reading_error(damaged_copies):
    for seed, source in enumerate((_indented_three_pages(), _one_page()), start=15):
        for damaged in damaged_copies(source, seed=seed, count=100):
            with contextlib.suppress(ReadingError):
                parse_reading(damaged, "damaged.pdf")


def test_title_repeated_as_the_running_header_of_page_two_stays_the_title():
    title = "党员教育培训工作规划"
    data = _pdf([
        _page(("centre", 790, title, 18), _body([(MARGIN, "党员要认真学习党章，党员干部学时要求按照")], top=740)),
        _page(("centre", 806, title, 9), _body([(MARGIN, "全国干部教育培训规划执行。")])),
    ])
    reading = parse_reading(data, "two.pdf")
    assert reading.title == title
    assert [p.text for p in reading.paragraphs] == [
        "党员要认真学习党章，党员干部学时要求按照全国干部教育培训规划执行。"]


def test_centred_lines_in_body_type_a_note_stays_text_a_question_is_a_heading():
    data = _pdf([_page(("centre", 780, "党员教育培训工作规划", 18), _body([
        ("centre", "（2024年3月1日中共中央政治局会议审议批准）"),
        (INDENT, "各级党组织要认真组织党员学习党章党规党纪，引导党员学纪知纪明纪守"),
        (MARGIN, "纪。"),
        ("centre", "为什么要加强党员教育？"),
        (INDENT, "加强党员教育是党的建设的基础工程，关系党的创造力、凝聚力和战斗"),
        (MARGIN, "力。"),
    ]))])
    reading = parse_reading(data, "plan.pdf")
    assert reading.title == "党员教育培训工作规划"
    assert _outline(reading) == [
        ("", 0, ["（2024年3月1日中共中央政治局会议审议批准）",
                 "各级党组织要认真组织党员学习党章党规党纪，引导党员学纪知纪明纪守纪。"]),
        ("为什么要加强党员教育？", 1, ["加强党员教育是党的建设的基础工程，关系党的创造力、凝聚力和战斗力。"]),
    ]


def test_hanging_indent_of_a_list_does_not_make_paragraphs_run_on():
    # Block paragraphs (no first-line indent) with a list whose second line hangs: the indent marks
    # no paragraph starts here, so a line ending in 。 still ends its paragraph.
    data = _pdf([_body([
        (MARGIN, "党员要做到以下几点，"),
        (MARGIN, "1.认真学习党章党规，"),
        (MARGIN + 18, "按时参加组织生活。"),
        (MARGIN, "2.积极发挥先锋模范作用，"),
        (MARGIN + 18, "带头攻坚克难。"),
        (MARGIN, "各级党委要加强领导。"),
        (MARGIN, "党支部要抓好落实。"),
    ])])
    reading = parse_reading(data, "list.pdf")
    # A numbered line ending in a comma goes on: an item, not a heading.
    assert _outline(reading) == [("", 0, [
        "党员要做到以下几点，",
        "1.认真学习党章党规，按时参加组织生活。",
        "2.积极发挥先锋模范作用，带头攻坚克难。",
        "各级党委要加强领导。",
        "党支部要抓好落实。",
    ])]
