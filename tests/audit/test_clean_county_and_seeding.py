"""A clean generated county raises no finding but those the generator documents as real; the
seeding is deterministic, leaves the generated files as they are and refuses a broken plan."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from database_support import PG_URL, new_database, pg_drop_database

from disburse.audit.anomalies import run_checks
from disburse.audit.scoring import score
from disburse.dev.audit_month import DATES, build_month
from disburse.dev.generator import generate_county
from disburse.dev.generator.seeding import documented_real, load_plan, seed_county
from disburse.foundation.db import make_engine, transaction

pytestmark = pytest.mark.slow
HOUSEHOLDS = 200
CASES = [("sqlite", 1), ("sqlite", 2), ("postgresql", 1)]


@pytest.mark.parametrize(("backend", "seed"), CASES, ids=[f"{b}-seed{s}" for b, s in CASES])
def test_a_clean_county_raises_only_the_findings_documented_as_real(
    backend: str, seed: int, tmp_path: Path, sqlite_template, pg_template
) -> None:  # type: ignore[no-untyped-def]
    if backend == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    county = tmp_path / "county"
    generate_county(county, HOUSEHOLDS, seed)
    url = new_database(backend, tmp_path, sqlite_template, pg_template)
    try:
        build_month(county, url)
        engine = make_engine(url)
        try:
            with transaction(engine) as session:
                report = run_checks(session, today=DATES.checks_on)
        finally:
            engine.dispose()
    finally:
        if backend == "postgresql":
            pg_drop_database(url)
    real = documented_real(county)
    scores = score(report, {"anomalies": [], "near_misses": [], "real": real})
    stray = [text for result in scores.values() for text in result.false_findings]
    assert stray == []
    # What the generator documents is real, and the check does find it (the engine pays it).
    assert all(entry["check"] == "paid_after_exit" for entry in real)
    assert len(report.findings["paid_after_exit"]) <= len(real)


def _tree(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_seeding_is_deterministic_and_leaves_the_generated_files_as_they_are(tmp_path: Path) -> None:
    plain = generate_county(tmp_path / "plain", HOUSEHOLDS, 4)
    first, second = tmp_path / "first", tmp_path / "second"
    for directory in (first, second):
        generate_county(directory, HOUSEHOLDS, 4)
        seed_county(directory, 4)
    assert _tree(first) == _tree(second)
    generated = {str(path.relative_to(plain.out_dir)) for path in plain.paths()}
    assert {name: digest for name, digest in _tree(first).items() if name in generated} == _tree(plain.out_dir)
    planted = set(_tree(first)) - generated
    assert "anomalies.json" in planted and all(
        name == "anomalies.json" or name.startswith("seeded/") for name in planted
    )
    generate_county(tmp_path / "other", HOUSEHOLDS, 5)
    seed_county(tmp_path / "other", 5)
    assert (tmp_path / "other" / "anomalies.json").read_bytes() != (first / "anomalies.json").read_bytes()


def test_a_plan_plants_only_what_it_turns_on_and_refuses_unknown_kinds(tmp_path: Path) -> None:
    import json

    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "anomalies:\n  equal_split: true\n  above_norm: false\nnear_misses:\n  dated_move: true\n", encoding="utf-8"
    )
    assert load_plan(plan) == (["equal_split"], ["dated_move"])
    generate_county(tmp_path / "county", HOUSEHOLDS, 6)
    manifest = json.loads(seed_county(tmp_path / "county", 6, plan).read_text(encoding="utf-8"))
    assert [a["kind"] for a in manifest["anomalies"]] == ["equal_split"]
    assert [n["kind"] for n in manifest["near_misses"]] == ["dated_move"]
    assert manifest["books"]["registers_before_runs"] and "registers_after_payment" not in manifest["books"]
    plan.write_text("anomalies:\n  paid_thrice: true\n", encoding="utf-8")
    with pytest.raises(ValueError, match="paid_thrice"):
        load_plan(plan)
    plan.write_text("anomalies:\n  equal_split: yes please\n", encoding="utf-8")
    with pytest.raises(ValueError, match="true or false"):
        load_plan(plan)
    plan.write_text("anomalies: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not YAML"):
        load_plan(plan)


def test_generate_county_with_seed_anomalies_writes_the_manifest(tmp_path: Path) -> None:
    from cli_runner import run

    from disburse.dev.generator.seeding import DEFAULT_PLAN

    done = run(
        f"sqlite:///{tmp_path / 'unused.db'}",
        "generate",
        "county",
        "--households",
        str(HOUSEHOLDS),
        "--seed",
        "2",
        "--out",
        str(tmp_path / "c"),
        "--seed-anomalies",
        str(DEFAULT_PLAN),
    )
    assert done.exit_code == 0, done.output
    assert "planted 28 anomalies and 9 near-misses" in done.stdout and (tmp_path / "c" / "anomalies.json").exists()
    messy = run(f"sqlite:///{tmp_path / 'unused.db'}", "generate", "county", "--households", "60", "--seed", "2",
                "--out", str(tmp_path / "m"), "--messy", "--seed-anomalies", str(DEFAULT_PLAN))  # fmt: skip
    assert messy.exit_code == 1 and "--messy" in messy.output
    small = run(f"sqlite:///{tmp_path / 'unused.db'}", "generate", "county", "--households", "50", "--seed", "2",
                "--out", str(tmp_path / "s"), "--seed-anomalies", str(DEFAULT_PLAN))  # fmt: skip
    assert small.exit_code == 1 and "generate more households" in small.output
