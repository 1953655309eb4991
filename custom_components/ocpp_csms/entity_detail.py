"""Which entities a station gets: all of them (its whole device model) or the essential few (a large fleet).

`full` (the default) gives every reported variable an entity, besides the session, meter and control entities.
`essential` gives each station its connectivity and each EVSE what charging and the Energy dashboard need:
charging state, connector status, power, lifetime and session energy, the current limit, the charging switch and
the charging mode (the descriptions whose `has_fn` says so). A station then costs Home Assistant a tenth of the
memory, and a thousand one-EVSE stations stay under Home Assistant's limit of 10,000 enabled entities per config
entry. The device model is still read, stored and used (smart charging capabilities, `get_variables` /
`set_variables`, diagnostics); only its entities are left out. So is the energy manager's state sensor (each
entity costs Home Assistant about 10 kB: `scripts/bench scale --tracemalloc`): what the manager does with an EVSE
and why is in the diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
from homeassistant.helpers.event import async_call_later

from .const import CONF_ENTITY_DETAIL, DOMAIN


class EntityDetail(StrEnum):
    """The option's values."""

    FULL = "full"
    ESSENTIAL = "essential"


def entity_detail_from(options: Mapping[str, Any]) -> EntityDetail:
    """The entry's choice (`full` when unset or unknown)."""
    try:
        return EntityDetail(options.get(CONF_ENTITY_DETAIL, EntityDetail.FULL))
    except ValueError:
        return EntityDetail.FULL


#: Home Assistant refuses new enabled entities of a config entry beyond this many; the repair warns at 90 %.
ENTITY_LIMIT: Final = MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
ENTITY_LIMIT_WARNING: Final = ENTITY_LIMIT * 9 // 10
ENTITY_LIMIT_ISSUE: Final = "entity_limit"
#: Entities arrive in bursts (a station approved, an inventory reported): count once they are all in.
CHECK_DELAY: Final = 10.0


@callback
def async_check_entity_limit(hass: HomeAssistant, entry_id: str, detail: EntityDetail) -> None:
    """Raise a repair issue while the entry's enabled entities near Home Assistant's limit under `full`."""
    enabled = er.async_get(hass).entities.get_enabled_count_for_config_entry_id(entry_id)
    if detail is EntityDetail.FULL and enabled >= ENTITY_LIMIT_WARNING:
        ir.async_create_issue(
            hass,
            DOMAIN,
            ENTITY_LIMIT_ISSUE,
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ENTITY_LIMIT_ISSUE,
            translation_placeholders={"enabled": str(enabled), "limit": str(ENTITY_LIMIT)},
            data={"entry_id": entry_id},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, ENTITY_LIMIT_ISSUE)


class EntityLimitCheck:
    """Checks the entity limit once a burst of new entities is in (debounced), and on unload stops."""

    def __init__(self, hass: HomeAssistant, entry_id: str, detail: EntityDetail) -> None:
        """Nothing scheduled yet."""
        self.hass = hass
        self.entry_id = entry_id
        self.detail = detail
        self._cancel: CALLBACK_TYPE | None = None

    @callback
    def schedule(self) -> None:
        """Check in CHECK_DELAY seconds (later calls meanwhile join that check)."""
        if self._cancel is None:
            self._cancel = async_call_later(self.hass, CHECK_DELAY, self._run)

    @callback
    def _run(self, _now: datetime) -> None:
        self._cancel = None
        async_check_entity_limit(self.hass, self.entry_id, self.detail)

    @callback
    def cancel(self) -> None:
        """Drop a scheduled check."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
