"""Model stories (学习身边榜样) in the JSON API: the stories published to me and one of them."""
from __future__ import annotations

from flask import url_for
from flask_login import current_user

from elearn.branch import stories
from elearn.branch.lecture_schemas import StoryDetail, StoryItem, StoryList
from elearn.http.api import api_blueprint, operation

bp = api_blueprint("stories_api", __name__)


def _fields(view: stories.StoryView) -> dict:
    return {"id": view.id, "title": view.title, "person_name": view.person_name, "person_org": view.person_org,
            "publisher": view.publisher, "published_at": view.published_at,
            "photo_url": url_for("stories.photo", story_id=view.id) if view.has_photo else None}


@operation(bp, "/models", operation_id="listModelStories", response=StoryList,
           summary="The model stories (学习身边榜样) published to me, newest first")
def list_stories() -> StoryList:
    """Stories whose audience includes me."""
    return StoryList(items=[StoryItem(**_fields(v)) for v in stories.stories_for(current_user)])


@operation(bp, "/models/<int:story_id>", operation_id="getModelStory", response=StoryDetail,
           errors={404: "no such story published to me"}, summary="One model story (counts my reading)")
def get_story(story_id: int) -> StoryDetail:
    """The story with its sanitised body; my first reading is counted for the publisher."""
    view = stories.read_story(current_user, story_id)
    return StoryDetail(**_fields(view), body_html=view.body_html)
