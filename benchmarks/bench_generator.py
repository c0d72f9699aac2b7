"""How long the development generator takes to write a county's files (register snapshots,
shares, settlements, assets), and how many people it makes; a figure, not a test.

    python benchmarks/bench_generator.py [HOUSEHOLDS]   # default 300,000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from disburse.dev.generator import generate_county


def main() -> None:
    households = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        county = generate_county(Path(directory), households, seed=1)
        elapsed_seconds = time.perf_counter() - started
    print(f"generate county: {households:,} households, {county.people:,} people in {elapsed_seconds:.1f} s")


if __name__ == "__main__":
    main()
