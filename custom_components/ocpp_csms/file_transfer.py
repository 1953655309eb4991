"""Files stations fetch from and send to Home Assistant's own HTTP server: firmware (L01) and logs (N01).

A station cannot log in to Home Assistant, so each transfer gets its own unguessable, expiring URL:

- a firmware file under the config folder is served at `/api/ocpp_csms/firmware/<token>` for the update it was
  offered for (the station may retry or resume its download) until the URL expires or the update ends;
- a log is uploaded to `/api/ocpp_csms/upload/<token>` once (PUT, or POST as multipart form data or a plain body,
  N01.FR.18-19), at most MAX_LOG_BYTES, stored under `config/ocpp_csms/logs/<station>/`, the oldest pruned;
- an administrator downloads a stored log at `/api/ocpp_csms/logs/<station>/<file>` (Home Assistant's own
  authentication, or a signed link from the log's notification or the action's response).

Any other token, an expired or used one, and any other path are answered 404: nothing else under the config folder
is reachable. Files are read and written in the executor, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import logging
from pathlib import Path
import re
import secrets
from typing import IO, Final

from aiohttp import BodyPartReader, web
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.http.const import KEY_HASS_REFRESH_TOKEN_ID, KEY_HASS_USER
from homeassistant.components.websocket_api.connection import current_connection
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView, current_request
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import slugify
from homeassistant.util.hass_dict import HassKey

from .const import CERTIFICATE_DIR, DOMAIN
from .helpers import user_error

_LOGGER = logging.getLogger(__name__)

FIRMWARE_URL: Final = f"/api/{DOMAIN}/firmware/{{token}}"
UPLOAD_URL: Final = f"/api/{DOMAIN}/upload/{{token}}"
LOG_URL: Final = f"/api/{DOMAIN}/logs/{{station}}/{{name}}"
#: Logs live below the config folder, in the integration's own folder.
LOG_DIR: Final = Path(CERTIFICATE_DIR) / "logs"
#: A log upload larger than this is refused (413) and not kept.
MAX_LOG_BYTES: Final = 64 * 1024 * 1024
#: Logs kept per station, and for how long: older ones are deleted when a new one arrives.
MAX_LOGS_PER_STATION: Final = 10
LOG_MAX_AGE: Final = timedelta(days=30)
#: How long a signed download link of a log works.
LOG_LINK_LIFETIME: Final = timedelta(days=1)
CHUNK: Final = 256 * 1024
#: Names of stored logs: what `_log_name` makes.
_STORED_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

DATA_TRANSFERS: HassKey[TransferTokens] = HassKey(f"{DOMAIN}_transfers")


class FirmwareFileError(Exception):
    """A firmware file the user named cannot be served; `reason` is the translation key's suffix."""

    def __init__(self, reason: str) -> None:
        """Why."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StoredLog:
    """A log a station uploaded, as stored below the config folder."""

    station_id: str
    request_id: int
    path: Path
    size: int
    received_at: datetime

    @property
    def url_path(self) -> str:
        """Where an administrator downloads it (unsigned)."""
        return LOG_URL.format(station=self.path.parent.name, name=self.path.name)


@dataclass(slots=True)
class _Download:
    path: Path
    expires: datetime


@dataclass(slots=True)
class _Upload:
    station_id: str
    request_id: int
    directory: Path
    expires: datetime
    stored: asyncio.Future[StoredLog]
    max_bytes: int


@dataclass(slots=True)
class TransferTokens:
    """The tokens of every transfer Home Assistant currently serves; the views look them up here."""

    downloads: dict[str, _Download] = field(default_factory=dict)
    uploads: dict[str, _Upload] = field(default_factory=dict)
    logs_dir: Path = Path()

    def download(self, token: str) -> _Download | None:
        """The file a firmware token serves, while it has not expired."""
        found = self.downloads.get(token)
        if found is None or found.expires <= datetime.now(UTC):
            return None
        return found

    def take_upload(self, token: str) -> _Upload | None:
        """The upload a token allows, used up (a token serves one upload), while it has not expired."""
        found = self.uploads.pop(token, None)
        if found is None or found.expires <= datetime.now(UTC):
            return None
        return found


@callback
def async_register_views(hass: HomeAssistant) -> None:
    """Serve firmware downloads, log uploads and log downloads (once per Home Assistant run)."""
    if DATA_TRANSFERS in hass.data:
        return
    hass.data[DATA_TRANSFERS] = TransferTokens(logs_dir=Path(hass.config.path(str(LOG_DIR))))
    hass.http.register_view(FirmwareView())
    hass.http.register_view(UploadView())
    hass.http.register_view(LogView())


def station_dir_name(station_id: str) -> str:
    """A station's folder name: readable, and unique (the hex of its id), like its stores' keys."""
    return f"{slugify(station_id) or 'station'}_{station_id.encode().hex()[:16]}"


class FileTransfer:
    """The transfers of one config entry's stations: tokens issued here are withdrawn on unload."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Issue tokens in the table the views use (`async_register_views` ran in `async_setup`)."""
        self.hass = hass
        self.tokens = hass.data[DATA_TRANSFERS]
        self._issued: set[str] = set()

    # ---- URLs -------------------------------------------------------------------------------------------

    def base_url(self) -> str:
        """Home Assistant's URL as a station on the local network reaches it; a translated error without one."""
        try:
            return get_url(self.hass, allow_cloud=False, prefer_external=False)
        except NoURLAvailableError as err:
            raise user_error("no_home_assistant_url") from err

    def _token(self) -> str:
        """A new token (256 random bits); tokens of this entry that expired unused are dropped meanwhile."""
        now = datetime.now(UTC)
        for old in list(self._issued):
            transfer = self.tokens.downloads.get(old) or self.tokens.uploads.get(old)
            if transfer is None or transfer.expires <= now:
                self.tokens.downloads.pop(old, None)
                self.tokens.uploads.pop(old, None)
                self._issued.discard(old)
        token = secrets.token_urlsafe(32)
        self._issued.add(token)
        return token

    # ---- firmware -----------------------------------------------------------------------------------

    async def async_resolve_firmware(self, relative: str) -> Path:
        """The firmware file the user named, relative to the config folder; a translated error if not servable."""
        try:
            return await self.hass.async_add_executor_job(
                resolve_config_file, Path(self.hass.config.config_dir), relative
            )
        except FirmwareFileError as err:
            raise user_error(f"firmware_file_{err.reason}", file=relative) from err

    @callback
    def serve_file(self, path: Path, lifetime: timedelta) -> tuple[str, Callable[[], None]]:
        """Serve a resolved file at a new URL for `lifetime`; the URL, and a callable that withdraws it."""
        base = self.base_url()
        token = self._token()
        self.tokens.downloads[token] = _Download(path, datetime.now(UTC) + lifetime)

        def withdraw() -> None:
            self.tokens.downloads.pop(token, None)
            self._issued.discard(token)

        return base + FIRMWARE_URL.format(token=token), withdraw

    # ---- logs ---------------------------------------------------------------------------------------

    @callback
    def expect_upload(
        self, station_id: str, request_id: int, lifetime: timedelta
    ) -> tuple[str, asyncio.Future[StoredLog], Callable[[], None]]:
        """A one-time upload URL for a station's log; the future gets the stored log; a callable withdraws it."""
        base = self.base_url()
        token = self._token()
        stored: asyncio.Future[StoredLog] = self.hass.loop.create_future()
        stored.add_done_callback(_retrieved)
        self.tokens.uploads[token] = _Upload(
            station_id=station_id,
            request_id=request_id,
            directory=self.tokens.logs_dir / station_dir_name(station_id),
            expires=datetime.now(UTC) + lifetime,
            stored=stored,
            max_bytes=MAX_LOG_BYTES,
        )

        def withdraw() -> None:
            self.tokens.uploads.pop(token, None)
            self._issued.discard(token)
            if not stored.done():
                stored.cancel()

        return base + UPLOAD_URL.format(token=token), stored, withdraw

    def signed_log_url(self, log: StoredLog) -> str | None:
        """A download link that works without logging in, for the administrator running the action (else None)."""
        refresh_token_id: str | None = None
        if (connection := current_connection.get()) is not None and connection.refresh_token_id:
            refresh_token_id = connection.refresh_token_id
        elif (request := current_request.get()) is not None and KEY_HASS_REFRESH_TOKEN_ID in request:
            refresh_token_id = request[KEY_HASS_REFRESH_TOKEN_ID]
        if refresh_token_id is None:
            return None
        return async_sign_path(self.hass, log.url_path, LOG_LINK_LIFETIME, refresh_token_id=refresh_token_id)

    async def async_remove_station_logs(self, station_id: str) -> None:
        """Delete the logs of a forgotten station."""
        directory = self.tokens.logs_dir / station_dir_name(station_id)
        await self.hass.async_add_executor_job(_remove_tree, directory)

    @callback
    def withdraw_all(self) -> None:
        """The entry unloads: every URL it issued stops working."""
        for token in self._issued:
            self.tokens.downloads.pop(token, None)
            if (upload := self.tokens.uploads.pop(token, None)) is not None and not upload.stored.done():
                upload.stored.cancel()
        self._issued.clear()


