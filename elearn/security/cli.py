"""Personal-data key commands: ``elearn security rotate-key`` (a new current key, every value re-encrypted with a
progress bar; resumable), ``elearn security keys`` (which key the stored values use)."""
from __future__ import annotations

import sys
from types import SimpleNamespace

import click
from flask import current_app
from flask.cli import AppGroup

from elearn.audit import services as audit
from elearn.extensions import db
from elearn.security import rotation
from elearn.security.fields import DecryptionError, current_keyring
from elearn.security.keyring import CIPHERS, KeyringError
from media_pipeline.cli import ProgressBar

security_group = AppGroup("security", help="Personal data at rest: encryption keys.")

# The audit log names what an entry is about by table; a key rotation is about the keyring, which is no row.
_KEYRING = SimpleNamespace(__tablename__="pii_keyring", id=None)


@security_group.command("rotate-key")
@click.option("--resume", is_flag=True,
              help="Add no key: finish re-encrypting under the current one (after a stopped rotation, or a new key "
                   "put first in ELEARN_PII_KEYS).")
@click.option("--retire", is_flag=True, help="Afterwards remove the old keys (refused while any value uses one).")
@click.option("--cipher", type=click.Choice(CIPHERS), default=None,
              help="Cipher of the new key (default: ELEARN_PII_CIPHER).")
def rotate_key_command(resume: bool, retire: bool, cipher: str | None):
    """Add a new current key and re-encrypt every personal value and keyed hash with it. Old keys stay in the
    keyring (every value remains readable whenever this stops) until --retire."""
    try:
        if resume:
            key_id = current_keyring().current
        else:
            key_id = rotation.add_key(cipher or current_app.config["ELEARN_PII_CIPHER"])
            click.echo(f"new current key {key_id}")
        bar = ProgressBar(sys.stdout, label=f"re-encrypting under {key_id}")
        progress = rotation.reencrypt(on_progress=bar)
        bar(1.0)
    except (KeyringError, DecryptionError) as exc:
        raise click.ClickException(str(exc)) from exc
    for table, read in progress.read.items():
        click.echo(f"{table}: {read} rows read, {progress.rewritten.get(table, 0)} re-encrypted")
    audit.record(None, "security.key_rotated", _KEYRING,
                 after={"key": key_id, "rows": progress.total_rewritten, "changed_meanwhile": progress.raced})
    db.session.commit()
    if progress.raced:
        click.echo(f"{progress.raced} rows changed while this ran: run `elearn security rotate-key --resume`")
    if retire:
        try:
            old = rotation.retire_old_keys()
        except KeyringError as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(None, "security.key_retired", _KEYRING, after={"keys": old})
        db.session.commit()
        click.echo(f"retired keys: {', '.join(old) or 'none'}")
    click.echo(f"every personal value is encrypted under {key_id}")


@security_group.command("keys")
def keys_command():
    """The keys of the ring and how many stored values name each."""
    ring = current_keyring()
    used = rotation.usage()
    for key in ring.keys.values():
        mark = "current" if key.id == ring.current else "old"
        click.echo(f"{key.id}\t{key.cipher}\t{mark}\t{used.get(key.id, 0)} values")
    for other, n in sorted(used.items()):
        if other not in ring.keys:
            click.echo(f"{other}\t?\tmissing\t{n} values")


def register(app) -> None:
    app.cli.add_command(security_group)
