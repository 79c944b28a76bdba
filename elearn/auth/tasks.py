"""Jobs of signing in: the e-mails of a password-reset request (elearn.auth.reset)."""
from __future__ import annotations

from elearn.auth import reset
from elearn.queue import task


@task()
def send_reset_links(address_hashes: list[str], link_base: str, locale: str) -> int:
    """Look up the accounts of a reset request and e-mail each a new link (off the request, so that a known
    address is answered as fast as an unknown one)."""
    return reset.send_links(address_hashes, link_base, locale)
