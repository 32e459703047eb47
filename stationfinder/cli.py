"""The `stationfinder` command: Flask's CLI group plus the registry's own commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select, update

from stationfinder import db
from stationfinder.accounts import staff as accounts
from stationfinder.accounts.roles import DISTRICT_ADMIN, ROLES, STREET_STAFF, UNION_ADMIN
from stationfinder.geo.areas import Areas, AreasError
from stationfinder.geo.point import Point
from stationfinder.models import AreaSet, CouncilIssue, Meeting, StaffAccount, Station
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
    """Replace the districts' and subdistricts' outlines with a GeoJSON FILE (a district's,
    a city's or a province's; README, "Areas", gives the properties).

    Subdistricts are matched to the loaded ones by division code, so a name that becomes
    qualified (another district has it too) is renamed wherever it is stored. Refused,
    changing nothing, when a loaded subdistrict is missing from FILE while stations or
    staff use it, or when an active station would then lie outside its subdistrict.
    """
    try:
        areas = Areas.from_file(file)
    except AreasError as exc:
        raise click.ClickException(str(exc)) from None
    old = _areas()
    renamed = {}
    for s in old.listed():
        new = areas.subdistrict(s.code)
        if new is not None and new.key != s.key:
            renamed[s.key] = new.key
    with db.get_db().sessions() as session, session.begin():
        misplaced = []
        for station in registry.active_stations(session):
            street = renamed.get(station.street, station.street)
            found = areas.street_at(Point(station.lon, station.lat))
            if found != street:
                misplaced.append(f"{station.id} {station.name}: in {found or 'no subdistrict'}")
        for account in session.scalars(select(StaffAccount).where(StaffAccount.active)):
            street = renamed.get(account.street or "", account.street)
            if account.role == STREET_STAFF and areas.subdistrict(street) is None:
                misplaced.append(f"staff {account.username}: {account.street} is not in {file}")
            if account.role == DISTRICT_ADMIN and areas.district(account.district) is None:
                misplaced.append(f"staff {account.username}: {account.district} is not in {file}")
        if misplaced:
            for line in misplaced:
                click.echo(f"  {line}", err=True)
            raise click.ClickException(
                f"{len(misplaced)} station(s) or account(s) would lie outside the loaded "
                "areas; fix them first. Nothing was changed."
            )
        for before, after in renamed.items():
            for model in (Station, CouncilIssue, Meeting, StaffAccount):
                session.execute(update(model).where(model.street == before).values(street=after))
        stored = session.get(AreaSet, 1)
        document = areas.to_geojson()
        if stored is None:
            session.add(AreaSet(id=1, document=document, source=file.name))
        else:
            stored.document = document
            stored.source = file.name
    for before, after in renamed.items():
        click.echo(f"  renamed {before} -> {after}")
    click.echo(
        f"loaded {len(areas.districts())} district(s), {len(areas.listed())} subdistrict(s) "
        f"from {file}; restart the workers to use them"
    )


@click.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default=UNION_ADMIN, show_default=True)
@click.option("--street", help="For street_staff: their subdistrict (name or division code).")
@click.option("--district", help="For district_admin: their district (code or name).")
@click.option("--name", "display_name", default="", help="Name shown in the history.")
@click.password_option(envvar="STATIONFINDER_NEW_STAFF_PASSWORD")
@with_appcontext
def create_staff(
    username: str,
    role: str,
    street: str | None,
    district: str | None,
    display_name: str,
    password: str,
) -> None:
    """Make a staff account (the first one is usually the union_admin).

    USERNAME is stored normalised (NFKC, trimmed, lower case), as the login looks it up.
    """
    if role == STREET_STAFF and street is None:
        raise click.ClickException("street_staff needs --street (their subdistrict)")
    if role == DISTRICT_ADMIN and district is None:
        raise click.ClickException("district_admin needs --district (their district)")
    try:
        with db.get_db().sessions() as session, session.begin():
            account = accounts.create_account(
                session,
                username=username,
                password=password,
                role=role,
                street=street,
                district=district,
                display_name=display_name,
                areas=_areas(),
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
