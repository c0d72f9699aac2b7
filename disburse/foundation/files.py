"""File digests: one streamed SHA-256 for every file the engine reads or writes, so a register of
a million rows is never held in memory just to be hashed."""

from __future__ import annotations

import hashlib
import os

READ_CHUNK_BYTES = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
