"""Carrying a stage's per-row work over from the previous night, for rows that have not changed.

On an incremental night most current rows are the ones the previous night already judged and de-identified. The
quality and privacy stages keep, in the restricted zone, what they made of each row under a row key: the record
id with a 64-bit hash of the columns the work reads (names included, so a changed value or a new field changes
it; the same record delivered again in tomorrow's snapshot does not). A row whose key is found again is not
worked on again.

What a stage made of a row also depends on what is not in the row: its suites or policy, the keys, the code that did
the work (`source_digest` of its packages) and DuckDB's hash. That is the stage's `fingerprint`; a stage drops its
whole cache when the fingerprint differs, so nothing is ever carried across a change of policy, key (rotation) or
version. A key enters the fingerprint only as an HMAC of a fixed text, never itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import duckdb

from flows.sql import ident, safe_name

# raise when what a cached row holds changes shape or meaning: every cache is dropped once
CARRY_FORMAT = "1"


# a current (and validated) row's hash of its worked columns, written by the ingest stage with the row
FIELDS_DIGEST = "_fields_digest"

# DuckDB names of this project are plain and at most 63 characters: `carry__<source>__building` must fit
MAX_SOURCE_NAME = 63 - len("carry__") - len("__building")


def cache_table(source: str) -> str:
    """A stage's cache table of a source, `carry__<source>`; a source name too long for that and its building
    table is named by a digest instead."""
    if len(source) > MAX_SOURCE_NAME:
        return safe_name(f"carry__{hashlib.sha256(source.encode()).hexdigest()[:32]}")
    return safe_name(f"carry__{source}")


def row_hash_sql(alias: str, columns: Sequence[str]) -> str:
    """SQL of the 64-bit hash of the named columns (names and values) of the row of table alias `alias`."""
    return f"hash(struct_pack({', '.join(f'{ident(c)} := {alias}.{ident(c)}' for c in columns)}))"


def fields_digest_sql(alias: str, columns: Sequence[str]) -> str:
    """SQL of a current or validated row's key hash (`row_hash_sql` of its worked columns): the `_fields_digest` the
    ingest stage wrote with the row when the table has it (reading one column, not hashing every row nightly),
    else the hash itself (a table from before, or one a test built by hand)."""
    if FIELDS_DIGEST in columns:
        return f"{alias}.{FIELDS_DIGEST}"
    return row_hash_sql(alias, worked_columns(list(columns)))


def worked_columns(columns: list[str]) -> list[str]:
    """The columns a stage's work on a row reads: the canonical fields and source names, not the lineage of the
    landed line (`_file`, `_row_number`, `_landed_run_id`, `_warn_rules`, which change when a snapshot source
    delivers the same record again) nor the unmapped `x_*` columns (only counted, from the table itself)."""
    return [c for c in columns if not c.startswith(("_", "x_"))]


def key_digest(key: bytes | None) -> str:
    """What of a secret key may enter a fingerprint: an HMAC of a fixed text, which does not reveal the key."""
    if key is None:
        return "-"
    return hmac.new(key, b"crmgov carry-over fingerprint", hashlib.sha256).hexdigest()


def fingerprint(*parts: str) -> str:
    """One digest of a stage's configuration parts, this package's and DuckDB's versions and the cache format."""
    digest = hashlib.sha256()
    for part in (CARRY_FORMAT, _package_version(), duckdb.__version__, *parts):
        encoded = part.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return digest.hexdigest()


def _package_version() -> str:
    try:
        return metadata.version("crmgov")
    except metadata.PackageNotFoundError:
        return "source"


def source_digest(*names: str) -> str:
    """A digest of the sources (Python, C, YAML) of the named packages and modules (e.g. "flows.privacy",
    "flows.vocabulary"): an edit to the code that did a row's work invalidates what was carried, not only a
    release."""
    from importlib.util import find_spec

    digest = hashlib.sha256()
    for name in names:
        spec = find_spec(name)
        if spec is None or spec.origin is None and not spec.submodule_search_locations:
            raise ValueError(f"no module or package {name}")
        if spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".c", ".yml", ".yaml"))
        else:
            root, files = Path(str(spec.origin)).parent, [Path(str(spec.origin))]
        for path in files:
            digest.update(f"{name}/{path.relative_to(root)}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
