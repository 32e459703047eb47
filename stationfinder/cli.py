"""The `stationfinder` command: Flask's CLI group plus the registry's own commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from stationfinder import db
from stationfinder.accounts import staff as accounts
from stationfinder.accounts.roles import ROLES, STREET_STAFF, UNION_ADMIN
from stationfinder.core.vocabulary import STREET_NAMES
from stationfinder.geo.areas import Areas, AreasError
from stationfinder.geo.point import Point
from stationfinder.models import AreaSet
from stationfinder.registry import spreadsheets
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas


def _create_app() -> Flask:
    from stationfinder import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """stationfinder: rest stations for Qiantang's couriers.

    `stationfinder run` serves the app (SQLite in the instance folder by default).
    """


def init_app(app: Flask) -> None:
    for command in (
        db_group,
        load_stations,
        export_stations,
        load_areas,
        create_staff,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply all migrations (the app also does this at start)."""
    engine = db.get_db().engine
    db.upgrade(engine)
    click.echo(f"database at revision {db.current_revision(engine)}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the schema revision of the database and the newest one."""
    engine = db.get_db().engine
    click.echo(f"database: {db.current_revision(engine)}  newest: {db.head_revision(engine)}")


def _areas() -> Areas:
    return current_areas()


@click.command("load-stations")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--retire-missing", is_flag=True, help="Retire active stations not in FILE.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--reason", default="", help="Why (kept in the history).")
@click.option("--actor", default="cli", help="Who (kept in the history).")
@with_appcontext
def load_stations(file: Path, retire_missing: bool, dry_run: bool, reason: str, actor: str) -> None:
    """Load stations from a GeoJSON, CSV or XLSX FILE: all of it, or nothing."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        rows = spreadsheets.read_rows(data, file.name)
    except registry.RegistryError as exc:  # SpreadsheetError too
        raise click.ClickException(f"{file}: {exc}; nothing was loaded") from None
    with db.get_db().sessions() as session, session.begin():
        report = registry.apply_load(
            session,
            rows,
            _areas(),
            actor=actor,
            reason=reason or f"loaded from {file.name}",
            retire_missing=retire_missing,
        )
        if not report.ok:
            session.rollback()
            for problem in report.problems:
                click.echo(f"  {problem}", err=True)
            raise click.ClickException(
                f"{file}: {len(report.problems)} bad feature(s); nothing was loaded"
            )
        if dry_run:
            session.rollback()
    verb = "would load" if dry_run else "loaded"
    click.echo(
        f"{verb} {file}: {len(report.added)} added, {len(report.changed)} changed, "
        f"{report.unchanged} unchanged, {len(report.retired)} retired"
    )


@click.command("export-stations")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(spreadsheets.FORMATS),
    help="geojson, csv (UTF-8 with BOM, for Excel) or xlsx; default: from OUTPUT's name.",
)
@click.option("--english-headers", is_flag=True, help="CSV/XLSX column names in English.")
@with_appcontext
def export_stations(output: Path | None, fmt: str | None, english_headers: bool) -> None:
    """Write every station (retired ones too) to OUTPUT or standard output."""
    if fmt is None:
        fmt = spreadsheets.format_of(output.name) if output is not None else "geojson"
    with db.get_db().sessions() as session:
        stations = registry.all_stations(session)
        if fmt == "geojson":
            data = registry.export_geojson(stations).encode("utf-8")
        elif fmt == "csv":
            data = spreadsheets.export_csv(stations, english=english_headers)
        else:
            data = spreadsheets.export_xlsx(stations, english=english_headers)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


@click.command("load-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_areas(file: Path) -> None:
    """Replace the district and subdistrict outlines with an official GeoJSON FILE.

    Refused when an active station would then lie outside its subdistrict.
    """
    try:
        areas = Areas.from_file(file)
    except AreasError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    with db.get_db().sessions() as session, session.begin():
        misplaced = []
        for station in registry.active_stations(session):
            found = areas.street_at(Point(station.lon, station.lat))
            if found != station.street:
                misplaced.append(f"{station.id} {station.name}: in {found or 'no subdistrict'}")
        if misplaced:
            for line in misplaced:
                click.echo(f"  {line}", err=True)
            raise click.ClickException(
                f"{len(misplaced)} station(s) would lie outside their subdistrict; "
                "fix them first. Nothing was changed."
            )
        stored = session.get(AreaSet, 1)
        document = json.loads(file.read_text(encoding="utf-8"))
        if stored is None:
            session.add(AreaSet(id=1, document=document, source=file.name))
        else:
            stored.document = document
            stored.source = file.name
    click.echo(f"loaded outlines from {file}; restart the workers to use them")


@click.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default=UNION_ADMIN, show_default=True)
@click.option("--street", type=click.Choice(STREET_NAMES), help="For street_staff.")
@click.option("--name", "display_name", default="", help="Name shown in the history.")
@click.password_option(envvar="STATIONFINDER_NEW_STAFF_PASSWORD")
@with_appcontext
def create_staff(
    username: str, role: str, street: str | None, display_name: str, password: str
) -> None:
    """Make a staff account (the first one is usually the union_admin).

    USERNAME is stored normalised (NFKC, trimmed, lower case), as the login looks it up.
    """
    if role == STREET_STAFF and street is None:
        raise click.ClickException("street_staff needs --street (their subdistrict)")
    try:
        with db.get_db().sessions() as session, session.begin():
            account = accounts.create_account(
                session,
                username=username,
                password=password,
                role=role,
                street=street,
                display_name=display_name,
            )
            name = account.username
    except accounts.AccountError as exc:
        if exc.code == "username_taken":
            raise click.ClickException(f"there is already an account {username!r}") from None
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {name}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write every table to FILE (gzip'd JSON lines, any database to any database)."""
    from stationfinder.ops import backup

    counts = backup.dump(db.get_db().engine, file)
    click.echo(f"{file}: {sum(counts.values())} rows from {len(counts)} tables")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Delete what the database holds first.")
@with_appcontext
def restore_command(file: Path, replace: bool) -> None:
    """Load a backup made by `stationfinder backup` into this database, all or nothing.

    The database must be at the backup's schema revision and, without --replace, empty.
    """
    from stationfinder.ops import backup

    try:
        counts = backup.restore(db.get_db().engine, file, replace=replace)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {sum(counts.values())} rows into {len(counts)} tables")
