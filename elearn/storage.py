"""Storage of uploaded and produced files behind a small interface: filesystem by default.

Keys are relative POSIX paths such as ``uploads/ab12/video.mp4`` or ``media/42/master.m3u8``; a key can
never leave the storage root.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from flask import Flask, current_app


class StorageKeyError(ValueError):
    """The key is not a safe relative path."""


class FileStorage:
    """Files under one root directory. Writes go to a temporary name and are renamed into place."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The absolute path of ``key``; refuses absolute keys, ``..`` and anything resolving outside."""
        pure = PurePosixPath(key)
        if not key or pure.is_absolute() or any(part in ("..", "") for part in pure.parts) or "\\" in key:
            raise StorageKeyError(f"unsafe storage key: {key!r}")
        full = (self.root / pure).resolve()
        if full != self.root and self.root not in full.parents:
            raise StorageKeyError(f"unsafe storage key: {key!r}")
        return full

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def save(self, key: str, stream: BinaryIO, chunk_size: int = 1 << 20) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        size = 0
        with open(tmp, "wb") as out:
            while chunk := stream.read(chunk_size):
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        return size

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        p = self.path(key)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists():
            p.unlink()

    def listdir(self, key: str) -> Iterator[str]:
        p = self.path(key)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                yield f"{key.rstrip('/')}/{child.name}"


def init_app(app: Flask) -> None:
    app.extensions["elearn_storage"] = FileStorage(app.config["ELEARN_DATA_DIR"])


def get_storage() -> FileStorage:
    return current_app.extensions["elearn_storage"]
