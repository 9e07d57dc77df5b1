"""What ingest spends each night to learn which delivered files are new: every file hashed (before 2026-12-06)
against every file's stamp looked up (flows/ingest/deliveries.py), over one inbox, in the same run.

    .venv/bin/python -m benchmarks.bench_delivery_hashes --inbox /tmp/benchL/a/restricted/inbox

The inbox keeps every night's delivery, so hashing grows with the nights kept (profile L: 1.5 GiB after two nights,
about 165 MB more each night, most of it the CRM's full snapshot), while the night's new files stay the same size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from flows.ingest.deliveries import content_hash, file_stamp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbox", type=Path, required=True, help="a workdir's restricted/inbox")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    files = [p for p in sorted(args.inbox.rglob("*")) if p.is_file() and p.name != "sources.yml"]
    size = sum(p.stat().st_size for p in files)
    for i in range(args.repeat):
        started = time.perf_counter()
        for p in files:
            content_hash(p)
        hashed = time.perf_counter() - started
        started = time.perf_counter()
        for p in files:
            file_stamp(p)
        stamped = time.perf_counter() - started
        print(f"pass {i + 1}: {len(files)} files, {size / 2**30:.2f} GiB: every file hashed {hashed:.2f} s, "
              f"stamps {stamped * 1000:.2f} ms ({hashed / stamped:,.0f}x)")


if __name__ == "__main__":
    main()
