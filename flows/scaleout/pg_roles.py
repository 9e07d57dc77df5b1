"""Least privilege on the PostgreSQL target: BI reads the marts, stewards also the possible matches.

dbt replaces a table by building a new one and renaming it over the old, which drops its grants, so the grants
are (re)applied after every build, table by table. The BI role gets the marts except the stewards' tables;
nobody but the owner gets anything in `deid`, `churn_model`, `governance`, `staging` or `intermediate`, or may
create anything anywhere. No default privileges are used: a new mart is readable only once a run granted it,
so a steward-only table can never become BI-readable by being created.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

MARTS_SCHEMA = "marts"
# marts only stewards may read: pairs of records that may be one person, each with its source record ids; the
# queue of key-field changes, with the masked old and new values and the source record behind each
STEWARD_ONLY = ("possible_matches", "key_field_review_queue")
CLOSED_SCHEMAS = ("deid", "churn_model", "governance", "staging", "intermediate", "public")


def _ensure_role(cur: psycopg.Cursor, role: str, password: str | None) -> None:
    exists = cur.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone()
    verb = "alter" if exists else "create"
    options = sql.SQL("login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls")
    cur.execute(sql.SQL("{} role {} with {}").format(sql.SQL(verb), sql.Identifier(role), options))
    if password:
        cur.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(password)))


def _tables(cur: psycopg.Cursor, schema: str) -> list[str]:
    rows = cur.execute(
        "select table_name from information_schema.tables where table_schema = %s order by table_name", [schema]
    ).fetchall()
    return [r[0] for r in rows]


def grant_least_privilege(
    conninfo: str,
    *,
    dbname: str,
    bi_role: str,
    steward_role: str,
    bi_password: str | None = None,
    steward_password: str | None = None,
    steward_only: Iterable[str] = STEWARD_ONLY,
) -> dict[str, list[str]]:
    """Create or update both roles and set their grants; returns the tables each role may read."""
    steward_only = set(steward_only)
    readers = sql.SQL(", ").join([sql.Identifier(bi_role), sql.Identifier(steward_role)])
    everyone = sql.SQL(", ").join([sql.SQL("public"), sql.Identifier(bi_role), sql.Identifier(steward_role)])
    with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
        _ensure_role(cur, bi_role, bi_password)
        _ensure_role(cur, steward_role, steward_password)
        cur.execute(sql.SQL("revoke all on database {} from {}").format(sql.Identifier(dbname), everyone))
        cur.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), readers))
        for schema in (*CLOSED_SCHEMAS, MARTS_SCHEMA):
            if cur.execute("select 1 from pg_namespace where nspname = %s", [schema]).fetchone() is None:
                continue
            cur.execute(sql.SQL("revoke all on schema {} from {}").format(sql.Identifier(schema), everyone))
            cur.execute(
                sql.SQL("revoke all on all tables in schema {} from {}").format(sql.Identifier(schema), everyone)
            )
        granted: dict[str, list[str]] = {bi_role: [], steward_role: []}
        marts = _tables(cur, MARTS_SCHEMA)
        if marts:
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(MARTS_SCHEMA), readers))
        for table in marts:
            roles = [steward_role] if table in steward_only else [bi_role, steward_role]
            cur.execute(
                sql.SQL("grant select on {} to {}").format(
                    sql.Identifier(MARTS_SCHEMA, table), sql.SQL(", ").join(sql.Identifier(r) for r in roles)
                )
            )
            for role in roles:
                granted[role].append(f"{MARTS_SCHEMA}.{table}")
    return granted
