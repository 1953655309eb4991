"""Which stations Home Assistant trusts, and with what: approval, passwords, forgetting.

No station is trusted until the user approves it (a discovered device) or the policy trusts it on first use. A
station approved without any credentials is given a random password at once (A01), so that no other device can
use its identity; if it refuses, a repair explains the risk.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow, issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DISCOVERY_UNIQUE_ID_PREFIX, DOMAIN, STORAGE_KEY, STORAGE_VERSION
from .context import StationContext
from .csms.central_system import PasswordRotationError, StationListener
from .csms.registry import SecurityProfile, StationRecord, StationRegistry
from .csms.station import Station
from .helpers import translated_errors
from .protocol.session import CallFailed

_LOGGER = logging.getLogger(__name__)

#: How long writes of the trusted stations are coalesced.
SAVE_DELAY = 1.0


def no_password_issue_id(station_id: str) -> str:
    """Repair issue id: the station connects without credentials and refused a password."""
    return f"no_password_{station_id}"


def registry_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    """Where the trusted stations are kept (private: it holds password hashes)."""
    return Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)


async def async_load_registry(store: Store[dict[str, Any]]) -> StationRegistry:
    """The trusted stations, as stored."""
    data = await store.async_load() or {}
    return StationRegistry([StationRecord.from_dict(item) for item in data.get("stations", [])])


def is_ignored(hass: HomeAssistant, station_id: str) -> bool:
    """Whether the user ignored this station's discovery: it is then rejected."""
    unique_id = f"{DISCOVERY_UNIQUE_ID_PREFIX}{station_id}"
    return any(
        entry.unique_id == unique_id and entry.source == SOURCE_IGNORE
        for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=True)
    )


class StationTrust(StationListener):
    """The trusted stations of one config entry, persisted; approval requests shown as discovered devices."""

    def __init__(self, context: StationContext, store: Store[dict[str, Any]]) -> None:
        """Persist the central system's registry on every change."""
        self.context = context
        self.store = store
        self.registry = context.central.registry
        self.registry.on_change = self._schedule_save

    @callback
    def _schedule_save(self) -> None:
        self.store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {"stations": self.registry.as_list()}

    async def async_save_now(self) -> None:
        """Write the trusted stations at once (on unload)."""
        await self.store.async_save(self._data_to_save())

    # ---- what stations do ---------------------------------------------------------------------------------

    @callback
    def approval_requested(self, station: Station) -> None:
        """Show the unknown station as a discovered device the user can add or ignore."""
        boot = station.boot
        discovery_flow.async_create_flow(
            self.context.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "station_id": station.station_id,
                "vendor": boot.vendor if boot else "",
                "model": boot.model if boot else "",
                "serial_number": (boot.serial_number if boot else None) or "",
            },
        )

    @callback
    def station_booted(self, station: Station) -> None:
        """A trusted station without credentials gets a password as soon as it is accepted (A01)."""
        record = self.registry.get(station.station_id)
        if record is not None and record.security_profile is SecurityProfile.NONE:
            self.context.background(self._async_give_password(station.station_id), f"{DOMAIN} first password")

    async def _async_give_password(self, station_id: str) -> None:
        try:
            await self.context.central.rotate_password(station_id)
        except (PasswordRotationError, CallFailed) as err:
            status = err.status if isinstance(err, PasswordRotationError) else type(err).__name__
            _LOGGER.warning("%s connects without a password and did not take one (%s)", station_id, status)
            ir.async_create_issue(
                self.context.hass,
                DOMAIN,
                no_password_issue_id(station_id),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="no_password",
                translation_placeholders={"station": station_id, "status": status},
                data={"station_id": station_id},
            )
            return
        _LOGGER.info("%s connected without credentials and now has a password (security profile 1)", station_id)
        ir.async_delete_issue(self.context.hass, DOMAIN, no_password_issue_id(station_id))

    # ---- what the user decides ----------------------------------------------------------------------------

    async def async_approve(self, station_id: str) -> None:
        """Trust a station that waits for approval; it is asked to boot again and accepted then."""
        await self.context.central.approve(station_id)

    async def async_rotate_password(self, station_id: str) -> None:
        """Give the station a new random password (A01); a translated error when it does not take it."""
        self.context.connected(station_id)
        with translated_errors(station_id):
            await self.context.central.rotate_password(station_id)

    async def async_forget(self, station_id: str) -> None:
        """Stop trusting a station, and delete what was stored of it."""
        await self.context.central.forget(station_id)
        await self.context.runtimes.async_forget(station_id)
        # Its repairs (reboot required, no password) carry its id.
        for (domain, issue_id), issue in list(ir.async_get(self.context.hass).issues.items()):
            if domain == DOMAIN and issue.data is not None and issue.data.get("station_id") == station_id:
                ir.async_delete_issue(self.context.hass, DOMAIN, issue_id)
        _LOGGER.info("Station %s forgotten: it must be approved again to connect", station_id)
