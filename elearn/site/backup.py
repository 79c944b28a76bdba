"""Consistent backups while the site runs: SQLite online backup or pg_dump, plus the stored files."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from elearn import clock
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db


def _sqlite_path() -> str | None:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return url.database if url.get_backend_name() == "sqlite" else None


def _pg_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def create(out_dir: str | None = None) -> Path:
    """Write ``elearn-<timestamp>.tar`` holding the database dump and the data folder; return its path."""
    out = Path(out_dir or current_app.config["ELEARN_BACKUP_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    stamp = clock.to_site(clock.now_utc()).strftime("%Y%m%d-%H%M%S-%f")
    target = out / f"elearn-{stamp}.tar"
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        tmpdir = Path(tmp)
        sqlite_path = _sqlite_path()
        if sqlite_path:
            # The online backup API copies a consistent snapshot even while writers are active.
            src = sqlite3.connect(sqlite_path)
            dst = sqlite3.connect(tmpdir / "database.sqlite3")
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
            kind = "sqlite"
        else:
            dump = tmpdir / "database.pgdump"
            result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _pg_url()],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise ServiceError(f"pg_dump failed: {result.stderr.strip()}", "backup_failed")
            kind = "postgresql"
        (tmpdir / "manifest.json").write_text(json.dumps({"database": kind, "created": stamp}))
        partial = target.with_suffix(".tar.part")
        with tarfile.open(partial, "w") as tar:
            for name in os.listdir(tmpdir):
                tar.add(tmpdir / name, arcname=name)
            data_dir = Path(current_app.config["ELEARN_DATA_DIR"])
            if data_dir.exists():
                tar.add(data_dir, arcname="data")
        os.replace(partial, target)
    return target


def restore(path: str | os.PathLike) -> None:
    """Replace the database and the data folder with those of a backup made by :func:`create`."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no backup at {path}", "not_found")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path) as tar:
        tar.extractall(tmp, filter="data")
        tmpdir = Path(tmp)
        manifest = json.loads((tmpdir / "manifest.json").read_text())
        db.session.remove()
        db.engine.dispose()
        if manifest["database"] == "sqlite":
            sqlite_path = _sqlite_path()
            if not sqlite_path:
                raise ServiceError("a SQLite backup cannot be restored into PostgreSQL", "backup_mismatch")
            src = sqlite3.connect(tmpdir / "database.sqlite3")
            dst = sqlite3.connect(sqlite_path)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            if _sqlite_path():
                raise ServiceError("a PostgreSQL backup cannot be restored into SQLite", "backup_mismatch")
            result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                                     f"--dbname={_pg_url()}", str(tmpdir / "database.pgdump")],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise ServiceError(f"pg_restore failed: {result.stderr.strip()}", "restore_failed")
        data_dir = Path(current_app.config["ELEARN_DATA_DIR"])
        if (tmpdir / "data").exists():
            old = data_dir.with_name(data_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if data_dir.exists():
                os.replace(data_dir, old)
            shutil.move(str(tmpdir / "data"), str(data_dir))
            shutil.rmtree(old, ignore_errors=True)
