"""A seeded county's month of books (every anomaly the audits found, planted; built through the
engine by disburse.dev.audit_month), built once per test run and shared by every xdist worker:
about 12 s each, which several test modules would otherwise pay per worker and per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from database_support import built_once, new_database, pg_copy, pg_shared_database, shared_directory, sqlite_copy
from sqlalchemy.engine import make_url

from disburse.dev.audit_month import build_month
from disburse.dev.generator import generate_county
from disburse.dev.generator.seeding import seed_county


def seeded_month(  # type: ignore[no-untyped-def]
    backend: str, seed: int, households: int, tmp_path_factory: pytest.TempPathFactory, sqlite_template, pg_template
) -> tuple[Path, str]:
    """The county's directory and the URL of its month's books. Neither may be changed by a test:
    work on private_copy(url)."""

    def build(directory: Path) -> None:
        county = directory / "county"
        generate_county(county, households, seed)
        seed_county(county, seed)
        if backend == "sqlite":
            url = new_database(backend, directory, sqlite_template, pg_template)
        else:
            url = pg_shared_database(shared_directory(tmp_path_factory), pg_template)
        build_month(county, url)
        (directory / "url").write_text(url, encoding="utf-8")

    directory = built_once(tmp_path_factory, f"seeded-{backend}-{households}-{seed}", build)
    return directory / "county", (directory / "url").read_text(encoding="utf-8")


def private_copy(url: str, directory: Path) -> str:
    """A copy of the books at ``url`` that a test may change (a SQLite file in ``directory``, or a
    PostgreSQL database the caller drops)."""
    if url.startswith("sqlite"):
        return sqlite_copy(Path(make_url(url).database), directory)
    return pg_copy(url)
