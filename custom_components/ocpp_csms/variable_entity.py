"""Base of the entities that show (and set) one variable of a station's device model."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .entity import OcppStationEntity
from .hub import OcppCsmsHub, evse_identifier
from .station.device_model import VariableInfo, VariableKey
from .station.variable_kinds import EntitySpec, Value, format_value, parse_value
from .station_messages import variables_signal

CATEGORIES = {"config": EntityCategory.CONFIG, "diagnostic": EntityCategory.DIAGNOSTIC}


def variable_name(key: VariableKey) -> str:
    """A readable name for a variable without a curated translation: component, instances, variable."""
    parts = [key.component]
    if key.component_instance:
        parts.append(key.component_instance)
    if key.evse_id is not None and key.component not in ("EVSE", "Connector"):
        parts.append(f"EVSE {key.evse_id}")
    if key.connector_id is not None:
        parts.append(f"connector {key.connector_id}")
    parts.append(key.variable)
    if key.variable_instance:
        parts.append(key.variable_instance)
    return " ".join(parts)


class OcppVariableEntity(OcppStationEntity):
    """An entity whose state is a variable's Actual value; it shows on the EVSE's device for EVSE variables."""

    def __init__(self, hub: OcppCsmsHub, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """Name, category and defaults from the variable's spec."""
        self.hub = hub
        self.station_id = station_id
        self.key = key
        self.spec = spec
        self._attr_unique_id = f"{station_id}_var_{key.slug}"
        if spec.translation_key is not None:
            self._attr_translation_key = spec.translation_key
            if key.variable_instance:
                self._attr_translation_placeholders = {"instance": key.variable_instance}
        else:
            self._attr_name = variable_name(key)
        self._attr_entity_category = CATEGORIES.get(spec.category or "")
        self._attr_entity_registry_enabled_default = spec.enabled_by_default
        if spec.icon:
            self._attr_icon = spec.icon
        device = evse_identifier(station_id, key.evse_id) if key.evse_id else station_id
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, device)})
        self._last_value: Value | None = None

    @property
    def info(self) -> VariableInfo | None:
        """The variable as the station last reported it."""
        runtime = self.hub.runtimes.get(self.station_id)
        return runtime.device_model.get(self.key) if runtime else None

    @property
    def variable_value(self) -> Value | None:
        """The Actual value, typed."""
        info = self.info
        if info is None:
            return None
        characteristics = info.characteristics
        return parse_value(info.value, characteristics.data_type if characteristics else None)

    @property
    def available(self) -> bool:
        """Available while the station is connected and reports the variable."""
        return super().available and self.info is not None

    async def async_added_to_hass(self) -> None:
        """Follow the station's variable updates; keep the value current while enabled."""
        await super().async_added_to_hass()
        self._last_value = self.variable_value
        self.hub.variables.entity_enabled(self.station_id, self.key)
        self.async_on_remove(lambda: self.hub.variables.entity_removed(self.station_id, self.key))
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, variables_signal(self.hub.entry.entry_id, self.station_id), self._handle_variables
            )
        )

    @callback
    def _handle_variables(self) -> None:
        """Write the state only when this variable's value changed (coalesced updates)."""
        value = self.variable_value
        if value != self._last_value:
            self._last_value = value
            self.async_write_ha_state()

    async def async_write_value(self, value: Value) -> None:
        """Set the variable on the station (SetVariables, batched); a translated error if it refuses."""
        info = self.info
        data_type = info.characteristics.data_type if info and info.characteristics else None
        await self.hub.variables.async_set(self.station_id, self.key, format_value(value, data_type))
