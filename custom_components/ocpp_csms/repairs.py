"""Repair flows: reset a station that needs a reboot; switch to essential entities near the entity limit.

A station that accepted a setting needing a reboot can be reset from the repair; near Home Assistant's limit of
enabled entities per config entry, the entry can switch to the essential entity detail.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import probatio

from .const import CONF_ENTITY_DETAIL
from .entity_detail import ENTITY_LIMIT_ISSUE, EntityDetail
from .protocol.v201.enums import Reset
from .runtime_data import OcppCsmsConfigEntry


class ConfirmRepairFlow(RepairsFlow):
    """A repair that asks once, with the issue's placeholders, and then acts (`async_fix`)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Ask before acting."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Act when the user confirms."""
        issue = ir.async_get(self.hass).async_get_issue(self.handler, self.issue_id)
        placeholders = dict(issue.translation_placeholders or {}) if issue else self.default_placeholders()
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", data_schema=probatio.Schema({}), description_placeholders=placeholders
            )
        return await self.async_fix(placeholders)

    def default_placeholders(self) -> dict[str, str]:
        """Placeholders when the issue is gone meanwhile."""
        return {}

    async def async_fix(self, placeholders: dict[str, str]) -> RepairsFlowResult:
        """Do what the repair offers."""
        raise NotImplementedError


class RebootRequiredRepairFlow(ConfirmRepairFlow):
    """Offer to reset the station once it is idle (B11, OnIdle), so that the setting takes effect."""

    def __init__(self, entry_id: str, station_id: str) -> None:
        """Which station, of which config entry."""
        self.entry_id = entry_id
        self.station_id = station_id

    def default_placeholders(self) -> dict[str, str]:
        """The station, at least."""
        return {"station": self.station_id}

    async def async_fix(self, placeholders: dict[str, str]) -> RepairsFlowResult:
        """Reset the station."""
        entry: OcppCsmsConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if not entry.runtime_data.context.is_connected(self.station_id):
            return self.async_abort(reason="station_not_connected", description_placeholders=placeholders)
        try:
            await entry.runtime_data.commands.async_reset(self.station_id, Reset.ON_IDLE)
        except HomeAssistantError:
            return self.async_abort(reason="reset_failed", description_placeholders=placeholders)
        return self.async_create_entry(data={})


class EntityLimitRepairFlow(ConfirmRepairFlow):
    """Switch the entry to the essential entity detail (the entry reloads with it)."""

    def __init__(self, entry_id: str) -> None:
        """Which config entry."""
        self.entry_id = entry_id

    async def async_fix(self, placeholders: dict[str, str]) -> RepairsFlowResult:
        """Switch the option."""
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None:
            return self.async_abort(reason="not_loaded")
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_ENTITY_DETAIL: EntityDetail.ESSENTIAL.value}
        )
        return self.async_create_entry(data={})


async def async_create_fix_flow(hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None) -> RepairsFlow:
    """The fix flow of a repair issue of this integration."""
    if data is None:  # pragma: no cover - every fixable issue of ours carries its data
        raise ValueError(f"issue {issue_id} has no data")
    if issue_id == ENTITY_LIMIT_ISSUE:
        return EntityLimitRepairFlow(str(data["entry_id"]))
    return RebootRequiredRepairFlow(str(data["entry_id"]), str(data["station_id"]))