def _retrieved(future: asyncio.Future[StoredLog]) -> None:
    """An upload's outcome nobody waited for is no error to report."""
    if not future.cancelled():
        future.exception()


async def async_remove_all_logs(hass: HomeAssistant) -> None:
    """Delete every stored log (the integration is removed)."""
    await hass.async_add_executor_job(_remove_tree, Path(hass.config.path(str(LOG_DIR))))


# ---- files (executor) ----------------------------------------------------------------------------------


def resolve_config_file(config_dir: Path, relative: str) -> Path:
    """A regular file below the config folder, neither hidden (`.storage`, ...) nor `secrets.yaml`."""
    base = config_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or path == base:
        raise FirmwareFileError("outside")
    inside = path.relative_to(base).parts
    if any(part.startswith(".") for part in inside) or path.name == "secrets.yaml" or inside[0] == CERTIFICATE_DIR:
        raise FirmwareFileError("not_allowed")
    if not path.is_file():
        raise FirmwareFileError("missing")
    return path


def _remove_tree(directory: Path) -> None:
    if not directory.is_dir():
        return
    for child in sorted(directory.rglob("*"), reverse=True):
        if child.is_dir():
            child.rmdir()
        else:
            child.unlink(missing_ok=True)
    directory.rmdir()


def _log_name(filename: str | None, received_at: datetime) -> str:
    """A safe name for a stored log: the time it arrived and the station's own file name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "log").name).strip("._-")[:120] or "log"
    return f"{received_at:%Y%m%dT%H%M%SZ}-{cleaned}"


def _open_part(directory: Path, name: str) -> tuple[Path, IO[bytes]]:
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.part"
    return partial, partial.open("wb")


def _finish(handle: IO[bytes], partial: Path, final: Path | None) -> None:
    """Close a part file and keep it as `final`, or delete it (None)."""
    handle.close()
    if final is None:
        partial.unlink(missing_ok=True)
    else:
        partial.replace(final)


def _prune(directory: Path, now: datetime) -> None:
    """Keep the newest MAX_LOGS_PER_STATION logs of a station, none older than LOG_MAX_AGE."""
    logs = sorted(
        (path for path in directory.iterdir() if path.is_file() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    oldest = (now - LOG_MAX_AGE).timestamp()
    for index, path in enumerate(logs):
        if index >= MAX_LOGS_PER_STATION or path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


# ---- views ---------------------------------------------------------------------------------------------


class UploadRefusedError(Exception):
    """An upload that was not kept; `reason`: too_large, no_file or interrupted; `limit`: the size limit."""

    def __init__(self, reason: str, limit: int) -> None:
        """Why."""
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class FirmwareView(HomeAssistantView):
    """A firmware file, for the station holding its token (no login: the token is the credential)."""

    url = FIRMWARE_URL
    name = f"api:{DOMAIN}:firmware"
    requires_auth = False

    async def get(self, request: web.Request, token: str) -> web.StreamResponse:
        """The file (ranges supported, for a station that resumes), or 404."""
        download = request.app[KEY_HASS].data[DATA_TRANSFERS].download(token)
        if download is None:
            raise web.HTTPNotFound
        return web.FileResponse(download.path, chunk_size=CHUNK)


class UploadView(HomeAssistantView):
    """A station's log upload (N01.FR.18: PUT and POST; N01.FR.19: POST as multipart form data)."""

    url = UPLOAD_URL
    name = f"api:{DOMAIN}:upload"
    requires_auth = False

    async def put(self, request: web.Request, token: str) -> web.Response:
        """The body is the log."""
        return await self._upload(request, token)

    async def post(self, request: web.Request, token: str) -> web.Response:
        """Multipart form data (the first file part is the log), or a plain body."""
        return await self._upload(request, token)

    async def _upload(self, request: web.Request, token: str) -> web.Response:
        hass = request.app[KEY_HASS]
        upload = hass.data[DATA_TRANSFERS].take_upload(token)
        if upload is None:
            raise web.HTTPNotFound
        if request.content_length is not None and request.content_length > upload.max_bytes:
            return _refuse(upload, "too_large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        filename: str | None = None
        reader: web.Request | BodyPartReader = request
        if request.content_type.startswith("multipart/"):
            part = await _file_part(request)
            if part is None:
                return _refuse(upload, "no_file", HTTPStatus.BAD_REQUEST)
            filename, reader = part.filename, part
        received_at = datetime.now(UTC)
        name = _log_name(filename, received_at)
        final = upload.directory / name
        partial, handle = await hass.async_add_executor_job(_open_part, upload.directory, name)
        size = 0
        try:
            while chunk := await _read_chunk(reader):
                size += len(chunk)
                if size > upload.max_bytes:
                    await hass.async_add_executor_job(_finish, handle, partial, None)
                    return _refuse(upload, "too_large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                await hass.async_add_executor_job(handle.write, chunk)
        except BaseException:
            await asyncio.shield(hass.async_add_executor_job(_finish, handle, partial, None))
            _refuse(upload, "interrupted", HTTPStatus.BAD_REQUEST)
            raise
        await hass.async_add_executor_job(_finish, handle, partial, final)
        await hass.async_add_executor_job(_prune, upload.directory, received_at)
        _LOGGER.info("%s: log of %d bytes received (request %d)", upload.station_id, size, upload.request_id)
        if not upload.stored.done():
            upload.stored.set_result(StoredLog(upload.station_id, upload.request_id, final, size, received_at))
        return web.Response(status=HTTPStatus.CREATED)


class LogView(HomeAssistantView):
    """A stored log, for administrators."""

    url = LOG_URL
    name = f"api:{DOMAIN}:logs"
    requires_auth = True

    async def get(self, request: web.Request, station: str, name: str) -> web.StreamResponse:
        """The log as a download."""
        if not request[KEY_HASS_USER].is_admin:
            raise Unauthorized
        if not _STORED_NAME.match(station) or not _STORED_NAME.match(name):
            raise web.HTTPNotFound
        hass = request.app[KEY_HASS]
        path = hass.data[DATA_TRANSFERS].logs_dir / station / name
        if not await hass.async_add_executor_job(path.is_file):
            raise web.HTTPNotFound
        return web.FileResponse(
            path, chunk_size=CHUNK, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )


async def _file_part(request: web.Request) -> BodyPartReader | None:
    """The first part of a multipart body that carries a file."""
    multipart = await request.multipart()
    while (part := await multipart.next()) is not None:
        if isinstance(part, BodyPartReader) and part.filename is not None:
            return part
    return None


async def _read_chunk(reader: web.Request | BodyPartReader) -> bytes:
    if isinstance(reader, BodyPartReader):
        return await reader.read_chunk(CHUNK)
    return await reader.content.read(CHUNK)


def _refuse(upload: _Upload, reason: str, status: HTTPStatus) -> web.Response:
    """Answer an upload that is not kept; its waiter learns why."""
    _LOGGER.warning("%s: log upload refused (%s, limit %d bytes)", upload.station_id, reason, upload.max_bytes)
    if not upload.stored.done():
        upload.stored.set_exception(UploadRefusedError(reason, upload.max_bytes))
    return web.Response(status=status)
