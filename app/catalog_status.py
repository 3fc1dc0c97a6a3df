"""What ``lake status`` and ``lake doctor`` say of the catalog: reachable, tables registered.

The catalog is the Hive metastore every Spark driver of the lake keeps in one PostgreSQL database
(decision 0011). Asking Spark would start a JVM and the Hive client (seconds) for one count, and
this module asks PostgreSQL directly with pg8000 (a pure-Python driver, in every image): the
lake's login (SCRAM-SHA-256, the only method the lake's databases accept), one query on the
metastore's own tables (``DBS``, ``TBLS``). Read-only, a few milliseconds.

The URL shown never carries a password (the lake keeps it apart from the URL; a ``password=``
parameter someone put in ``catalog.url`` is masked).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from app.errors import PostgresError
from lake.errors import LakeError
from lake.settings import Settings

# Tables per metastore database; before the first registration the schema is not there yet.
TABLES_SQL = (
    'SELECT d."NAME", count(t."TBL_ID") FROM "DBS" d LEFT JOIN "TBLS" t ON t."DB_ID" = d."DB_ID" '
    'GROUP BY d."NAME" ORDER BY d."NAME"'
)
_JDBC = re.compile(
    r"^jdbc:postgresql://(?P<host>\[[^\]]+\]|[^:/?]+)(?::(?P<port>\d+))?/(?P<db>[^?]*)"
)
_SECRET_PARAM = re.compile(r"(?i)(password=)[^&]*")


@dataclass(frozen=True)
class CatalogStatus:
    """The catalog as ``lake status --json`` shows it (under ``"catalog"``)."""

    enabled: bool
    url: str | None
    reachable: bool
    tables: int | None = None
    databases: dict[str, int] = field(default_factory=dict)
    managed_by_lake_up: bool = False
    error: str | None = None
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)

    def line(self) -> str:
        """One line for ``lake status`` and ``lake doctor``."""
        if not self.enabled:
            return "disabled (catalog.enabled = false): tables by path only"
        if self.url is None:
            return f"no metastore database known: {self.error}"
        if not self.reachable:
            return f"{self.url} NOT reachable: {self.error}"
        per_db = ", ".join(f"{db} {n}" for db, n in self.databases.items() if db != "default")
        return f"{self.url}: {self.tables} table(s) registered" + (f" ({per_db})" if per_db else "")


def redact_url(url: str) -> str:
    """``url`` without any password parameter."""
    return _SECRET_PARAM.sub(r"\1***", url)


def parse_jdbc_url(url: str) -> tuple[str, int, str]:
    """``(host, port, database)`` of a ``jdbc:postgresql://host[:port]/database`` URL.

    Raises:
        ValueError: Not a PostgreSQL JDBC URL.
    """
    match = _JDBC.match(url)
    if not match:
        raise ValueError(f"not a jdbc:postgresql://host:port/database URL: {redact_url(url)}")
    host = match["host"].strip("[]")
    return host, int(match["port"] or 5432), match["db"]


def catalog_status(settings: Settings, *, timeout_s: float = 5.0) -> CatalogStatus:
    """Where the catalog is, whether it answers the lake's login, and how many tables it holds.

    Never raises: a problem is in ``error`` / ``fix``.
    """
    from lake.metastore import connection, is_running, read_state

    catalog = settings.catalog
    if not catalog.enabled:
        return CatalogStatus(enabled=False, url=None, reachable=False)
    state = read_state(settings)
    managed = bool(not catalog.url and state and is_running(state))
    try:
        conn = connection(settings)
    except LakeError as exc:
        url = catalog.url or (state.url if state else None)
        return CatalogStatus(
            enabled=True,
            url=redact_url(url) if url else None,
            reachable=False,
            managed_by_lake_up=managed,
            error=exc.message,
            fix=exc.fix,
        )
    if conn is None:
        return CatalogStatus(
            enabled=True,
            url=None,
            reachable=False,
            error="catalog.url is empty and `lake up` has not started the local database",
            fix="run `lake up` (starts PostgreSQL beside MinIO) or set LAKE__CATALOG__URL",
        )
    shown = redact_url(conn.url)
    try:
        host, port, database = parse_jdbc_url(conn.url)
        rows = query(host, port, conn.user, conn.password, database, TABLES_SQL, timeout_s)
    except PostgresError as exc:
        if exc.code == "42P01":  # no "DBS" yet: no Spark session has used the catalog
            return CatalogStatus(True, shown, True, 0, {}, managed)
        return CatalogStatus(
            True,
            shown,
            False,
            managed_by_lake_up=managed,
            error=f"the database refused: {exc.message}",
            fix="check LAKE__CATALOG__USER / LAKE__CATALOG__PASSWORD (or "
            f"{catalog.credentials_file})",
        )
    except (OSError, ValueError) as exc:
        return CatalogStatus(
            True,
            shown,
            False,
            managed_by_lake_up=managed,
            error=f"{type(exc).__name__}: {exc}",
            fix="run `lake up` (local catalog) or start the metastore database "
            "(compose: metastore-db)",
        )
    databases = {str(name): int(count or 0) for name, count in rows}
    return CatalogStatus(True, shown, True, sum(databases.values()), databases, managed)


def query(
    host: str,
    port: int,
    user: str,
    password: str,
    database: str,
    sql: str,
    timeout_s: float = 5.0,
) -> list[tuple[str | None, ...]]:
    """Run one statement with pg8000 (a pure-Python PostgreSQL driver: no JVM, no libpq); the
    rows as text values.

    Raises:
        PostgresError: The login or the statement was refused (its message and SQLSTATE).
        OSError: Nothing answers at ``host:port``, or the connection broke.
    """
    import pg8000.native
    from pg8000.exceptions import DatabaseError, InterfaceError

    def refused(exc: DatabaseError) -> PostgresError:
        fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        return PostgresError(str(fields.get("M", exc)), code=fields.get("C"))

    try:
        conn = pg8000.native.Connection(
            user,
            host=host,
            port=port,
            database=database,
            password=password,
            timeout=timeout_s,
            application_name="lake-status",
        )
    except InterfaceError as exc:  # no server there, or the connection broke: the socket's error
        cause = exc.__cause__
        raise cause if isinstance(cause, OSError) else OSError(str(exc)) from exc
    except DatabaseError as exc:
        raise refused(exc) from exc
    try:
        rows = conn.run(sql) or []
    except DatabaseError as exc:
        raise refused(exc) from exc
    finally:
        conn.close()
    return [tuple(None if v is None else str(v) for v in row) for row in rows]
