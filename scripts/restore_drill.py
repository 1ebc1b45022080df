"""Restore drill: dump a PostgreSQL database with `pg_dump -Fc`, restore it into a new database with
`pg_restore`, and check that nothing was lost.

    .venv/bin/python scripts/restore_drill.py SOURCE_URL [--target NAME | --target-url URL] [--keep]
                                              [--residents 4] [--dump-file PATH] [--pg-bin DIR]

SOURCE_URL is a DATABASE_URL (`postgresql+psycopg://user@host:5432/valinta` or `postgresql://…`). The drill

1. checks that pg_dump and pg_restore have the server's major version (`--pg-bin`, or PG_BIN, names their folder);
2. opens a REPEATABLE READ transaction on the source and exports its snapshot, then dumps exactly that
   snapshot (`pg_dump -Fc --snapshot`), so that a source that keeps changing still compares exactly;
3. creates a new database (`<source>_drill_<time>` on the same server, or --target / --target-url) with the
   source's encoding and locale, restores into it (`pg_restore --no-owner --no-privileges --exit-on-error
   --single-transaction`) and runs the migrations on it, which must change nothing (`flask db-upgrade`);
4. compares the snapshot with the restored copy: the tables and every table's row count; every column of
   every choice and every waiting-list entry; each unit's listed_count, waiting_count and capacity; the
   audit events; the Alembic revision; and that no sequence is behind its column;
5. serves the same pages from both with Flask's test client, one app per database: home, pilots, search
   pages, unit pages, the API; and, for a few residents with choices and waiting-list entries, signed in
   through a sign-in session made for the drill, "My choices", their receipts, waiting-list entries, the
   decision page of the unit they queue for and their messages. The HTML is compared after the CSRF and
   request tokens and the CSP nonces are removed.

Nothing is written to the source: the pages' writes (the drill's sign-in sessions, the visit notes, choices
that fall due) happen inside the held transaction and are rolled back. The restored copy is dropped at the
end, unless --keep is given or something differed (then it is kept for inspection).

Prints what it compared. Exit status: 0 when nothing differs, 1 when something does, 2 when the drill
could not run (tools, connection, restore).
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

SHOWN = 10  # differences listed per kind; the rest are counted
DRILL_NAME = "Restore drill"  # the display name of the drill's sign-in sessions


class DrillError(Exception):
    """The drill could not run: tools, connection, dump or restore."""


@dataclass
class Report:
    source: str
    target: str
    out: Callable[[str], None] = print
    lines: list[str] = field(default_factory=list)        # what was compared, as printed
    differences: list[str] = field(default_factory=list)  # every difference found (also printed)
    kept: bool = False

    def note(self, line: str) -> None:
        self.lines.append(line)
        self.out(line)

    def differ(self, line: str) -> None:
        self.differences.append(line)
        self.note("  DIFFERENT: " + line)


# --- connections -------------------------------------------------------------------------------------------

def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def with_database(url: str, name: str) -> str:
    return make_url(sqlalchemy_url(url)).set(database=name).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    return make_url(sqlalchemy_url(url)).database or ""


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """(connection string without the password, environment with PGPASSWORD) for psql-style tools, so that
    the password never appears in a process list."""
    params = conninfo_to_dict(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
    hosts = str(params.get("host", "")).split(",")
    if all(re.fullmatch(r"[^:/]+:\d+", h) for h in hosts):  # SQLAlchemy's multi-host form: host=pg1:5432,pg2:5432
        params["host"] = ",".join(h.rsplit(":", 1)[0] for h in hosts)
        params["port"] = ",".join(h.rsplit(":", 1)[1] for h in hosts)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def _admin(url: str, statement: sql.Composable) -> None:
    conninfo, env = libpq(url)
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


class HeldConnection(Connection):
    """The drill's connection, whose one transaction it holds from start to end. `url` as an engine has it."""

    @property
    def url(self):  # noqa: ANN201
        return self.engine.url


