"""Carrying a stage's per-row work over from the previous night, for rows that have not changed.

On an incremental night most current rows are the ones the previous night already judged and de-identified. The
quality and privacy stages keep, in the restricted zone, what they made of each row under a row key: the record
id with a 64-bit hash of the whole row (every column, names included, so a changed value, a new column or a
re-landed line changes it). A row whose key is found again is not worked on again.

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

from flows.sql import ident

# raise when what a cached row holds changes shape or meaning: every cache is dropped once
CARRY_FORMAT = "1"


def row_hash_sql(alias: str, columns: Sequence[str] | None = None) -> str:
    """SQL of the 64-bit hash of the whole row of table alias `alias` (DuckDB's row value: every column), or of
    `columns` only, names included: the columns a stage's work reads, when lineage that changes with every delivery
    (a snapshot's file and line) must not make an unchanged row look changed."""
    if columns is None:
        return f"hash({alias})"
    return "hash(struct_pack(" + ", ".join(f"{ident(c)} := {alias}.{ident(c)}" for c in columns) + "))"


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


def source_digest(*packages: str) -> str:
    """A digest of the Python and C sources of the named packages (e.g. "flows.privacy", "expectations") or modules
    (e.g. "flows.canonical"): an edit to the code that did a row's work invalidates what was carried, not only a
    release."""
    from importlib.util import find_spec

    digest = hashlib.sha256()
    for name in packages:
        spec = find_spec(name)
        if spec is None or not (spec.submodule_search_locations or spec.origin):
            raise ValueError(f"{name} is not a package or module")
        if not spec.submodule_search_locations:
            digest.update(name.encode() + b"\0" + Path(str(spec.origin)).read_bytes())
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".c", ".yml", ".yaml")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
