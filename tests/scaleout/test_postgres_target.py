"""The dbt project built unchanged on PostgreSQL from the run's `deid` schema, and least privilege there.

Uses the thread-pool nightly run of conftest.py (its DuckDB warehouse is the reference) and the session's
real PostgreSQL server (tests/pg.py). A statement timeout turns a runaway query into a clear failure.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql

from flows.scaleout.pg_roles import STEWARD_ONLY
from tests.scaleout.compare import duckdb_marts, fingerprint
from tests.warehouse_queries import q

DBNAME = "crmgov_scaleout"
BI, STEWARD = "crmgov_bi", "crmgov_steward"
CLOSED = ("deid", "churn_model", "governance", "staging", "intermediate")
RESTRICTED_SCHEMAS = {"landed", "current", "validated", "quality_meta", "ingest_meta"}


@pytest.fixture(scope="module")
def pg(runs, postgres_server, prefect_harness):
    from flows.scaleout.pg_target import postgres_target

    postgres_server.create_database(DBNAME)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRMGOV_PG_HOST", postgres_server.host)
        mp.setenv("CRMGOV_PG_PORT", str(postgres_server.port))
        mp.setenv("CRMGOV_PG_USER", postgres_server.user)
        mp.setenv("CRMGOV_PG_DBNAME", DBNAME)
        mp.setenv("PGOPTIONS", "-c statement_timeout=180000")
        result = postgres_target(workdir=str(runs["thread"].wd.root))
    return postgres_server, result


def _as(server, role: str) -> psycopg.Connection:
    return psycopg.connect(f"host={server.host} port={server.port} user={role} dbname={DBNAME}", autocommit=True)


def _relations(server, schemas) -> list[tuple[str, str]]:
    return [
        (s, t)
        for s, t in server.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s) order by 1, 2",
            [list(schemas)],
            dbname=DBNAME,
        )
    ]


def test_every_mart_matches_the_duckdb_build(pg, runs):
    server, result = pg
    duck = duckdb_marts(runs["thread"].wd.warehouse_db)
    pg_marts = [t for _, t in _relations(server, ["marts"])]
    assert sorted(pg_marts) == sorted(duck)
    got = {}
    with psycopg.connect(server.dsn(DBNAME)) as con:
        for table in pg_marts:
            cur = con.execute(sql.SQL("select * from {}").format(sql.Identifier("marts", table)))
            got[table] = fingerprint([d.name for d in cur.description], cur.fetchall())
    assert {t: (got[t], duck[t]) for t in pg_marts if got[t] != duck[t]} == {}
    assert result["nodes"] > 100


def test_column_types_that_differ_are_the_documented_ones(pg, runs):
    server, _ = pg
    pg_types = {
        (t, c): d
        for t, c, d in server.execute(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts'",
            dbname=DBNAME,
        )
    }
    duck_types = {
        (t, c): d
        for t, c, d in q(
            runs["thread"].wd.warehouse_db,
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts'",
        )
    }
    assert set(pg_types) == set(duck_types)
    families = {
        "VARCHAR": "text",
        "DOUBLE": "double precision",
        "DATE": "date",
        "BOOLEAN": "boolean",
        "TIMESTAMP": "timestamp without time zone",
        "INTEGER": "integer",
        "BIGINT": "bigint",
    }
    differ = sorted(
        f"{t}.{c}: duckdb {duck_types[(t, c)]} / postgres {pg_types[(t, c)]}"
        for t, c in pg_types
        if families.get(duck_types[(t, c)], duck_types[(t, c)].lower()) not in (pg_types[(t, c)], "text")
        and not (duck_types[(t, c)] == "VARCHAR" and pg_types[(t, c)] in ("text", "character varying"))
    )
    print("\n".join(differ) or "no column type differs")
    assert all("DECIMAL" in d or "HUGEINT" in d for d in differ), differ


def test_the_restricted_zone_never_reaches_postgres(pg):
    server, result = pg
    schemas = {s for (s,) in server.execute("select nspname from pg_namespace", dbname=DBNAME)}
    assert not schemas & RESTRICTED_SCHEMAS
    assert {k.split(".")[0] for k in result["loaded"]} == {"deid", "churn_model", "governance"}
    columns = {
        c
        for (c,) in server.execute(
            "select column_name from information_schema.columns "
            "where table_schema not in ('pg_catalog', 'information_schema')",
            dbname=DBNAME,
        )
    }
    assert not columns & {"row_json", "name", "mobile", "id_number", "email", "address"}


def test_bi_reads_the_marts_and_nothing_else(pg):
    server, result = pg
    marts = [t for _, t in _relations(server, ["marts"])]
    assert sorted(result["granted"][BI]) == sorted(f"marts.{t}" for t in marts if t not in STEWARD_ONLY)
    with _as(server, BI) as con:
        for table in marts:
            query = sql.SQL("select count(*) from {}").format(sql.Identifier("marts", table))
            if table in STEWARD_ONLY:
                with pytest.raises(errors.InsufficientPrivilege):
                    con.execute(query)
            else:
                con.execute(query)
        _refused_everything_else(server, con)


def test_the_steward_also_reads_the_possible_matches(pg):
    server, _ = pg
    with _as(server, STEWARD) as con:
        for table in STEWARD_ONLY:
            con.execute(sql.SQL("select count(*) from {}").format(sql.Identifier("marts", table)))
        con.execute("select count(*) from marts.dim_customer")
        _refused_everything_else(server, con)


def _refused_everything_else(server, con: psycopg.Connection) -> None:
    closed = _relations(server, CLOSED)
    assert {s for s, _ in closed} == set(CLOSED)
    for schema, table in closed:
        with pytest.raises(errors.InsufficientPrivilege):
            con.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(schema, table)))
    for statement in (
        "create table marts.intruder (x int)",
        "create table public.intruder (x int)",
        "create schema intruder",
        "create temp table intruder (x int)",
        "delete from marts.dim_customer",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            con.execute(statement)