@dataclass
class Held:
    conn: HeldConnection
    snapshot: str | None
    url: str


@contextmanager
def held_transaction(url: str, export_snapshot: bool = False) -> Iterator[Held]:
    """A REPEATABLE READ transaction on `url` (its snapshot exported, for pg_dump), rolled back at the end."""
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        conn = HeldConnection(engine)
    except Exception as exc:
        engine.dispose()
        cause = getattr(exc, "orig", None) or exc
        raise DrillError(f"cannot connect to {make_url(sqlalchemy_url(url)).render_as_string()}: "
                         f"{' '.join(str(cause).split())}") from exc
    try:
        conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        # pg_dump of a large database takes long, and this transaction idles meanwhile.
        conn.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar() if export_snapshot else None
        if snapshot is None:
            conn.exec_driver_sql("SELECT 1")  # take the transaction's snapshot now
        yield Held(conn, snapshot, url)
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
            engine.dispose()


def server_major(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000


# --- tools, dump, restore ----------------------------------------------------------------------------------

def find_tool(name: str, pg_bin: str | None) -> str:
    folder = pg_bin or os.environ.get("PG_BIN")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise DrillError(f"{name} not found{' in ' + folder if folder else ' on PATH'}: install the PostgreSQL "
                         f"client tools of the server's version, or name their folder with --pg-bin")
    return path


def tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if not found:
        raise DrillError(f"{path} --version did not say its PostgreSQL version: {out.strip()!r}")
    return int(found.group(1))


def check_tools(server: int, pg_bin: str | None = None) -> dict[str, str]:
    """pg_dump and pg_restore of the server's major version, or a DrillError that says what to install."""
    tools = {}
    for name in ("pg_dump", "pg_restore"):
        path = find_tool(name, pg_bin)
        major = tool_major(path)
        if major != server:
            raise DrillError(
                f"{name} at {path} is PostgreSQL {major}, but the server is PostgreSQL {server}: use the client "
                f"tools of version {server} (Debian: apt-get install postgresql-client-{server}; then "
                f"--pg-bin /usr/lib/postgresql/{server}/bin or PG_BIN)")
        tools[name] = path
    return tools


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DrillError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def dump(source_url: str, snapshot: str | None, path: Path, tools: dict[str, str]) -> None:
    conninfo, env = libpq(source_url)
    args = [tools["pg_dump"], "--format=custom", f"--file={path}", f"--dbname={conninfo}"]
    if snapshot:
        args.insert(1, f"--snapshot={snapshot}")
    _run(args, env, "pg_dump")


def check_archive(path: Path, server: int, tools: dict[str, str]) -> str:
    """The archive's header says which pg_dump wrote it and from which server: both must be `server`'s major
    version (a wrapper such as Debian's pg_wrapper may pick another pg_dump than the one asked)."""
    listing = subprocess.run([tools["pg_restore"], "--list", str(path)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise DrillError(f"pg_restore --list cannot read the dump: {listing.stderr.strip()[-2000:]}")
    by = re.search(r"Dumped by pg_dump version:\s*(\d+)", listing.stdout)
    source = re.search(r"Dumped from database version:\s*(\d+)", listing.stdout)
    if not by or not source or int(by.group(1)) != server or int(source.group(1)) != server:
        raise DrillError(f"the dump was written by pg_dump {by.group(1) if by else '?'} from a server of version "
                         f"{source.group(1) if source else '?'}; expected {server} for both")
    return by.group(0).split(":", 1)[1].strip()


def create_database(source: Held, target_url: str, admin_url: str) -> None:
    """The new, empty database, with the source's encoding and locale (so that text sorts the same)."""
    info = source.conn.exec_driver_sql(
        "SELECT to_jsonb(d) || jsonb_build_object('enc', pg_encoding_to_char(d.encoding)) "
        "FROM pg_database d WHERE datname = current_database()").scalar()
    parts = [sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
        sql.Identifier(database_name(target_url)), sql.Literal(info["enc"]), sql.Literal(info["datcollate"]),
        sql.Literal(info["datctype"]))]
    if info.get("datlocprovider") == "i":
        icu = info.get("daticulocale") or info.get("datlocale")
        parts.append(sql.SQL("LOCALE_PROVIDER icu ICU_LOCALE {}").format(sql.Literal(icu)))
    try:
        _admin(admin_url, sql.SQL(" ").join(parts))
    except psycopg.Error as exc:
        raise DrillError(f"cannot create the database {database_name(target_url)!r}: {str(exc).strip()}") from exc


def drop_database(target_url: str, admin_url: str) -> None:
    _admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(database_name(target_url))))


