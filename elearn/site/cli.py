"""Commands of the site as a whole: ``init-db``, ``demo``, ``serve``, ``worker``, ``backup``, ``restore``,
``transcode SRC OUTDIR``."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from huey.consumer import Consumer

from elearn.errors import ServiceError
from elearn.media import tasks as media_tasks
from elearn.queue import get_huey
from elearn.search import tasks as search_tasks
from elearn.site import backup, demo, demo_content
from media_pipeline.cli import run_transcode_cli
from media_pipeline.errors import MediaError, ToolMissing, TranscodeError


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema with the migrations."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("database is at the latest schema")


@click.command("demo")
@click.option("--once", is_flag=True, help="Do nothing when demo data is already there.")
@click.option("--no-courses", is_flag=True, help="Only organisations and users (no video transcoding).")
@with_appcontext
def demo_command(once: bool, no_courses: bool):
    """Load demo organisations, users and courses (idempotent) and print the logins."""
    created, logins = demo.load(skip_if_present=once)
    if not no_courses:
        created = demo_content.load(echo=click.echo) or created
    click.echo("demo data loaded" if created else "demo data already present")
    click.echo("logins (username / password / role):")
    for username, password, label in logins:
        click.echo(f"  {username:<12} {password:<14} {label}")


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
@with_appcontext
def worker_command(workers: int):
    """Run the job consumer (Huey) until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    huey = get_huey()
    if huey.immediate:
        raise click.ClickException("the queue is in immediate mode; nothing to consume")
    # Whatever a killed worker left half-done is picked up again first.
    media_tasks.sweep_media.enqueue()
    search_tasks.rebuild_if_outdated.enqueue()  # an upgrade may have changed the index format
    Consumer(huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True).run()


def gunicorn_command(bindir: str, host: str, port: int, workers: int) -> list[str]:
    """How ``elearn serve`` starts gunicorn (benchmarks/bench_startup.py starts it the same way)."""
    return [os.path.join(bindir, "gunicorn"), "-c", "python:elearn.site.gunicorn_conf", "--bind", f"{host}:{port}",
            "--workers", str(workers), "--threads", "4", "--timeout", "120", "--access-logfile", "-",
            "elearn:create_app()"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=0, help="gunicorn workers (default: 2 × cores + 1).")
@click.option("--with-worker", is_flag=True, help="Also start the job consumer.")
def serve_command(host: str, port: int, workers: int, with_worker: bool):
    """Serve the site with gunicorn (and the job worker), stopping both on Ctrl-C."""
    workers = workers or (2 * (os.cpu_count() or 1) + 1)
    bindir = os.path.dirname(sys.executable)
    # The app is built and warmed up once, before the workers fork (elearn/site/gunicorn_conf.py).
    procs = [subprocess.Popen(gunicorn_command(bindir, host, port, workers))]
    if with_worker:
        procs.append(subprocess.Popen([os.path.join(bindir, "elearn"), "worker"]))
    click.echo(f"elearn at http://{host}:{port}/  (Ctrl-C stops)")

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for p in procs:
            p.wait(timeout=30)
    sys.exit(max((p.returncode or 0) for p in procs) if any(p.returncode for p in procs) else 0)


@click.command("backup")
@click.option("--out", "out_dir", default=None, help="Folder for the backup (default instance/backups).")
@with_appcontext
def backup_command(out_dir):
    """Make a consistent copy of the database and the media while the site runs."""
    try:
        path = backup.create(out_dir)
    except (ServiceError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {path}")


@click.command("restore")
@click.argument("path")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Bring back a backup made by ``elearn backup`` (replaces the current database and media)."""
    if not yes:
        click.confirm("This replaces the current database and media. Continue?", abort=True)
    try:
        backup.restore(path)
    except (ServiceError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("restored")


@click.command("transcode")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
def transcode_command(src, outdir):
    """Transcode SRC into an adaptive HLS ladder in OUTDIR, with a progress bar."""
    try:
        run_transcode_cli(src, outdir, echo=click.echo)
    except (MediaError, TranscodeError, ToolMissing) as exc:
        raise click.ClickException(f"{src}: {exc}") from exc


def register(app: Flask) -> None:
    for command in (init_db_command, demo_command, worker_command, serve_command, backup_command,
                    restore_command, transcode_command):
        app.cli.add_command(command)
