"""The OpenAPI 3.1 document of ``/api/v1``, generated from the payload models the routes validate with
(:data:`elearn.http.api.OPERATIONS`)."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from elearn.http.api import OPERATIONS, SCOPE_DESCRIPTIONS, api_blueprint, operation

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}
REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel], schemas: dict[str, Any], mode: str) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def build_spec() -> dict[str, Any]:
    """The whole document."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.path, o.method)):
        item: dict[str, Any] = {"summary": op.summary, "operationId": op.operation_id}
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1} if conv == "int"
                   else {"type": "string"}} for name, conv in op.path_params]
        if op.query is not None:
            params.extend(_query_parameters(op.query))
        if op.etag:
            params.append({"name": "If-None-Match", "in": "header", "required": False,
                           "description": "the ETag of the copy the client holds: 304 if it is current",
                           "schema": {"type": "string"}})
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": _ref(op.body, schemas, "validation")}}}
        elif op.multipart is not None:
            item["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.multipart}}}
        responses: dict[str, Any] = {}
        if op.response is not None:
            responses["200"] = {"description": "success", "content": {"application/json": {
                "schema": _ref(op.response, schemas, "serialization")}}}
        else:
            responses["200"] = {"description": "success"}
        if op.etag:
            responses["200"]["headers"] = {"ETag": {"description": "weak ETag of this content",
                                                    "schema": {"type": "string"}}}
            responses["304"] = {"description": "not modified: the If-None-Match ETag is current",
                                "headers": {"ETag": {"schema": {"type": "string"}}}}
        for status, description in sorted(op.errors.items()):
            responses[str(status)] = _error(description)
        item["responses"] = responses
        if not op.auth:
            item["security"] = []
        else:
            # OpenAPI 3.1 lets a non-OAuth scheme list the roles an operation needs: here the token scope. A
            # cookie session has every scope.
            item["security"] = [{"bearer": [op.scope]}, {"cookie": []}]
            item["x-scope"] = op.scope
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "elearn API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A token from the account's API token page or `elearn issue-token`. "
                                          "Its scopes: " + "; ".join(f"`{k}`: {v}" for k, v in
                                                                    SCOPE_DESCRIPTIONS.items()) + "."},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": schemas,
        },
    }


bp = api_blueprint("openapi", __name__)


@operation(bp, "/openapi.json", operation_id="getOpenApi", summary="This document", auth=False)
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(build_spec())