def restore(path: Path, target_url: str, tools: dict[str, str]) -> None:
    conninfo, env = libpq(target_url)
    _run([tools["pg_restore"], "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={conninfo}", str(path)], env, "pg_restore")


def revision(conn: Connection) -> list[str]:
    return sorted(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def check_upgrade_is_noop(target_url: str, report: Report) -> None:
    """`flask db-upgrade` on the restored copy: a copy of a database at this code's head must stay as it is."""
    from alembic.script import ScriptDirectory

    from webapp.core.migrate import alembic_config, upgrade
    heads = sorted(ScriptDirectory.from_config(alembic_config(sqlalchemy_url(target_url))).get_heads())
    with held_transaction(target_url) as held:
        before = revision(held.conn)
    if before != heads:
        report.note(f"db-upgrade: not run, the restored copy is at {', '.join(before)} and this code's head is "
                    f"{', '.join(heads)} (db-upgrade would migrate it)")
        return
    upgrade(sqlalchemy_url(target_url))
    with held_transaction(target_url) as held:
        after = revision(held.conn)
    if after != before:
        report.differ(f"db-upgrade moved the restored copy from {before} to {after}")
    else:
        report.note(f"db-upgrade on the restored copy: nothing to do (at {', '.join(after)}, this code's head)")


# --- data --------------------------------------------------------------------------------------------------

def tables(conn: Connection) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.exec_driver_sql(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname !~ '^pg_(toast|temp)' ORDER BY 1, 2")]


def _quoted(conn: Connection, schema: str, name: str) -> str:
    q = conn.dialect.identifier_preparer.quote
    return f"{q(schema)}.{q(name)}"


def _label(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def compare_counts(src: Connection, dst: Connection, report: Report) -> None:
    a, b = tables(src), tables(dst)
    for missing in sorted(set(a) - set(b)):
        report.differ(f"table {_label(*missing)}: missing in the restored copy")
    for extra in sorted(set(b) - set(a)):
        report.differ(f"table {_label(*extra)}: only in the restored copy")
    total = 0
    counts = []
    for schema, name in [t for t in a if t in set(b)]:
        query = f"SELECT count(*) FROM {_quoted(src, schema, name)}"
        n_src, n_dst = src.exec_driver_sql(query).scalar(), dst.exec_driver_sql(query).scalar()
        total += n_src
        counts.append(f"{_label(schema, name)} {n_src:,}")
        if n_src != n_dst:
            report.differ(f"table {_label(schema, name)}: {n_src:,} rows in the source, {n_dst:,} in the restored copy")
    report.note(f"row counts of {len(a)} tables ({total:,} rows in the source): {', '.join(counts)}")


def _stream(conn: Connection, query: str) -> Iterator:
    result = conn.execute(text(query).execution_options(stream_results=True, yield_per=2000))
    try:
        yield from result
    finally:
        result.close()


def _short(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def compare_rows(src: Connection, dst: Connection, what: str, query: str, report: Report) -> int:
    """Compare the rows of `query` (ordered by its first column, the key) column by column: every row of the
    source must be in the restored copy with the same values, and nothing else. Returns the source's rows."""
    a, b = _stream(src, query), _stream(dst, query)
    row_a, row_b = next(a, None), next(b, None)
    columns = None
    seen = found = 0

    def differ(line: str) -> None:
        nonlocal found
        found += 1
        if found <= SHOWN:
            report.differ(f"{what} {line}")

    while row_a is not None or row_b is not None:
        if columns is None:
            columns = list((row_a or row_b)._fields)
        if row_b is None or (row_a is not None and row_a[0] < row_b[0]):
            differ(f"{columns[0]}={row_a[0]}: missing in the restored copy")
            seen += 1
            row_a = next(a, None)
        elif row_a is None or row_b[0] < row_a[0]:
            differ(f"{columns[0]}={row_b[0]}: only in the restored copy")
            row_b = next(b, None)
        else:
            changed = [f"{c} {_short(x)} in the source, {_short(y)} restored"
                       for c, x, y in zip(columns, row_a, row_b, strict=True) if x != y]
            if changed:
                differ(f"{columns[0]}={row_a[0]}: " + "; ".join(changed))
            seen += 1
            row_a, row_b = next(a, None), next(b, None)
    if found > SHOWN:
        report.differ(f"{what}: … and {found - SHOWN} more differences")
    if not found:
        report.note(f"{what}: {seen:,} rows, {len(columns or [])} columns each: identical")
    return seen


def compare_sequences(dst: Connection, report: Report) -> None:
    """A sequence behind its column would make the next insert fail after the restore."""
    owned = dst.exec_driver_sql(
        "SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname "
        "FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace "
        "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid "
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
        "WHERE s.relkind = 'S' ORDER BY 2").all()
    behind = 0
    for seq_schema, seq, schema, table, column in owned:
        last = dst.execute(text("SELECT last_value FROM pg_sequences WHERE schemaname = :s AND sequencename = :n"),
                           {"s": seq_schema, "n": seq}).scalar()
        q = dst.dialect.identifier_preparer.quote
        top = dst.exec_driver_sql(f"SELECT max({q(column)}) FROM {_quoted(dst, schema, table)}").scalar()
        if top is not None and (last is None or last < top):
            behind += 1
            report.differ(f"sequence {seq}: at {last}, behind {table}.{column} = {top} in the restored copy")
    if not behind:
        report.note(f"sequences: {len(owned)}, none behind its column in the restored copy")


def compare_data(src: Connection, dst: Connection, report: Report) -> None:
    compare_counts(src, dst, report)
    a, b = revision(src), revision(dst)
    if a != b:
        report.differ(f"Alembic revision: {a} in the source, {b} in the restored copy")
    else:
        report.note(f"Alembic revision: {', '.join(a)} in both")
    compare_rows(src, dst, "choice", "SELECT * FROM choice ORDER BY id", report)
    compare_rows(src, dst, "waiting_entry", "SELECT * FROM waiting_entry ORDER BY id", report)
    compare_rows(src, dst, "unit counters", "SELECT id, listed_count, waiting_count, capacity FROM unit ORDER BY id",
                 report)
    query = "SELECT count(*), max(id) FROM audit_event"
    a_audit, b_audit = tuple(src.exec_driver_sql(query).one()), tuple(dst.exec_driver_sql(query).one())
    if a_audit != b_audit:
        report.differ(f"audit events (count, last id): {a_audit} in the source, {b_audit} in the restored copy")
    else:
        report.note(f"audit events: {a_audit[0]:,} in both, the last id {a_audit[1]}")
    compare_sequences(dst, report)


# --- pages -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    path: str
    resident: int | None = None  # signed in as this resident

    def label(self) -> str:
        return self.path if self.resident is None else f"{self.path} (resident {self.resident})"


def pages_to_compare(conn: Connection, residents: int = 4) -> list[Page]:
    """Public pages, units and the API; and for up to `residents` residents — the latest to join a waiting
    list and the latest to choose — their own pages."""
    def ids(query: str, **params) -> list:  # noqa: ANN003
        return list(conn.execute(text(query), params).scalars())

    queued = ids("SELECT resident_id FROM waiting_entry GROUP BY resident_id ORDER BY max(id) DESC LIMIT :n",
                 n=(residents + 1) // 2)
    chose = ids("SELECT resident_id FROM choice GROUP BY resident_id ORDER BY max(id) DESC LIMIT :n", n=residents)
    people = list(dict.fromkeys(queued + chose))[:residents]
    first_unit = ids("SELECT min(id) FROM unit WHERE NOT is_hidden")
    units = [u for u in first_unit if u is not None]
    own: list[Page] = []
    for rid in people:
        own.append(Page("/fi/my-choices", rid))
        for ref, unit in conn.execute(text("SELECT reference, unit_id FROM choice WHERE resident_id = :r "
                                           "ORDER BY id DESC LIMIT 3"), {"r": rid}):
            own.append(Page(f"/fi/my-choices/{ref}", rid))
            units.append(unit)
        for ref, unit, status in conn.execute(text(
                "SELECT reference, unit_id, status FROM waiting_entry WHERE resident_id = :r ORDER BY id DESC LIMIT 3"),
                {"r": rid}):
            own.append(Page(f"/fi/my-choices/waiting/{ref}", rid))
            if status == "waiting":
                own.append(Page(f"/fi/choose/{unit}", rid))  # the decision page: the place in the queue
            units.append(unit)
        own.append(Page("/sv/messages", rid))
    units = list(dict.fromkeys(units))[:8]
    public = [Page(p) for p in ("/fi/", "/sv/", "/en/", "/fi/pilots", "/fi/search", "/sv/search",
                                "/fi/search?page=2", "/api/v1/units", "/api/v1/pilots")]
    public += [Page(f"/fi/units/{u}") for u in units] + [Page(f"/api/v1/units/{u}") for u in units]
    return public + own


_VOLATILE = [
    (re.compile(r'(<input\b[^>]*\bname="(?:csrf_token|request_token)"[^>]*>)'),
     lambda m: re.sub(r'\bvalue="[^"]*"', 'value=""', m.group(1))),
    (re.compile(r'\bnonce="[^"]*"'), lambda m: 'nonce=""'),
]


def normalise(body: str) -> str:
    """The page without what is random per request: CSRF and request tokens, CSP nonces."""
    for pattern, replace in _VOLATILE:
        body = pattern.sub(replace, body)
    return body


def drill_app(held: Held, index_dir: str, secret_key: str):  # noqa: ANN201
    """An app whose every request runs in `held`'s transaction (each request's commit a savepoint)."""
    from sqlalchemy.orm import sessionmaker

    from webapp import create_app
    app = create_app({
        "APP_ENV": "development", "TESTING": True, "DATABASE_URL": sqlalchemy_url(held.url), "INDEX_DIR": index_dir,
        "SECRET_KEY": secret_key, "RESIDENT_KEY_SECRET": secrets.token_hex(32), "RATE_LIMIT_ENABLED": False,
        "PAGE_CACHE_MB": 0, "INDEX_SYNC_INTERVAL_MS": 0, "COMPRESS_RESPONSES": False,
    })
    app.extensions["db_engine"].dispose()
    app.extensions["db_sessionmaker"] = sessionmaker(bind=held.conn, expire_on_commit=False,
                                                     join_transaction_mode="create_savepoint")
    return app


def serve(app, pages: list[Page]) -> dict[Page, tuple]:  # noqa: ANN001
    """Each page's (status, content type, location, normalised body) from `app`, residents signed in through
    a sign-in session of the drill's own (rolled back with the transaction)."""
    from webapp.accounts import sessions as login_sessions
    from webapp.web import db
    from webapp.web.identity.signin import SESSION_KEY
    clients = {}
    answers = {}
    for page in pages:
        if page.resident not in clients:
            client = app.test_client()
            if page.resident is not None:
                with app.app_context():
                    sess = db.session()
                    token = login_sessions.start(sess, "resident", max_hours=1, resident_id=page.resident,
                                                 display_name=DRILL_NAME)
                    sess.commit()
                with client.session_transaction() as cookie:
                    cookie[SESSION_KEY] = token
            clients[page.resident] = client
        try:
            response = clients[page.resident].get(page.path)
            answers[page] = (response.status_code, response.content_type, response.headers.get("Location"),
                             normalise(response.get_data(as_text=True)))
        except Exception as exc:  # noqa: BLE001  a page that fails is a finding, not the end of the drill
            answers[page] = (f"error {exc.__class__.__name__}: {exc}", None, None, "")
    return answers


def _changed_lines(a: str, b: str, shown: int = 6) -> list[str]:
    """The first changed lines of a page, each cut to 160 characters around its first change (so that a long
    line, such as the API's JSON, shows what changed)."""
    diff = [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))][:shown]
    minus, plus = [d[1:] for d in diff if d[0] == "-"], [d[1:] for d in diff if d[0] == "+"]
    starts = {}
    for x, y in zip(minus, plus, strict=False):
        k = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
        starts[x] = starts[y] = max(0, k - 40)
    out = []
    for line in diff:
        start = starts.get(line[1:], 0)
        body = line[1:][start:start + 160].strip()
        out.append(f"{line[0]}{'…' if start else ''}{body}")
    return out


def compare_pages(src: Held, dst: Held, report: Report, residents: int, workdir: str) -> None:
    pages = pages_to_compare(src.conn, residents)
    key = secrets.token_hex(32)
    served = []
    for held, name in ((src, "source"), (dst, "restored")):
        app = drill_app(held, str(Path(workdir) / f"index-{name}"), key)
        served.append(serve(app, pages))
    a, b = served
    signed_in = {p.resident for p in pages if p.resident is not None}
    for page in [p for p in pages if a[p][0] != 200]:  # e.g. the drill's own sign-in did not work
        report.differ(f"page {page.label()}: answered {a[page][0]} on the source, not 200")
    same = 0
    for page in pages:
        if a[page] == b[page]:
            same += 1
            continue
        what = [f"status {a[page][0]} in the source, {b[page][0]} restored"] if a[page][0] != b[page][0] else []
        if a[page][1:3] != b[page][1:3]:
            what.append(f"content type/location {a[page][1:3]} in the source, {b[page][1:3]} restored")
        lines = _changed_lines(a[page][3], b[page][3])
        if lines:
            what.append("first changed lines: " + " | ".join(lines[:6]))
        report.differ(f"page {page.label()}: " + "; ".join(what))
    own = len([p for p in pages if p.resident is not None])
    report.note(f"pages: {len(pages)} served by both ({len(pages) - own} public, {own} of {len(signed_in)} signed-in "
                f"residents: {', '.join(str(r) for r in sorted(signed_in)) or 'none'}), {same} identical")


# --- the drill ---------------------------------------------------------------------------------------------

def default_target(source_url: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    return with_database(source_url, f"{database_name(source_url)[:40]}_drill_{stamp}")


def _same_server(a: str, b: str) -> bool:
    x, y = make_url(sqlalchemy_url(a)), make_url(sqlalchemy_url(b))
    return (x.host, x.port or 5432, x.query.get("host")) == (y.host, y.port or 5432, y.query.get("host"))


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} kB"


def drill(source_url: str, target_url: str | None = None, *, keep: bool = False, residents: int = 4,
          dump_file: str | None = None, pg_bin: str | None = None, out: Callable[[str], None] = print,
          before_compare: Callable[[str], None] | None = None) -> Report:
    """The whole drill (see the module's docstring). `before_compare(target_url)` runs after the restore and
    before anything is compared (the tests change the restored copy with it, to show that the drill sees it).
    Raises DrillError when the drill cannot run; differences are in the report."""
    target_url = target_url or default_target(source_url)
    if database_name(target_url) == database_name(source_url) and _same_server(source_url, target_url):
        raise DrillError("the target database is the source database")
    admin_url = source_url if _same_server(source_url, target_url) else with_database(target_url, "postgres")
    report = Report(source=source_url, target=target_url, out=out)
    started = time.monotonic()
    with held_transaction(source_url, export_snapshot=True) as src, \
            tempfile.TemporaryDirectory(prefix="restore-drill-") as workdir:
        server = server_major(src.conn)
        tools = check_tools(server, pg_bin)
        report.note(f"source: database {database_name(source_url)!r}, PostgreSQL {server}; "
                    f"pg_dump {tools['pg_dump']}, pg_restore {tools['pg_restore']}")
        create_database(src, target_url, admin_url)  # first: a name already taken fails before a long dump
        done = False
        try:
            path = Path(dump_file) if dump_file else Path(workdir) / "source.dump"
            t = time.monotonic()
            dump(source_url, src.snapshot, path, tools)
            dumped_by = check_archive(path, server, tools)
            report.note(f"pg_dump -Fc of snapshot {src.snapshot}: {_size(path)} in {time.monotonic() - t:.1f} s "
                        f"(pg_dump {dumped_by})")
            t = time.monotonic()
            restore(path, target_url, tools)
            report.note(f"pg_restore into the new database {database_name(target_url)!r}: "
                        f"{time.monotonic() - t:.1f} s")
            check_upgrade_is_noop(target_url, report)
            if before_compare is not None:
                before_compare(target_url)
            t = time.monotonic()
            with held_transaction(target_url) as dst:
                compare_data(src.conn, dst.conn, report)
                report.note(f"data compared in {time.monotonic() - t:.1f} s")
                t = time.monotonic()
                compare_pages(src, dst, report, residents, workdir)
                report.note(f"pages compared in {time.monotonic() - t:.1f} s")
            done = True
        finally:
            report.kept = keep or (done and bool(report.differences))
            if not report.kept:
                drop_database(target_url, admin_url)
    where = make_url(target_url).render_as_string()
    report.note(f"restored copy {'kept: ' + where if report.kept else 'dropped'}; "
                f"the drill took {time.monotonic() - started:.1f} s")
    report.note(f"{len(report.differences)} differences" if report.differences
                else "nothing differs: every row, choice, waiting-list entry and page compared is the same")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source_url", nargs="?", default=os.environ.get("DATABASE_URL"),
                        help="the database to dump [DATABASE_URL]")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--target", help="name of the new database on the source's server [<source>_drill_<time>]")
    target.add_argument("--target-url", help="the new database on another server (created there through its "
                                             "'postgres' database)")
    parser.add_argument("--keep", action="store_true", help="keep the restored copy (else dropped unless different)")
    parser.add_argument("--residents", type=int, default=4, help="residents whose own pages are compared [4]")
    parser.add_argument("--dump-file", help="keep the dump here [a temporary file]")
    parser.add_argument("--pg-bin", help="folder of pg_dump and pg_restore [PG_BIN, else PATH]")
    args = parser.parse_args(argv)
    # Run on a node with its environment, the drill's requests must not be added to the node's metrics.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if not args.source_url or not args.source_url.startswith(("postgresql://", "postgresql+psycopg://")):
        parser.error("give the source as postgresql+psycopg://user@host:5432/db (or set DATABASE_URL)")
    target_url = args.target_url or (with_database(args.source_url, args.target) if args.target else None)
    try:
        report = drill(args.source_url, target_url, keep=args.keep, residents=args.residents,
                       dump_file=args.dump_file, pg_bin=args.pg_bin)
    except DrillError as exc:
        print(f"restore drill could not run: {exc}", file=sys.stderr)
        return 2
    return 1 if report.differences else 0


if __name__ == "__main__":
    sys.exit(main())
