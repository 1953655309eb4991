"""The config entry's runtime data: the central system, its listeners and the glue services, built once in setup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry

from .authorization import Authorization
from .charging_control import ChargingControl
from .context import StationContext
from .csms.central_system import CentralSystem
from .csms.listener import OcppListener
from .csms.registry import StationRegistry
from .customer_information import CustomerInformation
from .departure_planning import DeparturePlanning
from .devices import StationDevices
from .display_messages import DisplayMessages
from .energy_manager import EnergyManagement
from .entity_detail import EntityDetail, EntityLimitCheck
from .file_transfer import FileTransfer
from .firmware_updates import FirmwareUpdates
from .inventory import InventoryReader
from .local_auth_list import LocalAuthLists
from .monitoring import StationMonitoring
from .reservations import StationReservations
from .sessions import ChargingSessions
from .station_commands import StationCommands
from .station_logs import StationLogs
from .station_runtime import StationRuntimes
from .station_trust import StationTrust
from .variable_sync import VariableSync


@dataclass(frozen=True, kw_only=True, slots=True)
class OcppCsmsRuntimeData:
    """Everything one loaded config entry runs; entities and actions reach the services through it."""

    context: StationContext
    listeners: tuple[OcppListener, ...]
    trust: StationTrust
    devices: StationDevices
    inventory: InventoryReader
    sessions: ChargingSessions
    authorization: Authorization
    variables: VariableSync
    charging: ChargingControl
    commands: StationCommands
    entity_detail: EntityDetail
    entity_limit: EntityLimitCheck
    # station management: firmware (L), logs and monitoring (N), display messages (O)
    files: FileTransfer
    firmware: FirmwareUpdates
    logs: StationLogs
    monitoring: StationMonitoring
    display: DisplayMessages
    customer_information: CustomerInformation
    # Authorization (C, D, H)
    local_lists: LocalAuthLists
    reservations: StationReservations
    # The energy manager (charging modes, solar surplus, phase switching, load balancing)
    energy: EnergyManagement
    #: Departure planning (the smart mode: the plan on the station) and each session's cost
    planner: DeparturePlanning
    #: The options the entry was set up with (the energy manager's apply live, the others by a reload).
    options: Mapping[str, Any]

    @property
    def central(self) -> CentralSystem:
        """The central system."""
        return self.context.central

    @property
    def registry(self) -> StationRegistry:
        """The trusted stations."""
        return self.context.central.registry

    @property
    def runtimes(self) -> StationRuntimes:
        """What Home Assistant keeps of each trusted station."""
        return self.context.runtimes


type OcppCsmsConfigEntry = ConfigEntry[OcppCsmsRuntimeData]
