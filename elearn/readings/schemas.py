"""Payloads of the reader's JSON calls."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from elearn.http.schemas import Payload


class PositionReport(Payload):
    """The paragraph the reader reached (``p-12``); the service checks that the reading has it."""

    paragraph: Annotated[str, Field(max_length=16)]
