"""Ed25519 signing keys for the tamper-evidence checkpoints: creating the private key file,
loading it, signing, and checking a signature against a stored public key.

The private key is a PEM file (PKCS #8, unencrypted) readable only by its owner: whoever can
read it can sign checkpoints, so it lives outside the database and its backups. The database
keeps only the public key and its fingerprint (SHA-256 of the 32 raw public-key bytes).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr

KEY_FILE_MODE = 0o600
# A PEM Ed25519 key is about 120 bytes; anything far larger is not a key file.
KEY_FILE_BYTES_MAX = 4_096


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key with its public half (raw bytes, hex) and fingerprint."""

    private: Ed25519PrivateKey
    public_hex: str
    fingerprint: str


def public_key_fingerprint(public_hex: str) -> str:
    """The fingerprint of a public key given as 64 hex digits: SHA-256 of its raw bytes."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()


def _signing_key(private: Ed25519PrivateKey) -> SigningKey:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(private, raw.hex(), public_key_fingerprint(raw.hex()))


def key_create(path: Path) -> SigningKey:
    """Write a new private key to ``path`` (mode 0600); refuse when the file exists, so a key
    that signed checkpoints is never overwritten."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise DisburseError(
            tr(
                "{path} exists; a signing key is never overwritten (it signed the checkpoints verify checks). "
                "Choose another --out, or move the old key away yourself",
                path=path,
            )
        ) from None
    except OSError as error:
        raise DisburseError(
            tr("cannot create the key file {path}: {reason}", path=path, reason=error.strerror)
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return _signing_key(private)


def key_load(path: Path) -> tuple[SigningKey | None, str]:
    """The key in ``path``, or ``None`` with the reason it cannot be used: missing, unreadable,
    readable by others than its owner, or not an Ed25519 private key."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None, tr(
            "no signing key file at {path} (`disburse keys init` creates one; DISBURSE_KEY_FILE names it)", path=path
        )
    except OSError as error:
        return None, tr("cannot read the signing key file {path}: {reason}", path=path, reason=error.strerror)
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None, tr(
            "the signing key file {path} is readable by others (mode {mode}); chmod 600 it",
            path=path,
            mode=f"{info.st_mode & 0o777:o}",
        )
    if info.st_size > KEY_FILE_BYTES_MAX:
        return None, tr("{path} is {size} bytes, not an Ed25519 key file", path=path, size=f"{info.st_size:,}")
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        return None, tr("{path} is not a usable private key ({error})", path=path, error=error)
    if not isinstance(private, Ed25519PrivateKey):
        return None, tr("{path} holds a private key that is not Ed25519", path=path)
    return _signing_key(private), ""


def sign(key: SigningKey, message: bytes) -> str:
    """The Ed25519 signature of ``message``, as 128 hex digits."""
    return key.private.sign(message).hex()


def signature_valid(public_hex: str, message: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is the signature of ``message`` by the key ``public_hex``."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
