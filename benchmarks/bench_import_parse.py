"""Benchmark: parse and validate a 1,000,000-person household register CSV.

Run: ``.venv/bin/python benchmarks/bench_import_parse.py [--people N] [--keep]``. Writes the file
under benchmarks/output/ (ignored by git), times ``parse_register`` and prints rows per second
and the process's peak resident memory. Not a test: it takes tens of seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disburse.foundation.identifiers import RESIDENT_ID_CHECK, RESIDENT_ID_WEIGHTS  # noqa: E402
from disburse.importers.register import parse_register  # noqa: E402

PEOPLE_DEFAULT = 1_000_000
# About 3.3 people per registered household, as in the county reports.
PEOPLE_PER_HOUSEHOLD = 10 / 3
TODAY = dt.date(2026, 11, 15)


def digits_matrix(texts: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width digit strings as an (n, width) int matrix."""
    return texts.astype(f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64) - ord("0")


def resident_ids(count: int, generator: np.random.Generator) -> np.ndarray:
    """Unique valid IDs: birth day and sequence number both come from the person's index."""
    index = np.arange(count)
    births = (np.datetime64("1940-01-01") + (index // 900)).astype("datetime64[D]")
    birth_text = pd.Series(births).dt.strftime("%Y%m%d").to_numpy(dtype=str)
    sequence = pd.Series(index % 900 + 100).astype(str).to_numpy(dtype=str)
    areas = generator.choice(np.array(["610102", "611002", "612301", "610525"]), count)
    first = np.char.add(np.char.add(areas, birth_text), sequence)
    total = (digits_matrix(first, 17) * np.array(RESIDENT_ID_WEIGHTS)).sum(axis=1) % 11
    check = np.array(list(RESIDENT_ID_CHECK))[total]
    return np.char.add(first, check).astype(object)


def luhn_cards(count: int, generator: np.random.Generator) -> np.ndarray:
    """Valid 19-digit card numbers: an 18-digit payload plus its Luhn digit."""
    payload = np.char.add(
        "622848", pd.Series(generator.integers(10**10, 10**11, count)).astype(str).to_numpy(dtype=str)
    )
    payload = np.char.add(payload, "0")  # 18 digits
    digits = digits_matrix(payload, 18)
    doubled = digits.copy()
    doubled[:, 17::-2] *= 2  # the payload's rightmost digit is doubled once the check digit follows
    doubled[doubled > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.char.add(payload, check.astype(str)).astype(object)


def write_register(path: Path, people: int) -> int:
    """Write a valid register CSV; returns the number of households."""
    generator = np.random.default_rng(20261115)
    households = int(people / PEOPLE_PER_HOUSEHOLD)
    # Every household gets one person, the rest are spread at random: sizes sum to ``people``.
    sizes = 1 + np.bincount(generator.integers(0, households, people - households), minlength=households)
    household_index = np.repeat(np.arange(households), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    is_head = np.zeros(people, dtype=bool)
    is_head[starts] = True
    village_number = household_index // 100
    village_code = np.char.add(
        "6110021", pd.Series(village_number % 100000).astype(str).str.zfill(5).to_numpy(dtype=str)
    )
    relation = np.where(is_head, "户主", generator.choice(np.array(["配偶", "之子", "之女", "之母"]), people))
    ids = resident_ids(people, generator)
    cards = np.where(is_head, luhn_cards(people, generator), "")
    frame = pd.DataFrame(
        {
            "县": "商州区",
            "乡镇": np.char.add("乡镇", (village_number // 20 % 50).astype(str)),
            "行政村": np.char.add("村", village_number.astype(str)),
            "村代码": village_code,
            "户编号": np.char.add("H", household_index.astype(str)),
            "人编号": np.char.add("P", np.arange(people).astype(str)),
            "姓名": generator.choice(np.array(["张三", "李四", "王五", "赵六", "陈七"]), people),
            "证件号码": ids,
            "与户主关系": relation,
            "性别": "",
            "在校生状况": generator.choice(np.array(["", "", "", "小学", "初中"]), people),
            "是否寄宿": "",
            "健康状况": generator.choice(np.array(["健康", "长期慢性病", "残疾"]), people),
            "户类型": generator.choice(np.array(["一般贫困户", "低保贫困户"]), households)[household_index],
            "贫困状态": "已脱贫",
            "识别日期": "2016-03-01",
            "脱贫日期": "2019-12-31",
            "死亡日期": "",
            "开户银行": np.where(is_head, "中国农业银行", ""),
            "银行账号": cards,
            "联系电话": "",
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    return households


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=PEOPLE_DEFAULT)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    arguments = parser.parse_args()
    output = Path(__file__).resolve().parent / "output"
    output.mkdir(exist_ok=True)
    path = output / f"register_{arguments.people}.csv"
    started = time.perf_counter()
    households = write_register(path, arguments.people)
    written = time.perf_counter()
    print(
        f"wrote {arguments.people:,} people in {households:,} households, "
        f"{path.stat().st_size / 1e6:,.0f} MB, in {written - started:.1f} s"
    )
    before = time.perf_counter()
    parsed = parse_register(path, today=TODAY)
    elapsed = time.perf_counter() - before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    errors = sum(problem.severity == "error" for problem in parsed.problems)
    print(
        f"parse_register: {len(parsed.frame):,} rows in {elapsed:.2f} s = {len(parsed.frame) / elapsed:,.0f} rows/s; "
        f"{errors} errors, {len(parsed.problems) - errors} warnings; peak memory {peak_mb:,.0f} MB"
    )
    assert len(parsed.frame) == arguments.people
    assert errors == 0, parsed.problems[:5]
    if not arguments.keep:
        os.remove(path)


if __name__ == "__main__":
    main()
