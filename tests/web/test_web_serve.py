"""`disburse serve`, as a county starts it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from web_support import free_port

CONSOLE_SCRIPT = Path(sys.executable).parent / "disburse"


def test_serve_starts_on_the_cli_database(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "--db", database_url, "serve", "--port", str(port), "--files", str(tmp_path / "files")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200 and "登录" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert httpx.get(f"http://127.0.0.1:{port}/static/app.js").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/nothing").status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", str(tmp_path / "empty.db"), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1 and "run `disburse init` first" in completed.stderr
