"""OpenAPI description of /api/v1, kept beside the routes it describes."""
from __future__ import annotations

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}


def _err(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def build_spec() -> dict:
    paths: dict = {
        "/me": {"get": {
            "summary": "The current user's profile",
            "operationId": "getMe",
            "responses": {"200": {"description": "profile", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Me"}}}}, "401": _err("not authenticated")},
        }},
    }
    for extra in EXTRA_PATHS:
        paths.update(extra())
    return {
        "openapi": "3.1.0",
        "info": {"title": "elearn API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": ERROR, "Me": {
                "type": "object",
                "required": ["id", "username", "name", "role", "category", "exempt", "organisation"],
                "properties": {
                    "id": {"type": "integer"}, "username": {"type": "string"}, "name": {"type": "string"},
                    "role": {"type": "string"}, "category": {"type": "string"}, "exempt": {"type": "boolean"},
                    "organisation": {"type": "object"}, "responsible_organisation_id": {"type": "integer"},
                }}, **EXTRA_SCHEMAS},
        },
    }


# Other API modules add their paths and schemas here when they are imported.
EXTRA_PATHS: list = []
EXTRA_SCHEMAS: dict = {}
