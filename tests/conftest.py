"""Shared fixtures.

The Home Assistant test plugin ships a `custom_components` package of its own; importing ours here, before the
`hass` fixture mounts its config dir, makes `custom_components.ocpp_csms` resolvable to this checkout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import shutil
import socket
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, get_test_config_dir

import custom_components.ocpp_csms  # noqa: F401
from custom_components.ocpp_csms.const import CERTIFICATE_DIR, CONF_PORT, DOMAIN, STORAGE_KEY, STORAGE_VERSION
from custom_components.ocpp_csms.csms import listener
from custom_components.ocpp_csms.csms.passwords import hash_password
from custom_components.ocpp_csms.csms.registry import SecurityProfile

STATION_PASSWORD = "correct-horse-battery-1"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components in every test."""


@pytest.fixture
def hass_config_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each test's own config folder (a copy of the plugin's, without what the integration writes there).

    The plugin's folder is shared by every test and every xdist worker: the certificates and logs the integration
    keeps in it (CERTIFICATE_DIR) would be made, changed and deleted under another test's feet.
    """
    folder = tmp_path_factory.mktemp("hass") / "config"
    shutil.copytree(get_test_config_dir(), folder, symlinks=True, ignore=shutil.ignore_patterns(CERTIFICATE_DIR))
    return str(folder)


@pytest.fixture(autouse=True)
def no_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """No read timeout: tests move the clock by hours while their stations, which send no Heartbeat, stay connected.

    Three heartbeat intervals of silence would end those connections; the read timeout's own test sets it back.
    """
    monkeypatch.setattr(listener, "READ_TIMEOUT_HEARTBEATS", 10**6)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll until `condition()` holds (the event loop keeps running meanwhile)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def trusted_station(
    station_id: str,
    profile: SecurityProfile = SecurityProfile.BASIC_AUTH,
    password: str | None = STATION_PASSWORD,
) -> dict[str, Any]:
    """A stored station record, as the integration keeps it."""
    return {
        "station_id": station_id,
        "security_profile": int(profile),
        "password_hash": hash_password(password) if password is not None else None,
        "lenient": False,
    }


type SetupIntegration = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture
def setup_integration(hass: HomeAssistant, hass_storage: dict[str, Any], socket_enabled: None) -> SetupIntegration:
    """Set up the central system on a free port, with the given options and trusted stations."""

    async def setup(
        *, options: dict[str, Any] | None = None, stations: list[dict[str, Any]] | None = None
    ) -> MockConfigEntry:
        if stations:
            hass_storage[STORAGE_KEY] = {"version": STORAGE_VERSION, "key": STORAGE_KEY, "data": {"stations": stations}}
        entry = MockConfigEntry(domain=DOMAIN, unique_id=DOMAIN, data={CONF_PORT: free_port()}, options=options or {})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return setup


def ws_url(entry: MockConfigEntry) -> str:
    """The ws:// address of the entry's plain listener."""
    return f"ws://127.0.0.1:{entry.data[CONF_PORT]}/ocpp"
