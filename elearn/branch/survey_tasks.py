"""Jobs of the needs surveys: telling the audience of a published survey, in batches (elearn.notify)."""
from __future__ import annotations

from elearn.queue import task


@task(retries=3, retry_delay=30)
def tell_published(survey_id: int) -> int:
    """Tell the next batch of the survey's audience that it is open, then enqueue itself while members are
    left; a retried or resumed job tells only those not told yet (the notification's dedupe key)."""
    # the survey services import this module to enqueue it: both are imported when the job runs
    from elearn.branch import surveys
    from elearn.notify import services as notices

    message = surveys.published_message(survey_id)
    if message is None:
        return 0
    told = notices.fan_out_batch(message)
    if told >= notices.NOTIFY.fanout_batch:
        tell_published.enqueue(survey_id)
    return told
