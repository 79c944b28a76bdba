"""A small client of an LRS's statements resource (xAPI 1.0.3, HTTP basic authentication).

Each answer is sorted into what the outbox does next: stored (2xx; a statement the LRS already holds with the
same content is a 204 too), refused for its content (a 4xx other than the ones below: sending it again would
get the same answer), or not now (the LRS is down, slow, overloaded, or refuses our credentials: the
statements stay in the outbox and are sent again later).
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from elearn.xapi.statements import XAPI_VERSION

STORED = "stored"
REFUSED = "refused"
NOT_NOW = "not_now"

# 4xx answers that are about the LRS or our account rather than the statements (credentials, rate limits,
# timeouts, a batch too large for it).
_NOT_THE_STATEMENTS = {401, 403, 404, 405, 407, 408, 413, 425, 429}


@dataclass(frozen=True)
class Answer:
    outcome: str  # STORED, REFUSED or NOT_NOW
    error: str | None = None


@dataclass(frozen=True)
class LrsClient:
    """``endpoint`` is the LRS's xAPI endpoint (``https://lrs.example.org/xAPI``); ``auth`` is ``user:password``."""

    endpoint: str
    auth: str = ""
    timeout_s: float = 10.0

    @property
    def statements_url(self) -> str:
        base = self.endpoint.rstrip("/")
        return base if base.endswith("/statements") else f"{base}/statements"

    def post(self, statements: list[dict[str, Any]]) -> Answer:
        """POST ``statements`` (all or nothing, as LRSs store a batch)."""
        body = json.dumps(statements, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Experience-API-Version": XAPI_VERSION}
        if self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(self.auth.encode()).decode()
        request = urllib.request.Request(self.statements_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
                return Answer(STORED)
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            message = f"HTTP {exc.code}: {detail}"[:2000]
            if 400 <= exc.code < 500 and exc.code not in _NOT_THE_STATEMENTS:
                return Answer(REFUSED, message)
            return Answer(NOT_NOW, message)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Answer(NOT_NOW, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:2000])


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(4000).decode("utf-8", "replace")
    except OSError:
        return exc.reason or ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()
    return json.dumps(data.get("detail", data) if isinstance(data, dict) else data, ensure_ascii=False)
