"""The one place that turns a validated identifier into SQL text. Values always travel as parameters."""

from __future__ import annotations

import re

SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def ident(name: str) -> str:
    """Quote an identifier (column names come from delivered headers, so quote, never trust)."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def safe_name(name: str) -> str:
    """A configured table or schema name: must already be a plain identifier."""
    if not SAFE.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def column_slug(name: str) -> str:
    """A delivered column name made into a stable lower-case identifier (for `x_<column>` extras)."""
    slug = re.sub(r"[^0-9a-zA-Z_]+", "_", name.strip()).strip("_").lower()
    if not slug:
        slug = "col_" + "".join(f"{ord(ch):x}" for ch in name.strip())[:40]
    return slug[:60]
