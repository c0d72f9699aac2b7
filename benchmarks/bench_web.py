"""Web application figures on this machine: counter search and household page latency (p50/p95)
on N households; 20 concurrent clients against the household page for 60 s on loopback; and an
upload of a 100,000-person register through the web next to the CLI import of the same file.

    python benchmarks/bench_web.py [--households 100000 [1000000]] [--seconds 60] [--clients 20]

Latency is measured by a client on loopback, one request at a time, so it is an upper bound of
the server's own time. Targets: p95 <= 100 ms on a million households; >= 200 requests/s with no
errors; the web upload within 1.2x the CLI import.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from disburse.accounts.service import add_account
from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine, transaction
from disburse.registry.service import import_register
from disburse.schema import migrate as schema

CONSOLE_SCRIPT = Path(sys.executable).parent / "disburse"
PASSWORD = "benchmark-password-1"
PEOPLE_PER_HOUSEHOLD = 3.4  # what the generator makes
UPLOAD_PEOPLE = 100_000
LATENCY_REQUESTS = 300
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_books(directory: Path, name: str) -> str:
    url = f"sqlite:///{directory / name}"
    engine = make_engine(url)
    try:
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
    finally:
        engine.dispose()
    return url


def add_accounts(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            add_account(session, "admin", ["管理员"], PASSWORD, None)
            add_account(session, "maker", ["经办"], PASSWORD, None)
            add_account(session, "clerk", ["窗口"], PASSWORD, None)
    finally:
        engine.dispose()


class Serve:
    """`disburse serve` in a process of its own, as a county runs it."""

    def __init__(self, url: str, files: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "--db", url, "serve", "--port", str(self.port), "--files", str(files)],
            stdout=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/login", timeout=2)
                return self.base
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def logged_in(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    token = FORM_TOKEN.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"name": name, "password": PASSWORD, "form_token": token})
    assert response.status_code == 200, response.status_code
    return client


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def register_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def latency(base: str, rows: list[dict[str, str]]) -> None:
    client = logged_in(base, "clerk")
    rng = random.Random(1)
    sample = rng.sample(rows, min(LATENCY_REQUESTS, len(rows)))
    searches, pages = [], []
    for index, row in enumerate(sample):
        query = (row["户编号"], row["姓名"], row["证件号码"][-6:], row["证件号码"])[index % 4]
        started = time.perf_counter()
        assert client.get("/counter", params={"q": query}).status_code == 200
        searches.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(f"/counter/households/{row['户编号']}").status_code == 200
        pages.append(time.perf_counter() - started)
    cards = []
    for row in sample[:5]:
        started = time.perf_counter()
        assert client.get(f"/counter/households/{row['户编号']}/card").status_code == 200
        cards.append(time.perf_counter() - started)
    print(f"  明白卡 page (reports.household_statement): median {statistics.median(cards) * 1000:,.0f} ms of 5")
    for what, values in (("counter search", searches), ("household page", pages)):
        print(
            f"  {what}: p50 {statistics.median(values) * 1000:.1f} ms, p95 {percentile(values, 0.95) * 1000:.1f} ms "
            f"({len(values)} requests)"
        )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def concurrency(base: str, pid: int, households: list[str], clients: int, seconds: float) -> None:
    counts, errors = [0] * clients, [0] * clients
    sessions = [logged_in(base, "clerk") for _ in range(clients)]
    stop = time.monotonic() + seconds

    def load(index: int) -> None:
        rng = random.Random(index)
        while time.monotonic() < stop:
            try:
                response = sessions[index].get(f"/counter/households/{rng.choice(households)}")
                if response.status_code == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
            except httpx.HTTPError:
                errors[index] += 1

    threads = [threading.Thread(target=load, args=(index,)) for index in range(clients)]
    server_cpu = cpu_seconds(pid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    used_ms = (cpu_seconds(pid) - server_cpu) * 1000 / max(sum(counts), 1)
    print(
        f"  {clients} clients for {elapsed:.0f} s: {sum(counts) / elapsed:,.0f} requests/s, {sum(errors)} errors; "
        f"the server used {used_ms:.2f} ms of CPU per request (one process: at most {1000 / used_ms:,.0f} requests/s "
        f"on a core of its own); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def on_households(directory: Path, households: int, clients: int, seconds: float) -> None:
    print(f"{households:,} households")
    county = generate_county(directory / f"county-{households}", households, 11)
    url = fresh_books(directory, f"books-{households}.db")
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as session:
        import_register(session, county.register_paths[0], user="bench", as_of=county.snapshot_dates[0])
    engine.dispose()
    print(f"  (register imported in {time.perf_counter() - started:.1f} s)")
    add_accounts(url)
    rows = register_rows(county.register_paths[0])
    serve = Serve(url, directory / f"files-{households}")
    with serve as base:
        latency(base, rows)
        concurrency(base, serve.process.pid, sorted({row["户编号"] for row in rows}), clients, seconds)


def upload_against_cli(directory: Path) -> None:
    households = int(UPLOAD_PEOPLE / PEOPLE_PER_HOUSEHOLD)
    county = generate_county(directory / "county-upload", households, 12)
    register, as_of = county.register_paths[0], county.snapshot_dates[0]
    people = len(register_rows(register))
    cli_url = fresh_books(directory, "books-cli.db")
    started = time.perf_counter()
    subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "--db",
            cli_url,
            "import",
            "registry",
            str(register),
            "--as-of",
            as_of.isoformat(),
            "--user",
            "maker",
        ],
        check=True,
        capture_output=True,
    )
    cli_seconds = time.perf_counter() - started
    web_url = fresh_books(directory, "books-web.db")
    add_accounts(web_url)
    with Serve(web_url, directory / "files-upload") as base:
        client = logged_in(base, "maker")
        token = FORM_TOKEN.search(client.get("/work").text).group(1)  # type: ignore[union-attr]
        started = time.perf_counter()
        with register.open("rb") as handle:
            response = client.post(
                "/work/upload/register",
                data={"form_token": token, "as_of": as_of.isoformat()},
                files={"file": (register.name, handle, "text/csv")},
            )
        job = str(response.url).rsplit("/", 1)[-1]
        while not client.get(f"/jobs/{job}/status").json()["finished"]:
            time.sleep(0.1)
        web_seconds = time.perf_counter() - started
        assert client.get(f"/jobs/{job}/status").json()["state"] == "done"
    print(
        f"register of {people:,} people ({register.stat().st_size / 1e6:.1f} MB): CLI import {cli_seconds:.1f} s "
        f"(process start included), web upload and import {web_seconds:.1f} s = {web_seconds / cli_seconds:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, nargs="+", default=[100_000])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--no-upload", action="store_true", help="skip the upload against the CLI import")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as name:
        directory = Path(name)
        if not arguments.no_upload:
            upload_against_cli(directory)
        for households in arguments.households:
            on_households(directory, households, arguments.clients, arguments.seconds)


if __name__ == "__main__":
    main()
