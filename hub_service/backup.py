"""Backups of a SQLite database, online: ``maas backup`` copies it with SQLite's backup
API, which gives one consistent state while the service and gateways keep writing;
``maas restore`` checks a backup and copies it over the database, keeping the old one
aside. A PostgreSQL database is backed up with pg_dump or CloudNativePG's backups."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import db


class BackupError(Exception):
    """Something to tell the admin, with the fix."""


POSTGRES = (
    "{url} is a PostgreSQL database: back it up with pg_dump (pg_dump --format=custom "
    "--file=maas.dump <url>; pg_restore --clean --dbname=<url> maas.dump to restore) or "
    "with the cluster's CloudNativePG backups (docs/backups-in-cluster.md). maas backup "
    "and maas restore copy SQLite databases."
)


def sqlite_path(db_url: str) -> Path:
    """The file of a SQLite URL; a sentence for any other database."""
    try:
        url = db.engine_url(db_url)
    except ArgumentError:
        raise BackupError(f"{db_url!r} is not a database URL.") from None
    if url.get_backend_name() != "sqlite":
        given = make_url(db_url).render_as_string(hide_password=True)
        raise BackupError(POSTGRES.format(url=given))
    if not url.database or url.database == ":memory:":
        raise BackupError("The database URL names no SQLite file.")
    return Path(url.database)


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def check(path: Path) -> str:
    """``path``'s schema revision, once SQLite finds it intact and it is a MaaS
    database this version can migrate; else a sentence saying what is wrong."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        conn = _connect(path, readonly=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        if "no such table" in str(e):
            raise BackupError(
                f"{path} is not a MaaS database (it has no schema revision)."
            ) from None
        raise BackupError(f"{path} is not a readable SQLite database ({e}).") from None
    if result != [("ok",)]:
        problems = "; ".join(r[0] for r in result[:3])
        raise BackupError(f"{path} is damaged: SQLite's integrity check says {problems}.")
    if revision is None:
        raise BackupError(f"{path} is not a MaaS database (it has no schema revision).")
    known = db.known_revisions()
    if revision[0] not in known:
        raise BackupError(
            f"{path} is at schema revision {revision[0]}, which this version "
            f"(revision {db.head_revision()}) does not know: restore it with the version "
            "that made it, or a later one."
        )
    return revision[0]


def backup(db_url: str, dest: Path) -> str:
    """Copy the database to ``dest`` (which must not exist) as it is at one moment;
    return its schema revision."""
    source = sqlite_path(db_url)
    if not source.is_file():
        raise BackupError(f"There is no database at {source} to back up.")
    if dest.exists():
        raise BackupError(f"{dest} already exists: name a new file for the backup.")
    partial = dest.with_name(dest.name + ".partial")
    try:
        src, out = _connect(source), _connect(partial)
        try:
            src.backup(out)  # one read transaction: a consistent copy
        finally:
            src.close()
            out.close()
        revision = check(partial)
        os.replace(partial, dest)
    except sqlite3.Error as e:
        raise BackupError(f"Could not back up {source} to {dest}: {e}.") from None
    except OSError as e:
        raise BackupError(f"Could not write {dest}: {e.strerror or e}.") from None
    finally:
        partial.unlink(missing_ok=True)
    return revision


def restore(db_url: str, backup_file: Path, now: dt.datetime | None = None) -> tuple[str, Path]:
    """Replace the database with ``backup_file`` (checked first), the service and
    gateways stopped; the database it replaces is kept beside it. Return the restored
    revision and where the old database went (None if there was none)."""
    target = sqlite_path(db_url)
    revision = check(backup_file)
    aside = None
    try:
        if target.exists():
            stamp = (now or db.utcnow()).strftime("%Y%m%dT%H%M%S")
            aside = target.with_name(f"{target.name}.before-restore-{stamp}")
            current = _connect(target)
            try:
                # a writer still at work holds this back: the service must be stopped
                current.execute("BEGIN IMMEDIATE")
                current.rollback()
                keep = _connect(aside)
                current.backup(keep)
                keep.close()
            except sqlite3.OperationalError as e:
                raise BackupError(
                    f"{target} is in use ({e}): stop the MaaS service and gateways first."
                ) from None
            finally:
                current.close()
        src, out = _connect(backup_file, readonly=True), _connect(target)
        try:
            src.backup(out)
        finally:
            src.close()
            out.close()
    except sqlite3.Error as e:
        raise BackupError(f"Could not restore {backup_file} to {target}: {e}.") from None
    except OSError as e:
        raise BackupError(f"Could not write beside {target}: {e.strerror or e}.") from None
    check(target)
    return revision, aside
