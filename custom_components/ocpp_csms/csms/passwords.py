"""Station passwords for HTTP Basic authentication (security profiles 1 and 2, Part 2 A00 and A01).

The central system stores only salted scrypt hashes (A01.FR.08) and never logs a password (A01.FR.09).
Hashing is deliberately slow (about 20 ms): `hash_password`, `verify_password` and `PasswordVerifier.verify`
are plain synchronous functions that the caller MUST run in an executor, never on the event loop.
`PasswordVerifier.check_cached` is the microsecond fast path the event loop may call directly;
`PasswordVerifier.async_verify` and `async_hash` run the slow path on the verifier's own small thread pool.
"""

from __future__ import annotations

import asyncio
import base64
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
import contextlib
import hashlib
import hmac
import secrets
import string
import threading
from typing import Final

#: A00.FR.205 / A00.FR.304: at least 16 characters.
PASSWORD_MIN_LENGTH: Final = 16
#: Errata 2025-09 on A00.FR.205 / A00.FR.304: the maximum is the station's BasicAuthPassword maxLimit, 40..64.
PASSWORD_MAX_LENGTH: Final = 64
#: Every station accepts this many characters (the original A00.FR.205 limit, the lowest allowed maxLimit).
PASSWORD_PORTABLE_MAX_LENGTH: Final = 40
#: passwordString (Part 2 "Primitive datatypes"): letters, digits and these symbols.
PASSWORD_SYMBOLS: Final = "*-_=:+|@."
PASSWORD_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + PASSWORD_SYMBOLS)
#: Generated passwords use letters and digits only: 5.95 bits each, easy to type on a station's keypad or web UI.
GENERATED_ALPHABET: Final = string.ascii_letters + string.digits

#: scrypt cost: n=2**13, r=8, p=1 uses 8 MiB and about 19 ms of one core on the reference machine, slow enough
#: against offline guessing of leaked hashes, fast enough for 50 stations connecting at once in an executor.
SCRYPT_N: Final = 2**13
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
#: scrypt runs on a pool of its own: a storm of (re)connecting stations (after a restart, every password is
#: verified once) neither queues ahead of the host's other executor jobs (file I/O) nor leaves a scrypt buffer
#: in the malloc arena of each of a shared executor's many threads. Two workers: scrypt is CPU-bound.
SCRYPT_WORKERS: Final = 2
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
_SCHEME: Final = "scrypt"
# Upper bounds accepted when reading a stored hash, so a corrupted or hostile store cannot make verification
# allocate gigabytes or spin for minutes.
_MAX_N: Final = 2**20
_MAX_R: Final = 32
_MAX_P: Final = 16
_MAX_MEMORY: Final = 256 * 1024 * 1024


def is_valid_password(password: str, *, max_length: int = PASSWORD_MAX_LENGTH) -> bool:
    """Whether `password` is a passwordString of acceptable length (A00.FR.205, A00.FR.304, errata 2025-09).

    Use `max_length=PASSWORD_PORTABLE_MAX_LENGTH` for a password about to be sent to a station whose
    BasicAuthPassword maxLimit is unknown. Do not use this to screen connection attempts: compare the
    presented password with the stored hash, whatever it looks like.
    """
    return PASSWORD_MIN_LENGTH <= len(password) <= max_length and all(c in PASSWORD_CHARACTERS for c in password)


