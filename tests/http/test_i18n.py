"""The English catalogue covers the interface: every msgid in the code is translated (placeholders kept),
and key pages rendered in English show no Chinese apart from user data."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from elearn import clock, create_app
from elearn.extensions import db as _db
from tests.conftest import CSRFClient

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "elearn" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%%|\{[^{}]*\}")
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _read_catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


def _extracted_msgids() -> dict[str, str]:
    """msgid → first location, extracted from the current code with the project's babel.cfg."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_english_catalogue_translates_every_msgid_in_the_code():
    catalog = _read_catalog()
    extracted = _extracted_msgids()
    assert len(extracted) > 100, "extraction found suspiciously few messages"
    missing = []
    for msgid, where in sorted(extracted.items(), key=lambda kv: kv[1]):
        message = catalog.get(msgid)
        strings = () if message is None else (message.string if isinstance(message.string, tuple)
                                              else (message.string,))
        if message is None or message.fuzzy or not all(strings):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "untranslated (run `make i18n-update` and translate):\n" + "\n".join(missing)


def test_translations_keep_placeholders_and_markup():
    problems = []
    for message in _read_catalog():
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if not string:
                continue
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(string)):
                problems.append(f"placeholders differ: {msgid!r} → {string!r}")
            if not set(HTML_TAG.findall(msgid)) <= set(HTML_TAG.findall(string)):
                problems.append(f"markup lost: {msgid!r} → {string!r}")
    assert not problems, "\n".join(problems)


# --- pages rendered in English ---------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    """The app with the English catalogue compiled from the .po file as it is now (not a stale .mo)."""
    translations = tmp_path / "translations"
    (translations / "en" / "LC_MESSAGES").mkdir(parents=True)
    with (translations / "en" / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
        write_mo(fh, _read_catalog())
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "BABEL_TRANSLATION_DIRECTORIES": str(translations)})
    app.test_client_class = CSRFClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _chinese_left(html: str) -> list[str]:
    """Snippets of visible CJK text, ignoring the language switch ("中文") and inline scripts/styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r'<button[^>]*lang="zh-CN"[^>]*>\s*中文\s*</button>', "", html)
    return [html[max(0, m.start() - 60):m.end() + 60].replace("\n", " ") for m in CJK.finditer(html)]


def _assert_english(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html, url
    left = _chinese_left(html)
    assert not left, f"untranslated text on {url}:\n" + "\n".join(left[:20])
    return html


@pytest.fixture
def english_site(db, make_org, make_user, make_course, make_lesson):
    """ASCII-named data, so any Chinese on a page is interface text that was not translated."""

    from elearn.courses.models import Series, SeriesCourse, SeriesTarget
    from elearn.ledger import services as ledger

    committee = make_org(name="North Committee", kind="committee", sector="rural", county=True)
    branch = make_org(name="Riverside Branch", kind="branch", sector="rural", parent=committee)
    member = make_user(username="alice", name="Alice Smith", org=branch)
    lecturer = make_user(username="lee", name="Lee Jones", org=committee, role="lecturer")
    admin = make_user(username="root", name="Ada Admin", org=committee, role="site_admin")
    course = make_course(title="Theory Basics", lecturer=lecturer, description="An introduction.")
    make_lesson(course=course, title="Lesson One", duration=1800)
    make_course(title="Draft Course", lecturer=lecturer, status="draft")
    series = Series(title="Spring Series", required=True, published=True, published_at=clock.now_utc(),
                    created_by_id=admin.id)
    series.items.append(SeriesCourse(course=course, position=0))
    series.targets.append(SeriesTarget(kind="sector", sector="rural"))
    db.session.add(series)
    ledger.credit(member, kind="lesson", source_kind="lesson", source_id=1, hours=2.5, title="Lesson One",
                  category="political_theory", innovative_theory=True, course_id=course.id)
    db.session.commit()
    return {"member": member, "lecturer": lecturer, "admin": admin, "course": course}


def test_login_page_in_english(client):
    client.post("/auth/locale/en", data={"next": "/auth/login"})
    html = _assert_english(client, "/auth/login")
    assert "Log in" in html


def test_member_pages_in_english(client, auth, english_site):
    auth.login("alice")
    client.post("/auth/locale/en", data={"next": "/"})
    home = _assert_english(client, "/")
    assert "Log out" in home and "Spring Series" in home
    _assert_english(client, "/me/")
    _assert_english(client, "/search/")
    _assert_english(client, "/search/?q=Theory")
    _assert_english(client, f"/learn/courses/{english_site['course'].id}")
    _assert_english(client, "/me/notes")
    client.post("/account/age-friendly", data={"mode": "on"})
    simple = _assert_english(client, "/")  # the simplified home
    assert "Study points" in simple and "Days of study in a row: 1." in simple


def test_lecturer_studio_in_english(client, auth, english_site):
    auth.login("lee")
    client.post("/auth/locale/en", data={"next": "/"})
    _assert_english(client, "/studio/")
    _assert_english(client, f"/studio/courses/{english_site['course'].id}")
    _assert_english(client, "/studio/courses/new")
    for url in ("/studio/courses/{}/learners", "/quiz/course/{}/bank", "/quiz/course/{}/import"):
        _assert_english(client, url.format(english_site["course"].id))


def test_admin_pages_in_english(client, auth, english_site):
    auth.login("root")
    client.post("/auth/locale/en", data={"next": "/"})
    _assert_english(client, "/")
    _assert_english(client, "/admin/")
    _assert_english(client, "/admin/members")
    _assert_english(client, f"/admin/members/{english_site['member'].id}")


@pytest.mark.parametrize("url", ["/analytics/", "/roster/", "/training/", "/readings/", "/quiz/",
                                 "/publish/review", "/publish/series", "/publish/series/new", "/org/import",
                                 "/org/plans", "/admin/audit", "/account/tokens", "/auth/password"])
def test_more_admin_pages_in_english(client, auth, english_site, url):
    auth.login("root")
    client.post("/auth/locale/en", data={"next": "/"})
    _assert_english(client, url)
