"""Issue #16 item 7, the YAML kinds and the programme inputs: allocation rules, the assets file,
reconciliation rules, and a programme's input list (a roster). Each hostile file goes through
the real command and is refused (exit 1) with a reason naming the file, no traceback (the suite
sets DISBURSE_DEBUG, so a defect would raise here), and the books are byte for byte as before.

The YAML files are a valid one of each kind spoiled one way each: garbage bytes, a renamed
binary, an empty file, a list where a mapping belongs, a Python tag, an alias bomb (a billion
values in a few hundred bytes), an alias that contains itself, a key given twice, an unknown
key, and the amount as a float, in scientific notation, negative, NaN, in full-width digits and
with 20 digits.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import run
from test_hostile_inputs import Kind, books_digest, table_mutations

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.generator import generate_county
from disburse.reconciliation import unmatched

ACCOUNT = "6228480012345678"
RECONCILIATION_RULES = Path(unmatched.__file__).resolve().parent / "rules" / "county_example.yaml"


@dataclass(frozen=True)
class YamlKind:
    """A valid YAML file, the command that reads it, and the amount in it to spoil."""

    name: str
    text: str
    amount: str  # the amount's text in ``text``, e.g. 'pool_yuan: "120000"'
    amount_key: str
    command: list[str]


def _bomb(key: str) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join(lines) + f"\n{key}: *a9\n"


def yaml_mutations(kind: YamlKind) -> dict[str, str | bytes]:
    rng = random.Random(kind.name)
    first_key = next(line for line in kind.text.splitlines() if line[:1].isalpha() and ":" in line)
    spoil = {
        "float amount": f"{kind.amount_key}: 0.1",
        "scientific notation": f'{kind.amount_key}: "1e5"',
        "negative amount": f'{kind.amount_key}: "-120000"',
        "NaN amount": f"{kind.amount_key}: .nan",
        "full-width digits": f'{kind.amount_key}: "１２００００"',
        "20-digit amount": f'{kind.amount_key}: "12345678901234567890"',
    }
    files: dict[str, str | bytes] = {
        "garbage bytes": bytes(rng.randrange(256) for _ in range(2048)),
        "renamed binary": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(512)),
        "empty file": "",
        "a list, not a mapping": "- one\n- two\n",
        "python tag": "kind: !!python/object/apply:os.system ['echo owned']\n" + kind.text,
        "alias bomb": kind.text + _bomb("unused_bomb"),
        "alias containing itself": kind.text + "looped: &loop [*loop]\n",
        "key given twice": kind.text + first_key + "\n",
        "unknown key": kind.text + "surprise_key: 1\n",
    }
    for name, replacement in spoil.items():
        assert kind.amount in kind.text, f"{kind.name}: the example no longer holds {kind.amount!r}"
        files[name] = kind.text.replace(kind.amount, replacement, 1)
    return files


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile_yaml_county")
    generate_county(directory, 50, 11)
    return directory


def yaml_kinds(county: Path) -> list[YamlKind]:
    dividend = (EXAMPLES_DIRECTORY / "coop_dividend.yaml").read_text(encoding="utf-8").replace("COOP-001", "COOP-001")
    assets = (county / "assets.yaml").read_text(encoding="utf-8")
    capacity = next(line.strip() for line in assets.splitlines() if line.strip().startswith("capacity_kw:"))
    return [
        YamlKind("rules", dividend, 'pool_yuan: "120000"', "pool_yuan", ["allocate", "{file}", "--period", "2026-10"]),
        YamlKind("assets", assets, capacity, "    capacity_kw", ["assets", "load", "{file}"]),
        YamlKind(
            "reconciliation rules",
            RECONCILIATION_RULES.read_text(encoding="utf-8"),
            'account: "513"',
            "    account",
            ["reconcile", "post-unmatched", "--account", ACCOUNT, "--period", "2026-10", "--rules", "{file}"],
        ),
    ]


@pytest.fixture(scope="module")
def books(county: Path, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """Books holding what each kind refers to (the assets, the register, the shares, a bank
    account), so that a refusal is the hostile file's doing."""
    path = tmp_path_factory.mktemp("hostile_yaml_books") / "books.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    registers = [
        ["import", "registry", str(path), "--as-of", path.stem.split("_")[1]]
        for path in sorted(county.glob("register_*.csv"))
    ]
    for arguments in (
        ["assets", "load", str(county / "assets.yaml")],
        *registers,
        ["import", "shares", str(county / "shares.csv")],
        ["entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", ACCOUNT],
    ):
        ran = run(url, *arguments)
        assert ran.exit_code == 0, ran.output
    return path


def test_every_yaml_kind_has_at_least_ten_hostile_files(county: Path) -> None:
    for kind in yaml_kinds(county):
        assert len(yaml_mutations(kind)) >= 10, kind.name


def _refused_everywhere(cases, books: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each (label, file name, content, arguments) on a fresh copy of ``books``: exit 1, the
    file named, the books unchanged."""
    before = books_digest(f"sqlite:///{books}")
    accepted = []
    for number, (label, file_name, content, arguments) in enumerate(cases):
        copy = tmp_path / f"books-{number}.db"
        shutil.copyfile(books, copy)
        path = tmp_path / f"{number}-{file_name}"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        ran = run(f"sqlite:///{copy}", *[str(path) if part == "{file}" else part for part in arguments])
        if ran.exit_code != 1 or path.name not in ran.output:
            accepted.append(f"{label}: exit {ran.exit_code}: {ran.output[-300:]}")
            continue
        assert books_digest(f"sqlite:///{copy}") == before, label
    assert not accepted, "\n".join(accepted)


@pytest.mark.parametrize("kind_name", ["rules", "assets", "reconciliation rules"])
def test_issue16_item7_hostile_yaml_is_refused_and_changes_nothing(
    kind_name: str, county: Path, books: Path, tmp_path: Path
) -> None:
    kind = next(item for item in yaml_kinds(county) if item.name == kind_name)
    cases = [
        (mutation, f"{kind.name.replace(' ', '_')}.yaml", content, kind.command)
        for mutation, content in yaml_mutations(kind).items()
    ]
    _refused_everywhere(cases, books, tmp_path)


PROGRAMME_INPUTS = {
    # kind: (input file, the rule that reads it, the amount column, the date column)
    "roster": ("forest_rangers_2026-10.csv", "forest_ranger.yaml", "日工资标准", None),
    "hospital bills": ("hospital_bills_2026-10.csv", "medical_topup.yaml", "医疗总费用", "出院日期"),
}


@pytest.mark.parametrize("kind_name", sorted(PROGRAMME_INPUTS))
def test_issue16_item7_hostile_programme_inputs_are_refused_and_change_nothing(
    kind_name: str, county: Path, books: Path, tmp_path: Path
) -> None:
    file_name, rule, amount, date = PROGRAMME_INPUTS[kind_name]
    with (county / file_name).open(encoding="utf-8-sig") as handle:
        lines = [line.rstrip("\n").split(",") for line in handle if line.strip()]
    kind = Kind(kind_name, lines[0], lines[1:3], lambda path: [], amount, lines[0][0], date)
    command = ["allocate", str(EXAMPLES_DIRECTORY / rule), "--period", "2026-10", "--inputs", "{file}"]
    mutations = table_mutations(kind)
    mutations.pop("header only")  # a list of nobody is a list: the run reports it pays no one
    mutations.pop("rows beyond the limit")  # needs the limit patched in-process; the tabular corpus does that
    assert len(mutations) >= 10
    cases = [(mutation, name, content, command) for mutation, (name, content) in mutations.items()]
    _refused_everywhere(cases, books, tmp_path)
