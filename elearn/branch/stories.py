"""Model stories (学习身边榜样): org admins publish the story of an exemplary member to their subtree, optionally
narrowed to sectors and member categories; members read the stories published to them, newest first.

Who sees a story is the series' audience rule (:func:`elearn.courses.catalog.targets_condition`) applied to
its targets, and its sectors narrow it. The body is sanitised when saved (Markdown or HTML in, only harmless
tags out: :func:`elearn.courses.services.render_markdown`); the photo is checked by its first bytes.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.branch.story_models import ModelStory, StoryRead, StorySector, StoryTarget
from elearn.courses import catalog
from elearn.courses.services import render_markdown
from elearn.errors import Forbidden, NotFound, ServiceError, TooLarge
from elearn.extensions import ID_MAX, db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import BRANCH_SHOWCASE, MEMBER_CATEGORIES, SECTORS
from elearn.storage import get_storage

STORY_FIELDS = ["organisation_id", "person_name", "person_org", "title", "photo_key", "published"]
# What a photo's first bytes must be, and the type it is then stored as.
PHOTO_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"))
PHOTO_MIMETYPES = {"jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class StoryView:
    id: int
    title: str
    person_name: str
    person_org: str
    publisher: str
    published_at: datetime | None
    body_html: str
    has_photo: bool


def clean_body(text: str) -> str:
    """The body as stored: Markdown (or HTML) rendered with only harmless tags and attributes kept."""
    return str(render_markdown(text))


def photo_type(data: bytes) -> str:
    """``jpeg`` or ``png`` from the file's first bytes.

    Raises:
        TooLarge: above the policy's size limit.
        ServiceError: not a JPEG or PNG image, whatever its name says.
    """
    if len(data) > BRANCH_SHOWCASE.story_photo_max_bytes:
        raise TooLarge(_("照片过大：上限为 %(mb)s MB。", mb=BRANCH_SHOWCASE.story_photo_max_bytes // (1024 * 1024)),
                       "photo_too_large")
    for magic, kind in PHOTO_MAGIC:
        if data.startswith(magic):
            return kind
    raise ServiceError(_("照片必须是 JPEG 或 PNG 图片。"), "bad_photo")


def _require_publisher(actor: User, org: Organisation) -> None:
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN) or not orgs.can_manage(actor, org):
        raise Forbidden(_("只有组织管理员可以发布身边榜样。"))


def publish_story(actor: User, org: Organisation, *, person_name: str, person_org: str, title: str, body: str,
                  photo: bytes | None = None, sectors: Sequence[str] = (), categories: Sequence[str] = ()
                  ) -> ModelStory:
    """Write and publish a story to ``org``'s subtree (an admin over ``org``), narrowed to ``sectors`` and member
    ``categories`` when given. Nothing is stored when anything is refused.

    Raises:
        Forbidden: ``actor`` does not administer ``org``.
        ServiceError: a missing or too long field, an unknown sector or category, a photo that is not a JPEG
            or PNG (TooLarge above the limit).
    """
    _require_publisher(actor, org)
    person_name, person_org, title = (person_name or "").strip(), (person_org or "").strip(), (title or "").strip()
    if not title or not person_name:
        raise ServiceError(_("请填写标题和榜样姓名。"), "title_required")
    if len(title) > BRANCH_SHOWCASE.title_max or len(person_name) > 100 or len(person_org) > 200:
        raise ServiceError(_("标题、姓名或单位过长。"), "too_long")
    if not (body or "").strip():
        raise ServiceError(_("请填写事迹正文。"), "body_required")
    if len(body) > BRANCH_SHOWCASE.story_body_max_chars:
        raise ServiceError(_("事迹正文过长。"), "body_too_long")
    if any(s not in SECTORS for s in sectors) or len(set(sectors)) != len(sectors):
        raise ServiceError(_("未知的领域。"), "bad_sector")
    if any(c not in MEMBER_CATEGORIES for c in categories) or len(set(categories)) != len(categories):
        raise ServiceError(_("未知的党员类别。"), "bad_category")
    kind = photo_type(photo) if photo else None
    story = ModelStory(organisation_id=org.id, person_name=person_name, person_org=person_org or org.name,
                       title=title, body_html=clean_body(body), published=True, published_at=clock.now_utc(),
                       author_id=actor.id, photo_type=kind)
    story.targets.append(StoryTarget(kind="organisation", organisation_id=org.id, include_subtree=True))
    for code in categories:
        story.targets.append(StoryTarget(kind="category", member_category=code))
    for code in sectors:
        story.sectors.append(StorySector(sector=code))
    db.session.add(story)
    db.session.flush()
    if photo and kind:
        story.photo_key = f"stories/{story.id}/photo.{'jpg' if kind == 'jpeg' else 'png'}"
    audit.record(actor, "story.publish", story, after={**audit.snapshot(story, STORY_FIELDS),
                                                       "sectors": list(sectors), "categories": list(categories)})
    if photo and story.photo_key:
        get_storage().save(story.photo_key, io.BytesIO(photo))
    try:
        db.session.commit()
    except Exception:
        if story.photo_key:
            get_storage().delete(f"stories/{story.id}")
        raise
    return story


def get(story_id: int) -> ModelStory:
    story = db.session.get(ModelStory, story_id) if 0 < story_id <= ID_MAX else None
    if story is None:
        raise NotFound(_("榜样故事不存在。"))
    return story


def set_published(actor: User, story: ModelStory, published: bool) -> ModelStory:
    """Unpublish (or publish again) a story; audited."""
    _require_publisher(actor, story.organisation)
    if story.published != published:
        before = audit.snapshot(story, STORY_FIELDS)
        story.published = published
        if published:
            story.published_at = clock.now_utc()
        audit.record(actor, "story.publish" if published else "story.unpublish", story, before=before,
                     after=audit.snapshot(story, STORY_FIELDS))
        db.session.commit()
    return story


def _visible_condition(user: User):
    sectors = {o.sector for o in catalog.current_orgs(user)}
    narrowed = exists().where(StorySector.story_id == ModelStory.id)
    in_sector = exists().where(StorySector.story_id == ModelStory.id, StorySector.sector.in_(sectors))
    return (ModelStory.published.is_(True)
            & catalog.targets_condition(user, StoryTarget, StoryTarget.story_id == ModelStory.id)
            & or_(~narrowed, in_sector))


def _view(story: ModelStory) -> StoryView:
    return StoryView(id=story.id, title=story.title, person_name=story.person_name, person_org=story.person_org,
                     publisher=story.organisation.name, published_at=story.published_at,
                     body_html=story.body_html, has_photo=story.photo_key is not None)


def stories_for(user: User, *, limit: int | None = None) -> list[StoryView]:
    """The stories published to ``user``, newest first."""
    stmt = (select(ModelStory).where(_visible_condition(user))
            .order_by(ModelStory.published_at.desc(), ModelStory.id.desc()))
    if limit:
        stmt = stmt.limit(limit)
    return [_view(s) for s in db.session.execute(stmt).scalars()]


def _may_see(user: User, story: ModelStory) -> bool:
    if orgs.can_manage(user, story.organisation):
        return True
    stmt = select(ModelStory.id).where(ModelStory.id == story.id, _visible_condition(user))
    return db.session.execute(stmt).first() is not None


def visible_story(user: User, story_id: int) -> ModelStory:
    """A story ``user`` may see (its audience, or an admin over its publisher); NotFound otherwise."""
    story = get(story_id)
    if not _may_see(user, story):
        raise NotFound(_("榜样故事不存在。"))
    return story


def read_story(user: User, story_id: int) -> StoryView:
    """A story published to ``user``; their first reading is counted for the publisher."""
    story = visible_story(user, story_id)
    if story.published:
        seen = db.session.execute(select(StoryRead.id).where(
            StoryRead.story_id == story.id, StoryRead.user_id == user.id)).first()
        if seen is None:
            db.session.add(StoryRead(story_id=story.id, user_id=user.id, read_at=clock.now_utc()))
            try:
                db.session.commit()
            except IntegrityError:  # the same member's other tab counted it a moment ago
                db.session.rollback()
    return _view(story)


def managed_stories(actor: User) -> list[tuple[ModelStory, int]]:
    """The stories of organisations ``actor`` administers, newest first, each with its count of readers."""
    ids = [o.id for o in orgs.managed_orgs(actor)]
    if not ids:
        return []
    reads = (select(StoryRead.story_id, func.count(StoryRead.id).label("n")).group_by(StoryRead.story_id)
             .subquery())
    rows = db.session.execute(
        select(ModelStory, func.coalesce(reads.c.n, 0)).outerjoin(reads, reads.c.story_id == ModelStory.id)
        .where(ModelStory.organisation_id.in_(ids))
        .order_by(ModelStory.created_at.desc(), ModelStory.id.desc())).all()
    return [(story, int(n)) for story, n in rows]


def photo_file(user: User, story_id: int) -> tuple[str, str]:
    """(storage key, mimetype) of the photo of a story ``user`` may see; NotFound otherwise."""
    story = visible_story(user, story_id)
    if story.photo_key is None or story.photo_type is None:
        raise NotFound(_("照片不存在。"))
    return story.photo_key, PHOTO_MIMETYPES[story.photo_type]
