"""Exceptions raised by media_pipeline.

Callers (the elearn job that transcodes uploads, the CLI) distinguish three cases:
the *input* is unusable (``MediaError``, ``SubtitleError``: tell the lecturer, do not
retry), the *processing* failed (``TranscodeError``: log, maybe retry), or the work was
stopped on purpose (``TranscodeCancelled``: not a failure at all).
"""

from __future__ import annotations


class MediaError(ValueError):
    """The file is not media we can publish; ``reason`` is a sentence fit for the uploader."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SubtitleError(ValueError):
    """The subtitle file cannot be read or contains no usable cues."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TranscodeError(RuntimeError):
    """ffmpeg failed or produced output we refuse to publish.

    ``stderr_tail`` holds the last lines ffmpeg printed, for the operator's log.
    """

    def __init__(self, message: str, stderr_tail: str = ""):
        super().__init__(message if not stderr_tail else f"{message}\n{stderr_tail}")
        self.message = message
        self.stderr_tail = stderr_tail


class TranscodeCancelled(Exception):
    """The transcode was stopped through its ``cancel_event``; nothing was written.

    Deliberately not a ``TranscodeError`` so that retry-on-error logic does not restart
    a job somebody asked to stop.
    """


class ToolMissing(RuntimeError):
    """ffmpeg or ffprobe is not installed (see ``make sysdeps``)."""
