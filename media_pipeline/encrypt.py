"""HLS segment encryption: every segment under its own AES-128 key, the standard ``EXT-X-KEY`` way.

Segment ``i`` of every rendition is encrypted (AES-128-CBC, PKCS#7 padding, the whole segment) with the key
``segment_key(secret, i)``, derived from one per-asset secret; the renditions' segments are aligned, so one key
serves the same stretch of media in all of them. The media playlist names, before each segment, the key's URI
(``../keys/<i>``: one per asset, beside the rendition folders) and its IV. Segment files are then opaque,
cacheable bytes that any web server or CDN may send; whoever hands out the keys decides who can play, and
learns which stretch of media each player has reached.

hls.js (Media Source Extensions) and Safari's native HLS both decrypt this: it is RFC 8216 §4.3.2.4
``METHOD=AES-128``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .playlist import MEDIA_PLAYLIST_NAME, write_bytes_atomic, write_text_atomic

KEY_BYTES = 16
SECRET_BYTES = 32
KEYS_DIR = "keys"
#: Written beside the master playlist: facts about the clear segments that cannot be read once they are
#: encrypted (the MPEG-TS start time that subtitles are placed by).
TIMELINE_NAME = "timeline.json"


def new_secret() -> bytes:
    """A fresh per-asset secret."""
    return os.urandom(SECRET_BYTES)


def segment_key(secret: bytes, index: int) -> bytes:
    """The AES-128 key of segment ``index`` (the same in every rendition)."""
    if index < 0:
        raise ValueError("segment index must not be negative")
    return hmac.new(secret, b"hls-segment-key:%d" % index, hashlib.sha256).digest()[:KEY_BYTES]


def segment_iv(index: int) -> bytes:
    """The IV written for segment ``index``: its number, big-endian, as RFC 8216 defaults it."""
    return index.to_bytes(16, "big")


def encrypt_bytes(data: bytes, key: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt_bytes(data: bytes, key: bytes, iv: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def key_uri(index: int) -> str:
    """The URI a media playlist gives for segment ``index``'s key (relative to the rendition folder)."""
    return f"../{KEYS_DIR}/{index}"


def is_encrypted(playlist_text: str) -> bool:
    return "#EXT-X-KEY:METHOD=AES-128" in playlist_text


def encrypt_rendition(folder: Path, secret: bytes, on_segment: Callable[[], None] | None = None) -> int:
    """Encrypt every segment of the media playlist in ``folder`` in place and rewrite the playlist with a key
    line before each segment. Returns the number of segments. A playlist already encrypted is left alone.

    Each segment file is replaced atomically; the playlist last, so a reader sees either the clear playlist
    (while segments change under it: callers work on a copy that nobody serves) or the finished one.
    """
    playlist = folder / MEDIA_PLAYLIST_NAME
    text = playlist.read_text(encoding="utf-8")
    if is_encrypted(text):
        return 0
    out: list[str] = []
    index = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#EXTINF:"):
            out.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri(index)}",IV=0x{segment_iv(index).hex()}')
            out.append(stripped)
        elif stripped and not stripped.startswith("#"):
            segment = folder / stripped
            write_bytes_atomic(segment, encrypt_bytes(segment.read_bytes(), segment_key(secret, index),
                                                       segment_iv(index)))
            out.append(stripped)
            index += 1
            if on_segment is not None:
                on_segment()
        else:
            out.append(stripped)
    write_text_atomic(playlist, "\n".join(out) + "\n")
    return index


def count_segments(folders: Sequence[Path]) -> int:
    total = 0
    for folder in folders:
        for line in (folder / MEDIA_PLAYLIST_NAME).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                total += 1
    return total


def encrypt_asset_dir(out_dir: Path, rendition_folders: Sequence[str], secret: bytes,
                      on_progress: Callable[[float], None] | None = None) -> int:
    """Encrypt every rendition of a transcoded asset directory (see :func:`encrypt_rendition`); returns the
    number of segments per rendition. ``on_progress`` gets the fraction of segments done."""
    folders = [Path(out_dir) / name for name in rendition_folders]
    total = max(1, count_segments(folders))
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done / total)

    counts = [encrypt_rendition(folder, secret, step) for folder in folders]
    return max(counts, default=0)


def write_timeline(out_dir: Path, start_time: float) -> None:
    write_text_atomic(Path(out_dir) / TIMELINE_NAME, json.dumps({"start_time": start_time}) + "\n")


def read_timeline(out_dir: Path) -> dict | None:
    try:
        data = json.loads((Path(out_dir) / TIMELINE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
