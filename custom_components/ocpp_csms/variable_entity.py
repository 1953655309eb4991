"""Entities of a station's device model variables: one per variable, on the platform its kind says.

Their descriptions are made from the HA-free `EntitySpec` of each variable; they follow the station's variable
updates, keep their value current while enabled (monitors or polling), and write through batched SetVariables.
"""

from __future__ import annotations

from typing import Any, override

from homeassistant.const import EntityCategory
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.util.signal_type import SignalType

from .devices import device_identifier
from .entity import OcppEntity, OcppEntityDescription, StationView
from .runtime_data import OcppCsmsRuntimeData
from .signals import station_signal, variables_signal
from .station.device_model import VariableInfo, VariableKey
from .station.variable_kinds import EntitySpec, Value, format_value, parse_value

CATEGORIES = {"config": EntityCategory.CONFIG, "diagnostic": EntityCategory.DIAGNOSTIC}
#: The part of a variable entity's unique id between the station's id and the variable's slug.
VARIABLE_INFIX = "_var_"


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


def variable_description[D: OcppEntityDescription](
    description_class: type[D], key: VariableKey, spec: EntitySpec, **platform_fields: Any
) -> D:
    """The description of a variable's entity: curated variables are translated, the others named after it.

    `description_class` is the platform's; `platform_fields` what the platform shows of the spec (unit, options...).
    """

    def reported(view: StationView) -> bool:
        runtime = view.runtime
        return view.connected and runtime is not None and key in runtime.device_model

    return description_class(
        key=f"var_{key.slug}",
        translation_key=spec.translation_key,
        translation_placeholders={"instance": key.variable_instance}
        if spec.translation_key and key.variable_instance
        else None,
        name=UNDEFINED if spec.translation_key else variable_name(key),
        entity_category=CATEGORIES.get(spec.category or ""),
        entity_registry_enabled_default=spec.enabled_by_default,
        available_fn=reported,
        **platform_fields,
    )


class OcppVariableEntity(OcppEntity):
    """An entity whose state is a variable's Actual value, on the EVSE's device for EVSE variables."""

    def __init__(
        self,
        data: OcppCsmsRuntimeData,
        station_id: str,
        key: VariableKey,
        spec: EntitySpec,
        description: OcppEntityDescription,
    ) -> None:
        """The variable's description (`variable_description`); the device of its EVSE, or of the station."""
        super().__init__(data=data, station_id=station_id, description=description)
        self.key = key
        self.spec = spec
        self._attr_device_info = DeviceInfo(identifiers={device_identifier(station_id, key.evse_id or 0)})

    @property
    def info(self) -> VariableInfo | None:
        """The variable as the station last reported it."""
        runtime = self.view.runtime
        return runtime.device_model.get(self.key) if runtime else None

    @property
    def variable_value(self) -> Value | None:
        """The Actual value, typed."""
        info = self.info
        if info is None:
            return None
        characteristics = info.characteristics
        return parse_value(info.value, characteristics.data_type if characteristics else None)

    @override
    def update_signals(self) -> tuple[SignalType[()], ...]:
        """The station's connection, and its variable updates."""
        entry_id = self.data.context.entry_id
        return (station_signal(entry_id, self.station_id), variables_signal(entry_id, self.station_id))

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the station's variable updates; keep the value current while enabled."""
        await super().async_added_to_hass()
        self.async_on_remove(self.data.variables.entity_enabled(self.station_id, self.key))

    @override
    def shown(self) -> object:
        """The availability and the value: variable updates reach every variable entity of the station."""
        return (self.available, self.variable_value)

    async def async_write_value(self, value: Value) -> None:
        """Set the variable on the station (SetVariables, batched); a translated error if it refuses."""
        info = self.info
        data_type = info.characteristics.data_type if info and info.characteristics else None
        await self.data.variables.async_set(self.station_id, self.key, format_value(value, data_type))
