"""Jobs of the media pipeline: transcode an upload, publish subtitles, sweep up after dead workers and
remove the files of videos no lesson plays any more."""
from __future__ import annotations

import logging

from elearn.media import services as media
from elearn.media import uploads
from elearn.policy import (
    TRANSCODE_ATTEMPTS,
    TRANSCODE_RETRY_BACKOFF,
    TRANSCODE_RETRY_DELAY_S,
)
from elearn.queue import periodic, task

log = logging.getLogger(__name__)


@task(retries=TRANSCODE_ATTEMPTS - 1, retry_delay=TRANSCODE_RETRY_DELAY_S,
     retry_backoff=TRANSCODE_RETRY_BACKOFF)
def transcode_asset(asset_id: int) -> str:
    """Probe, validate, transcode an uploaded asset; switch its lesson to it when ready.

    Processing errors raise ``TranscodeRetry`` and Huey runs the job again later; the asset counts its own
    attempts, so a job queued again by the sweep does not get extra tries.
    """
    return media.transcode_asset(asset_id)


@task(retries=1, retry_delay=TRANSCODE_RETRY_DELAY_S)
def attach_subtitles(asset_id: int) -> None:
    """Publish the lesson's subtitles on an already transcoded asset."""
    media.attach_subtitles(asset_id)


@periodic(minute="*/10")
def sweep_media() -> list[int]:
    """Queue again transcodes whose worker died, expire abandoned uploads, and remove the files of replaced
    and failed videos after their grace period. Run periodically and at start. Returns the ids queued again."""
    uploads.expire_old_uploads()
    requeued = media.requeue_stale_assets()
    removed = media.remove_unused_asset_files()
    if removed:
        log.info("sweep_media removed the files of %d unused media assets: %s", len(removed),
                 ", ".join(map(str, removed)))
    return requeued
