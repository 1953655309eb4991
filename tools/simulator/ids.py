"""Station ids: which ones are valid, and which ones a run claims so that two runs never share one by accident.

A central system keeps one connection per station id: a second connection with the same id replaces the first
(OCPP 2.0.1 Part 4). Two simulator runs with the same ids would keep kicking each other off. So every run claims
its ids on this machine: one lock file per id (`flock`, held as long as the process lives and released by the
kernel however it ends) in the user's cache directory. A run with the default numbering takes the first range
of ids no other run holds; alone, a run always gets `sim-001`, `sim-002`, ... (the same ids, hence the same cards
and the same approvals in the central system, run after run). Ids given explicitly are used exactly as given;
they are claimed too, so that runs with the default numbering stay clear of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
import tempfile
from typing import Final
from urllib.parse import quote

from .device_model import IDENTIFIER_CHARACTERS
from .fleet import station_ids

#: identifierString[48] (Part 2 "Primitive datatypes", Part 4 §3.2).
MAX_ID_LENGTH: Final = 48
#: identifierString's characters except `:`, which HTTP Basic auth forbids in the username (A00.FR.202).
ID_CHARACTERS: Final = IDENTIFIER_CHARACTERS - {":"}
#: The default numbering looks this far for a free range before it gives up.
MAX_NUMBER: Final = 99_999


def id_problem(station_id: str) -> str | None:
    """Why `station_id` is no valid station identity (None: it is)."""
    if not 1 <= len(station_id) <= MAX_ID_LENGTH:
        return f"station id {station_id!r} has {len(station_id)} characters; at most {MAX_ID_LENGTH} are allowed"
    wrong = sorted({c for c in station_id if c not in ID_CHARACTERS})
    if wrong:
        return (
            f"station id {station_id!r} contains {''.join(wrong)!r}; "
            "allowed are letters, digits and *-_=+|@. (identifierString without ':')"
        )
    return None


def claims_dir() -> Path:
    """Where runs claim their ids: `$OCPP_CSMS_CACHE/simulator-ids` (the project's cache, as `scripts/setup`)."""
    cache = os.environ.get("OCPP_CSMS_CACHE")
    if not cache:
        try:
            base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        except RuntimeError:  # no home directory: the temporary directory, one per user
            base = str(Path(tempfile.gettempdir()) / f"ocpp_csms-cache-{os.getuid()}")
        cache = str(Path(base) / "ocpp_csms")
    return Path(cache) / "simulator-ids"


class IdClaims:
    """The station ids this process holds: one exclusively `flock`ed file per id."""

    def __init__(self, directory: Path) -> None:
        """No id claimed yet; the directory is created on the first claim."""
        self.directory = directory
        self._held: dict[str, int] = {}

    def _path(self, station_id: str) -> Path:
        return self.directory / f"{quote(station_id, safe='')}.lock"

    @property
    def held(self) -> list[str]:
        """The ids claimed, in the order they were claimed."""
        return list(self._held)

    def claim(self, station_id: str) -> bool:
        """Claim one id: False when another process holds it. OSError when the directory is not writable."""
        if station_id in self._held:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(station_id)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            # The previous holder removes its file before it lets go: a lock on a removed file claims nothing.
            try:
                opened, current = os.fstat(fd), path.stat()
                same = (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._held[station_id] = fd
        return True

    def holder(self, station_id: str) -> str:
        """Who holds an id another process claimed, for messages: "pid N" or "another run"."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self._path(station_id).read_text(encoding="ascii").strip())
            return f"pid {pid}"
        return "another run"

    def claim_free_range(self, count: int, prefix: str) -> int:
        """Claim `count` consecutive ids PREFIX<n>... no other run holds, n as small as possible; returns n."""
        first = 1
        while first <= MAX_NUMBER:
            wanted = station_ids(count, prefix, first)
            for index, station_id in enumerate(wanted):
                if not self.claim(station_id):
                    self.release(wanted[:index])
                    first += index + 1
                    break
            else:
                return first
        raise OSError(f"no {count} free consecutive station ids {prefix}<number> below {MAX_NUMBER}")

    def claim_given(self, wanted: list[str]) -> dict[str, str]:
        """Claim ids given explicitly; those another run holds stay in use: {id: its holder} for a warning."""
        return {station_id: self.holder(station_id) for station_id in wanted if not self.claim(station_id)}

    def release(self, ids: list[str] | None = None) -> None:
        """Let go of some ids (default: all): the file is removed first, then unlocked."""
        for station_id in list(self._held) if ids is None else ids:
            fd = self._held.pop(station_id, None)
            if fd is None:
                continue
            with contextlib.suppress(OSError):
                self._path(station_id).unlink()
            os.close(fd)
