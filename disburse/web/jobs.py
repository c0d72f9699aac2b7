"""Long work (an import, an allocation, an export, a reconciliation, a verify) runs in a pool of
background threads, so other users' pages are served meanwhile; the page of a job shows its
stage until it finishes, is refused or fails.

A job belongs to the account that started it: only that account sees it. Jobs live in the
server's memory (the newest ``JOBS_KEPT_MAX``); their files are under the job's own folder.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused
from disburse.foundation.i18n import current_language, language, tr, tr_noop

QUEUED, RUNNING, DONE, REFUSED, FAILED = "queued", "running", "done", "refused", "failed"
STATE_NAMES = {
    QUEUED: tr_noop("queued"),
    RUNNING: tr_noop("running"),
    DONE: tr_noop("done"),
    REFUSED: tr_noop("refused"),
    FAILED: tr_noop("failed"),
}
JOB_WAIT_SECONDS = 1.5  # a quick job's result is shown at once, without a progress page
FAILED_MESSAGE = tr_noop(
    "Internal server error: this job did not finish and nothing was written; the error is in the server's log, "
    "please contact the administrator."
)


@dataclass
class Job:
    id: str
    owner: str
    title: str
    view: str  # the template part that shows its result
    workspace: Path
    state: str = QUEUED
    stage: str = ""
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: Any = None
    message: str = ""
    problems: tuple[ImportProblem, ...] = ()
    downloads: dict[str, tuple[Path, str]] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    done_event: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, REFUSED, FAILED)

    @property
    def state_zh(self) -> str:
        """The state's name in the language of the page asking (the key keeps its old name: the
        pages' script reads it)."""
        return tr(STATE_NAMES[self.state])

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def progress(self, stage: str) -> None:
        self.stage = stage

    def offer(self, key: str, path: Path, file_name: str) -> None:
        """Make ``path`` downloadable from the job's page as ``file_name``."""
        self.downloads[key] = (path, file_name)

    def status(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": self.state,
            "state_zh": self.state_zh,
            "stage": self.stage,
            "seconds": round(self.seconds, 1),
            "finished": self.finished,
        }


class JobRunner:
    def __init__(self, workspace_root: Path, workers: int, kept_max: int) -> None:
        self._root = workspace_root
        self._root.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="disburse-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._kept_max = kept_max

    def new(self, owner: str, title: str, view: str) -> Job:
        """A job with an empty folder of its own, not started yet (uploads go into its folder)."""
        job_id = secrets.token_urlsafe(12)
        workspace = self._root / job_id
        workspace.mkdir()
        job = Job(job_id, owner, title, view, workspace)
        with self._lock:
            self._jobs[job_id] = job
            self._forget_oldest()
        return job

    def start(self, job: Job, work: Callable[[Job], Any]) -> Job:
        # The pool's threads do not inherit the request's context: the job's stages and refusals
        # are written in the language of the request that started it.
        self._pool.submit(self._run, job, work, current_language())
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, only for the account that started it."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def of_owner(self, owner: str, limit: int = 10) -> list[Job]:
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.owner == owner]
        return sorted(jobs, key=lambda job: job.started_at, reverse=True)[:limit]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work: Callable[[Job], Any], language_code: str) -> None:
        with language(language_code):
            self._run_in_language(job, work)

    def _run_in_language(self, job: Job, work: Callable[[Job], Any]) -> None:
        job.state, job.started_at = RUNNING, time.time()
        try:
            job.result = work(job)
            job.state = DONE
        except ImportRefused as refused:
            job.state, job.problems, job.message = REFUSED, refused.problems, str(refused)
        except DisburseError as error:
            job.state, job.message = REFUSED, str(error)
            job.problems = tuple(problem for problem in error.errors if isinstance(problem, ImportProblem))
        except FileNotFoundError as error:
            job.state, job.message = REFUSED, tr("no such file: {name}", name=Path(str(error.filename)).name)
        except Exception:  # noqa: BLE001 - a defect: logged for the administrator, never shown
            job.state, job.message = FAILED, tr(FAILED_MESSAGE)
            # The server's log is for the administrator and the developers: English, not the catalog's.
            sys.stderr.write(f"disburse web: job {job.id} ({job.title}) failed:\n{traceback.format_exc()}\n")
        finally:
            job.finished_at = time.time()
            job.done_event.set()

    def _forget_oldest(self) -> None:
        finished = sorted((job for job in self._jobs.values() if job.finished), key=lambda job: job.started_at)
        while len(self._jobs) > self._kept_max and finished:
            old = finished.pop(0)
            del self._jobs[old.id]
            shutil.rmtree(old.workspace, ignore_errors=True)
