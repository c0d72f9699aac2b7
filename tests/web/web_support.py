"""Books for the web tests: a small generated county with accounts for every role, and clients
that log in as each of them."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import pickle
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import yaml
from database_support import built_once, sqlite_backup
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from disburse.accounts.service import add_account
from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.demo.cycle import rule_for_station
from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.money import format_yuan
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import add_bank_account
from disburse.registry import service as registry_service
from disburse.web.app import create_app
from disburse.web.settings import WebSettings


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PASSWORD = "correct-horse-9"
ACCOUNTS = {
    "admin": ("管理员",),
    "maker": ("经办",),
    "checker": ("审核",),
    "checker2": ("审核",),
    "cashier": ("出纳",),
    "clerk": ("窗口",),
    "auditor": ("审计",),
}
BANK_ACCOUNT = "6228480012345678901"
OPENING_FEN = 500_000_000
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class County:
    directory: Path
    registers: list[Path]
    snapshot_dates: list[dt.date]
    assets: Path
    settlements: Path
    shares: Path
    pv_rule: Path
    station_id: str


def make_county(directory: Path, households: int = 120, seed: int = 7) -> County:
    county = generate_county(directory / "input", households, seed)
    assets = yaml.safe_load(county.assets_path.read_text(encoding="utf-8"))
    station = assets["stations"][0]
    rule = rule_for_station(EXAMPLES_DIRECTORY / "pv_revenue.yaml", station, directory / "pv.yaml")
    return County(
        directory,
        list(county.register_paths),
        list(county.snapshot_dates),
        county.assets_path,
        county.settlements_path,
        county.shares_path,
        rule,
        station["asset_id"],
    )


def set_up_books(url: str, county: County, *, registers: bool, earlier_snapshots: bool = False) -> None:
    """Accounts for every role, the county's bank account with an opening balance, the assets,
    and (with ``registers``) every register snapshot and the settlements."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            for name, roles in ACCOUNTS.items():
                add_account(session, name, roles, PASSWORD, None)
            add_bank_account(session, "COUNTY", "中国农业银行", BANK_ACCOUNT, "admin", account_name="县扶贫资金专户")
            post_entries(
                session,
                EntryBatch.from_drafts(
                    [
                        EntryDraft(
                            "COUNTY",
                            "2026-10",
                            dt.date(2026, 10, 1),
                            "期初余额",
                            (PostingDraft("102.01", OPENING_FEN), PostingDraft("241", -OPENING_FEN)),
                        )
                    ]
                ),
                idempotency_key="web-test:opening",
                user="admin",
            )
            registry_service.load_assets(session, county.assets, user="admin")
            if earlier_snapshots:  # every snapshot but the newest, which a test uploads itself
                for path, as_of in list(zip(county.registers, county.snapshot_dates))[:-1]:
                    registry_service.import_register(session, path, user="maker", as_of=as_of)
            if registers:
                for path, as_of in zip(county.registers, county.snapshot_dates):
                    registry_service.import_register(session, path, user="maker", as_of=as_of)
                registry_service.import_shares(session, county.shares, user="maker", as_of=county.snapshot_dates[0])
                registry_service.import_settlements(session, county.settlements, user="maker")
    finally:
        engine.dispose()


SHARED_BOOKS = "books.db"
SHARED_COUNTY = "county.pickle"


def county_with_books(url: str, directory: Path, tmp_path_factory, households: int = 60) -> County:  # type: ignore[no-untyped-def]
    """``make_county`` in ``directory`` and ``set_up_books(registers=True)`` on ``url``. On SQLite
    both are made once per test run (seven password hashes and three register imports, a few
    seconds): the books are copied over ``url``'s file, and the county's input files, which the
    tests only read, stay where they were built (``directory`` is the test's own, for what it writes)."""
    if not url.startswith("sqlite"):
        county = make_county(directory, households=households)
        set_up_books(url, county, registers=True)
        return county

    def build(shared: Path) -> None:
        shutil.copyfile(make_url(url).database, shared / SHARED_BOOKS)  # the test's fresh, migrated books
        county = make_county(shared, households=households)
        set_up_books(f"sqlite:///{shared / SHARED_BOOKS}", county, registers=True)
        (shared / SHARED_COUNTY).write_bytes(pickle.dumps(county))

    shared = built_once(tmp_path_factory, f"web-books-{households}", build)
    sqlite_backup(shared / SHARED_BOOKS, Path(make_url(url).database))
    return dataclasses.replace(pickle.loads((shared / SHARED_COUNTY).read_bytes()), directory=directory)


def web_app(url: str, directory: Path, **settings: int):  # type: ignore[no-untyped-def]
    return create_app(WebSettings.build(url, directory / "files", **settings))


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    found = FORM_TOKEN.search(page.text)
    assert found, f"no form token on {path}: {page.status_code} {page.text[:300]}"
    return found.group(1)


def log_in(app, name: str, password: str = PASSWORD) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = form_token(client, "/login")
    response = client.post(
        "/login", data={"name": name, "password": password, "form_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text[:500]
    return client


def write_return_file(instructions: list[dict], failing: set[str], path: Path) -> None:
    """The bank's return file in the generic layout: every payment succeeds except ``failing``
    (payment references), which fail with a reason."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["账号", "户名", "金额", "处理结果", "失败原因", "摘要"])
        for row in instructions:
            failed = row["payment_reference"] in failing
            writer.writerow(
                [
                    row["account_no"],
                    row["account_name"],
                    format_yuan(int(row["amount_fen"]), thousands=False),
                    "失败" if failed else "成功",
                    "账户已销户" if failed else "",
                    row["payment_reference"],
                ]
            )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def job_page(client: TestClient, response):  # type: ignore[no-untyped-def]
    """The finished job page behind ``response`` (a job's page, finished or still running)."""
    import time

    found = re.search(r'data-job="([^"]+)" data-finished="(yes|no)"', response.text)
    if found is None or found.group(2) == "yes":
        return response
    deadline = time.monotonic() + 120
    while not client.get(f"/jobs/{found.group(1)}/status").json()["finished"]:
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.1)
    return client.get(f"/jobs/{found.group(1)}")
