"""Progress heartbeats for lessons and readings, resume positions, and the member's credits summary."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from elearn.api import api_login_required, bp
from elearn.api.openapi import EXTRA_PATHS, EXTRA_SCHEMAS, _err
from elearn.services import ServiceError, ledger, requirements, study


def _json_body() -> object:
    data = request.get_json(silent=True)
    if data is None:
        raise ServiceError(_("请求体须为 JSON（Content-Type: application/json）。"), "bad_report", 400)
    return data


@bp.post("/lessons/<int:lesson_id>/progress")
@api_login_required
def report_lesson(lesson_id: int):
    """Accept a playback heartbeat: intervals played since the last report, position, rate, visibility."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    report = study.parse_lesson_report(_json_body())
    return jsonify(study.report_lesson_progress(current_user, lesson, report).as_dict())


@bp.get("/lessons/<int:lesson_id>/progress")
@api_login_required
def lesson_progress(lesson_id: int):
    """Resume position, watched seconds, coverage and completion of a lesson."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    return jsonify(study.lesson_progress(current_user, lesson).as_dict())


@bp.post("/readings/<int:reading_id>/progress")
@api_login_required
def report_reading(reading_id: int):
    """Accept a reading heartbeat: active (visible, recently scrolled) seconds since the last report."""
    reading, course = study.reading_course_for(current_user, reading_id)
    report = study.parse_reading_report(_json_body())
    return jsonify(study.report_reading_progress(current_user, reading, course, report).as_dict())


@bp.get("/readings/<int:reading_id>/progress")
@api_login_required
def reading_progress(reading_id: int):
    """Active seconds so far, the time required and the scroll position of a reading."""
    reading, _course = study.reading_course_for(current_user, reading_id)
    return jsonify(study.reading_progress(current_user, reading).as_dict())


@bp.get("/me/credits")
@api_login_required
def my_credits():
    """The requirement status of the current member and their ledger entries in the cycle."""
    summary = requirements.status(current_user)
    out = summary.as_dict()
    out["entries"] = [{
        "id": r.id, "credited_on": r.credited_on.isoformat(), "kind": r.kind, "title": r.title, "hours": r.hours,
        "category": r.category, "innovative_theory": r.innovative_theory, "offjob": r.offjob,
        "county_level": r.county_level} for r in ledger.rows(current_user, summary.cycle_start, summary.cycle_end)]
    return jsonify(out)


# ---------------------------------------------------------------- OpenAPI

_NUM = {"type": "number"}


def _paths() -> dict:
    def ok(schema: str, description: str) -> dict:
        return {"description": description, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema}"}}}}

    def body(schema: str) -> dict:
        return {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema}"}}}}

    lesson_param = [{"name": "lesson_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    reading_param = [{"name": "reading_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    common = {"401": _err("not authenticated"), "404": _err("no such lesson/reading within reach")}
    return {
        "/lessons/{lesson_id}/progress": {
            "parameters": lesson_param,
            "post": {"summary": "Report playback progress (heartbeat)", "operationId": "reportLessonProgress",
                     "requestBody": body("LessonReport"),
                     "responses": {"200": ok("LessonProgress", "progress after the report"),
                                   "400": _err("malformed report"),
                                   "409": _err("no playable media, or session of another lesson"),
                                   "503": _err("too many concurrent updates, retry"), **common}},
            "get": {"summary": "Resume position and coverage", "operationId": "getLessonProgress",
                    "responses": {"200": ok("LessonProgress", "progress"), **common}},
        },
        "/readings/{reading_id}/progress": {
            "parameters": reading_param,
            "post": {"summary": "Report active reading time (heartbeat)", "operationId": "reportReadingProgress",
                     "requestBody": body("ReadingReport"),
                     "responses": {"200": ok("ReadingProgress", "progress after the report"),
                                   "400": _err("malformed report"), "409": _err("session of another reading"),
                                   **common}},
            "get": {"summary": "Reading progress", "operationId": "getReadingProgress",
                    "responses": {"200": ok("ReadingProgress", "progress"), **common}},
        },
        "/me/credits": {"get": {
            "summary": "My study hours against the cycle's requirements", "operationId": "getMyCredits",
            "responses": {"200": ok("Credits", "requirement status and ledger"),
                          "401": _err("not authenticated")}}},
    }


EXTRA_PATHS.append(_paths)
EXTRA_SCHEMAS.update({
    "LessonReport": {
        "type": "object", "additionalProperties": False,
        "required": ["playback_session", "seq", "intervals", "position", "rate", "visible"],
        "properties": {
            "playback_session": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
            "seq": {"type": "integer", "minimum": 0, "maximum": study.MAX_SEQ},
            "intervals": {"type": "array", "maxItems": 200, "items": {
                "type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number", "minimum": 0}}},
            "position": {"type": "number", "minimum": 0},
            "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": study.MAX_RATE_ACCEPTED},
            "visible": {"type": "boolean"},
            "ended": {"type": "boolean"},
        }},
    "LessonProgress": {
        "type": "object",
        "required": ["lesson_id", "accepted", "credited_seconds", "watched_seconds", "duration_seconds",
                     "coverage", "position", "completed"],
        "properties": {"lesson_id": {"type": "integer"}, "accepted": {"type": "boolean"},
                       "credited_seconds": _NUM, "watched_seconds": _NUM, "duration_seconds": _NUM,
                       "coverage": _NUM, "position": _NUM, "completed": {"type": "boolean"},
                       "reason": {"type": ["string", "null"],
                                  "enum": [None, "duplicate", "hidden", "rate", "budget"]}}},
    "ReadingReport": {
        "type": "object", "additionalProperties": False,
        "required": ["playback_session", "seq", "active_seconds", "position", "visible"],
        "properties": {
            "playback_session": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
            "seq": {"type": "integer", "minimum": 0, "maximum": study.MAX_SEQ},
            "active_seconds": {"type": "number", "minimum": 0, "maximum": 3600},
            "position": {"type": "number", "minimum": 0, "maximum": 1},
            "visible": {"type": "boolean"},
        }},
    "ReadingProgress": {
        "type": "object",
        "required": ["reading_id", "accepted", "active_seconds", "required_seconds", "completed"],
        "properties": {"reading_id": {"type": "integer"}, "accepted": {"type": "boolean"},
                       "credited_seconds": _NUM, "active_seconds": _NUM, "required_seconds": _NUM,
                       "position": _NUM, "completed": {"type": "boolean"},
                       "reason": {"type": ["string", "null"]}}},
    "Credits": {
        "type": "object",
        "required": ["user_id", "exempt", "state", "total_hours", "target_hours", "theory_share", "years",
                     "entries"],
        "properties": {
            "user_id": {"type": "integer"}, "category": {"type": "string"}, "exempt": {"type": "boolean"},
            "state": {"type": "string", "enum": ["exempt", "met", "on_pace", "behind"]},
            "state_label": {"type": "string"},
            "total_hours": _NUM, "target_hours": {"type": ["number", "null"]}, "expected_hours": _NUM,
            "theory_hours": _NUM, "theory_share": _NUM, "theory_required": _NUM, "theory_met": {"type": "boolean"},
            "total_met": {"type": "boolean"}, "offjob_met": {"type": ["boolean", "null"]}, "percent": _NUM,
            "cycle_start": {"type": "string", "format": "date"}, "cycle_end": {"type": "string", "format": "date"},
            "today": {"type": "string", "format": "date"},
            "years": {"type": "array", "items": {"type": "object"}},
            "by_category": {"type": "object", "additionalProperties": _NUM},
            "warnings": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}},
            "entries": {"type": "array", "items": {"type": "object"}},
        }},
})
