"""Ralph's LRS application as the xAPI tests serve it (``uvicorn ralph_lrs:app`` in Ralph's own venv).

Ralph 5.1's file-system LRS backend writes every batch to one file with the "create" operation, which refuses
an existing file: its second batch ever fails with a 500. Appending is what a store of statements does, so the
tests' LRS appends; everything else (validation, ids, conflicts, authentication, queries) is Ralph's own.
"""
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402 - served once the backend appends

__all__ = ["app"]
