"""What a reader hands to landing: text values exactly as delivered, plus the lines it could not parse."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class QuarantinedLine:
    line_number: int
    raw_line: str
    reason: str


@dataclass
class Delivery:
    """One parsed delivery: `table` has every source column as string plus `_row_number` (int64)."""

    table: pa.Table
    columns: list[str]
    quarantined: list[QuarantinedLine] = field(default_factory=list)

    @property
    def rows_landed(self) -> int:
        return self.table.num_rows

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.quarantined)


def string_table(columns: list[str], values: dict[str, list[str | None]], row_numbers: list[int]) -> pa.Table:
    arrays = {c: pa.array(values[c], type=pa.string()) for c in columns}
    arrays["_row_number"] = pa.array(row_numbers, type=pa.int64())
    return pa.table(arrays)
