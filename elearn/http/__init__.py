"""HTTP at the edge, shared by every domain: error mapping, payload schemas, the API and OpenAPI, form helpers."""
