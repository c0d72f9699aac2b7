"""Later register snapshots of a seeded county: the last generated snapshot with the seeded
changes applied (an exit, a death, a member who moves), written as the register exports it."""

from __future__ import annotations

from disburse.dev.generator.seeding.county import County

EXITED = "已脱贫"
# Columns that describe the household, not the person: a member who moves takes the new one's.
HOUSEHOLD_COLUMNS = ("县", "乡镇", "行政村", "村代码", "户编号", "户类型", "贫困状态", "识别日期", "脱贫日期")
MOVED_RELATION = "其他"


def snapshot_rows(county: County, changes: list[tuple]) -> tuple[list[str], list[list[str]]]:
    """The last snapshot's rows with ``changes`` applied in order: ``("exit", household, date)``,
    ``("death", person, date)``, ``("move", person, target household)``."""
    header = county.register_header
    column = {name: index for index, name in enumerate(header)}
    rows = [list(row) for row in county.register_rows]
    for change in changes:
        kind = change[0]
        if kind == "exit":
            _, household, on = change
            for row in rows:
                if row[column["户编号"]] == household:
                    row[column["贫困状态"]] = EXITED
                    row[column["脱贫日期"]] = on.isoformat()
        elif kind == "death":
            _, person, on = change
            for row in rows:
                if row[column["证件号码"]] == person:
                    row[column["死亡日期"]] = on.isoformat()
        elif kind == "move":
            _, person, target = change
            rows = _moved(rows, column, person, target)
        else:
            raise ValueError(f"unknown register change {kind!r}")
    return header, rows


def _moved(rows: list[list[str]], column: dict[str, int], person: str, target: str) -> list[list[str]]:
    moving = next(row for row in rows if row[column["证件号码"]] == person)
    head = next(row for row in rows if row[column["户编号"]] == target and row[column["与户主关系"]] == "户主")
    for name in HOUSEHOLD_COLUMNS:
        moving[column[name]] = head[column[name]]
    moving[column["与户主关系"]] = MOVED_RELATION
    rest = [row for row in rows if row is not moving]
    last = max(index for index, row in enumerate(rest) if row[column["户编号"]] == target)
    return rest[: last + 1] + [moving] + rest[last + 1 :]
