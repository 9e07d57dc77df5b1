"""The exact merge of what the de-identification of each row slice of one large source found.

De-identification is row by row (keyed HMAC, masks, Bloom encodings, free-text scans), so partitions can run
on different workers and their outputs be concatenated in order. The PII inventory is the one thing that
aggregates: its counts are summed per (source, column, entity, operator, proposed). An undeclared column's
proposed entity comes from a sample of its first values, which is the first partition's sample as soon as
that partition has SAMPLE_SIZE values of the column (partitions hold at least 1,000 rows): the first
partition's guess is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.privacy.deidentify import InventoryRow


def merge_inventory(parts: Sequence[Sequence[InventoryRow]]) -> list[InventoryRow]:
    """One inventory for the whole source: counts summed, rows in order of first appearance."""
    merged: dict[tuple, InventoryRow] = {}
    for rows in parts:
        for r in rows:
            key = (r.source_name, r.column, r.operator, r.proposed) + (() if r.proposed else (r.entity,))
            seen = merged.get(key)
            merged[key] = (
                r
                if seen is None
                else InventoryRow(
                    seen.source_name, seen.column, seen.entity, seen.count + r.count, seen.operator, seen.proposed
                )
            )
    return list(merged.values())
