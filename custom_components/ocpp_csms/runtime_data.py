"""The config entry's runtime data: the central system, its listeners and the glue services, built once in setup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback

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
from .entity_signals import EntitySignals
from .entity_steps import EntitySteps
from .file_transfer import FileTransfer
from .firmware_updates import FirmwareUpdates
from .home_mobility import HomeMobility
from .inventory import InventoryReader
from .iso15118 import Iso15118
from .local_auth_list import LocalAuthLists
from .monitoring import StationMonitoring
from .reservations import StationReservations
from .security_upgrade import SecurityUpgrade
from .sessions import ChargingSessions
from .station_certificates import StationCertificates
from .station_commands import StationCommands
from .station_logs import StationLogs
from .station_requests import StationRequests
from .station_runtime import StationRuntimes
from .station_trust import StationTrust
from .variable_sync import VariableSync


@dataclass(frozen=True, kw_only=True, slots=True)
class OcppCsmsRuntimeData:
    """Everything one loaded config entry runs; entities and actions reach the services through it."""

    context: StationContext
    #: The running listeners (ws://, then wss:// when set); a changed port or certificate replaces one.
    listeners: list[OcppListener]
    #: The entry's data and options as applied (see live_options): what a change is compared with.
    applied_options: dict[str, Any]
    trust: StationTrust
    devices: StationDevices
    inventory: InventoryReader
    sessions: ChargingSessions
    authorization: Authorization
    variables: VariableSync
    charging: ChargingControl
    commands: StationCommands
    requests: StationRequests
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
    # ---- issue 17: station certificates, ISO 15118, security profile upgrades ----
    certificates: StationCertificates
    iso15118: Iso15118
    #: The household's Plug & Charge contracts (the home mobility operator)
    home_mobility: HomeMobility
    upgrade: SecurityUpgrade
    # The energy manager (charging modes, solar surplus, phase switching, load balancing)
    energy: EnergyManagement
    #: Departure planning (the smart mode: the plan on the station) and each session's cost
    planner: DeparturePlanning
    #: What the entity platforms listen to (new stations, EVSEs, inventories): stopped when they unload.
    platform_listeners: list[CALLBACK_TYPE] = field(default_factory=list)
    #: The platforms' new entities, ENTITY_STEP per event-loop turn.
    entity_steps: EntitySteps = field(default_factory=EntitySteps)
    #: The entities' dispatcher signals, each connected once.
    entity_signals: EntitySignals = field(default_factory=EntitySignals)

    def __post_init__(self) -> None:
        """The entity limit is checked again once the waiting entities are in."""
        self.entity_steps.done = self.entity_limit.schedule

    @property
    def entity_detail(self) -> EntityDetail:
        """Which entities the platforms add (the options' entity detail)."""
        return self.entity_limit.detail

    @callback
    def stop_platform_listeners(self) -> None:
        """The platforms unload: what they listened to goes with them (and entities waiting for their step)."""
        self.entity_steps.clear()
        while self.platform_listeners:
            self.platform_listeners.pop()()

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
