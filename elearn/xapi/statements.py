"""xAPI 1.0.3 statements as plain dictionaries: the actor, verbs, activities and results of elearn's events.

Nothing here reads the app, the database or the clock: the service passes the site's home page, the member's
identifier and the moment, so a statement is fully decided when it is written to the outbox.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

XAPI_VERSION = "1.0.3"

# Verbs from the ADL registry; a credit (学时) has none there, so it takes "earned" of the xAPI vocabulary
# registry that LRSs and reports already know.
VERBS: dict[str, tuple[str, str]] = {
    "launched": ("http://adlnet.gov/expapi/verbs/launched", "launched"),
    "progressed": ("http://adlnet.gov/expapi/verbs/progressed", "progressed"),
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    "attended": ("http://adlnet.gov/expapi/verbs/attended", "attended"),
    "earned": ("http://id.tincanapi.com/verb/earned", "earned"),
}

# What each kind of elearn object is, as an xAPI activity type.
ACTIVITY_TYPES: dict[str, str] = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "reading": "http://id.tincanapi.com/activitytype/document",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "group_session": "http://adlnet.gov/expapi/activities/meeting",
    "offline_training": "http://adlnet.gov/expapi/activities/meeting",
    "correction": "http://adlnet.gov/expapi/activities/interaction",
}

# How a member is identified to the LRS (ELEARN_XAPI_ACTOR): an account of the site (the stable member id),
# or the SHA-1 of their mailbox (falling back to the account for a member without an e-mail address).
ACTOR_IFIS = ("account", "mbox_sha1sum")


def timestamp(moment: datetime) -> str:
    """A stored (naive UTC) time as an xAPI timestamp, to the millisecond."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration to 0.01 s (xAPI's precision): ``PT1H2M3.5S``."""
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    secs = f"{rest // 100}.{rest % 100:02d}".rstrip("0").rstrip(".")
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if rest or text == "PT" else "")


def extension(home_page: str, name: str) -> str:
    """The IRI of one of elearn's own extensions (results and context)."""
    return f"{home_page}/xapi/extensions/{name}"


def actor(*, member_id: int, email: str | None, ifi: str, home_page: str) -> dict[str, Any]:
    """The member as an xAPI Agent: ``account`` {homePage, name = the member's id} or ``mbox_sha1sum``."""
    if ifi == "mbox_sha1sum" and email:
        # SHA-1 because xAPI defines this identifier so (not for secrecy); the address in lower case, as other
        # platforms of the same members write it.
        digest = hashlib.sha1(f"mailto:{email.strip().lower()}".encode()).hexdigest()
        return {"objectType": "Agent", "mbox_sha1sum": digest}
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": str(member_id)}}


def activity(home_page: str, kind: str, ident: int | str, name: str | None = None) -> dict[str, Any]:
    """An elearn object (``kind``, typed when ACTIVITY_TYPES knows it) as an xAPI Activity; ``name`` in Chinese
    when given."""
    definition: dict[str, Any] = {"type": ACTIVITY_TYPES[kind]} if kind in ACTIVITY_TYPES else {}
    if name:
        definition["name"] = {"zh-CN": name}
    found: dict[str, Any] = {"objectType": "Activity", "id": f"{home_page}/xapi/activities/{kind}/{ident}"}
    if definition:
        found["definition"] = definition
    return found


def statement(*, statement_id: str, actor: dict[str, Any], verb: str, obj: dict[str, Any], moment: datetime,
              home_page: str, result: dict[str, Any] | None = None, parent: dict[str, Any] | None = None,
              registration: str | None = None, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole statement. ``parent``: the activity it belongs to (a lesson's course); ``extensions``: context
    extensions by short name (made IRIs under ``home_page``)."""
    verb_id, display = VERBS[verb]
    context: dict[str, Any] = {"platform": "elearn", "language": "zh-CN"}
    if parent is not None:
        context["contextActivities"] = {"parent": [parent]}
    if registration:
        context["registration"] = registration
    if extensions:
        context["extensions"] = {extension(home_page, k): v for k, v in extensions.items()}
    out: dict[str, Any] = {
        "id": statement_id, "actor": actor, "verb": {"id": verb_id, "display": {"en-US": display}}, "object": obj,
        "context": context, "timestamp": timestamp(moment), "version": XAPI_VERSION,
    }
    if result:
        out["result"] = result
    return out


def score(percent: float) -> dict[str, float]:
    """A percentage (0–100) as an xAPI score."""
    return {"scaled": round(percent / 100.0, 4), "raw": round(percent, 2), "min": 0, "max": 100}