def generate_password(length: int = 32) -> str:
    """A random password for a station's BasicAuthPassword (A01.FR.06, A01.FR.07): letters and digits only.

    32 characters give 190 bits of entropy and fit every station (maxLimit is at least 40).
    """
    if not PASSWORD_MIN_LENGTH <= length <= PASSWORD_MAX_LENGTH:
        raise ValueError(f"password length must be {PASSWORD_MIN_LENGTH}..{PASSWORD_MAX_LENGTH}, not {length}")
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(length))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=length)


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`: `scrypt$n$r$p$salt_b64$hash_b64` (A01.FR.08).

    CPU- and memory-heavy (about 20 ms, 8 MiB): run it in an executor.
    """
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, length=HASH_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """The scrypt parameters, salt and digest of a stored hash, or None when it is malformed or out of bounds."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    scheme_n, scheme_r, scheme_p, salt_b64, digest_b64 = parts[1:]
    if not all(field.isascii() and field.isdigit() for field in (scheme_n, scheme_r, scheme_p)):
        return None
    n, r, p = int(scheme_n), int(scheme_r), int(scheme_p)
    within_bounds = (
        2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P
    ) and 128 * n * r + 128 * r * p <= _MAX_MEMORY // 2
    try:
        salt = base64.b64decode(salt_b64, validate=True)
        digest = base64.b64decode(digest_b64, validate=True)
    except ValueError:  # binascii.Error included
        return None
    if not within_bounds or len(salt) < 8 or not 16 <= len(digest) <= 64:
        return None
    return n, r, p, salt, digest


def is_password_hash(stored: str) -> bool:
    """Whether `stored` is a well-formed hash this module can verify against (cheap; no hashing)."""
    return _parse_hash(stored) is not None


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the `stored` hash; False for a malformed or tampered hash string.

    Constant-time comparison. CPU- and memory-heavy (one scrypt run): run it in an executor.
    """
    parsed = _parse_hash(stored)
    if parsed is None:
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_scrypt(password, salt, n=n, r=r, p=p, length=len(digest)), digest)


class PasswordVerifier:
    """Password verification with a per-station memory of the last success, so reconnections cost microseconds.

    For each station the verifier keeps the stored hash it last verified against and an HMAC-SHA256, under a
    key drawn at random for this process, of (station id, stored hash, password). A repeat of the same
    password against the same stored hash is recognised by recomputing that HMAC: no scrypt run, and nothing
    that would help recover the password is kept (the key never leaves memory). A different stored hash
    (password changed, A01.FR.03) or a different password misses the cache and pays the full scrypt cost;
    failures are never cached. At most `max_entries` stations are remembered (least recently verified dropped).

    Thread-safe: `verify` runs in executor threads while the event loop calls `check_cached`.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        """Start with an empty memory and a fresh random key."""
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._key = secrets.token_bytes(32)
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The verifier's scrypt threads (started on first use; idle ones cost nothing but their stacks)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=SCRYPT_WORKERS, thread_name_prefix="ocpp_csms_scrypt")
        return self._executor

    def close(self) -> None:
        """Stop the scrypt threads, waiting for running work (they start again on the next use)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def async_verify(self, station_id: str, password: str, stored: str | Sequence[str]) -> bool:
        """`verify` without blocking the event loop: the cache first, scrypt on the verifier's threads."""
        if self.check_cached(station_id, password, stored):
            return True
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self.verify, station_id, password, stored
        )

    async def async_hash(self, password: str) -> str:
        """`hash_password` on the verifier's threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, hash_password, password)

    def __len__(self) -> int:
        """How many stations are remembered."""
        return len(self._entries)

    def _tag(self, station_id: str, stored: str, password: str) -> bytes:
        message = b"\0".join(part.encode("utf-8", "surrogatepass") for part in (station_id, stored, password))
        return hmac.digest(self._key, message, "sha256")

    def check_cached(self, station_id: str, password: str, stored: str | Sequence[str]) -> bool:
        """True when this password was last verified for this station against one of the `stored` hashes.

        Cheap (one HMAC): safe on the event loop. False means "unknown", not "wrong": call `verify` then.
        `stored` may list several hashes, e.g. the current and the previous password while a change is not
        yet confirmed by the station (A01.FR.04).
        """
        candidates = (stored,) if isinstance(stored, str) else stored
        with self._lock:
            entry = self._entries.get(station_id)
            if entry is not None and entry[0] not in candidates:
                # The stored hash changed (A01.FR.03): what was verified against the old one no longer counts.
                del self._entries[station_id]
                entry = None
        if entry is None:
            return False
        if not hmac.compare_digest(self._tag(station_id, entry[0], password), entry[1]):
            return False
        with self._lock, contextlib.suppress(KeyError):  # forgotten meanwhile by another thread
            self._entries.move_to_end(station_id)
        return True

    def verify(self, station_id: str, password: str, stored: str | Sequence[str]) -> bool:
        """Whether `password` matches one of the `stored` hashes for this station; remembers a success.

        Fast when `check_cached` would succeed; otherwise one scrypt run per candidate hash: run it in an
        executor. A malformed hash never matches.
        """
        if self.check_cached(station_id, password, stored):
            return True
        candidates = (stored,) if isinstance(stored, str) else stored
        for candidate in candidates:
            if verify_password(password, candidate):
                tag = self._tag(station_id, candidate, password)
                with self._lock:
                    self._entries[station_id] = (candidate, tag)
                    self._entries.move_to_end(station_id)
                    while len(self._entries) > self._max_entries:
                        self._entries.popitem(last=False)
                return True
        return False

    def forget(self, station_id: str) -> None:
        """Drop what is remembered for a station (e.g. when it is removed or its password is reset)."""
        with self._lock:
            self._entries.pop(station_id, None)

    def clear(self) -> None:
        """Forget every station."""
        with self._lock:
            self._entries.clear()
