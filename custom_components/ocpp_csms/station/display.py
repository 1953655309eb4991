"""What a station's display can show (DisplayMessageCtrlr, O01-O06), read from its device model.

Referenced variables (Part 2, "Referenced Components and Variables", DisplayMessageCtrlr): Available, Enabled,
DisplayMessages (its maxLimit: how many messages the station holds, O01.FR.11), SupportedFormats and
SupportedPriorities (MemberLists, required). A station that reported an inventory without DisplayMessageCtrlr, or
with Available false, has no display the central system can use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
import unicodedata

from ..protocol.v201.enums import MessageFormat, MessagePriority
from .device_model import DeviceModel

DISPLAY_MESSAGE_CTRLR: Final = "DisplayMessageCtrlr"


@dataclass(frozen=True, slots=True)
class DisplayCapabilities:
    """The display of one station; empty tuples where the station did not say."""

    #: False: the station has no usable display; None: it is not known (no inventory yet).
    available: bool | None
    formats: tuple[MessageFormat, ...] = ()
    priorities: tuple[MessagePriority, ...] = ()
    max_messages: int | None = None

    @classmethod
    def from_model(cls, model: DeviceModel, *, has_inventory: bool) -> DisplayCapabilities:
        """Read DisplayMessageCtrlr from a station's device model."""
        if not has_inventory:
            return cls(available=None)
        available = model.find(DISPLAY_MESSAGE_CTRLR, "Available")
        if available is None and not model.find_all(DISPLAY_MESSAGE_CTRLR, "SupportedFormats"):
            return cls(available=False)
        if available is not None and (available.value or "").lower() == "false":
            return cls(available=False)
        enabled = model.find(DISPLAY_MESSAGE_CTRLR, "Enabled")
        if enabled is not None and (enabled.value or "").lower() == "false":
            return cls(available=False)
        count = model.find(DISPLAY_MESSAGE_CTRLR, "DisplayMessages")
        max_limit = count.characteristics.max_limit if count and count.characteristics else None
        return cls(
            available=True,
            formats=_members(model, "SupportedFormats", MessageFormat),
            priorities=_members(model, "SupportedPriorities", MessagePriority),
            max_messages=int(max_limit) if max_limit is not None and max_limit > 0 else None,
        )

    def supports_format(self, message_format: MessageFormat) -> bool:
        """Whether the format can be shown (unknown: assumed)."""
        return not self.formats or message_format in self.formats

    def supports_priority(self, priority: MessagePriority) -> bool:
        """Whether the priority is supported (unknown: assumed)."""
        return not self.priorities or priority in self.priorities

    @property
    def default_format(self) -> MessageFormat:
        """UTF8 where the station takes it, else ASCII (O01: ASCII, HTML, URI or UTF8)."""
        if self.supports_format(MessageFormat.UTF8):
            return MessageFormat.UTF8
        return MessageFormat.ASCII if self.supports_format(MessageFormat.ASCII) else self.formats[0]

    @property
    def default_priority(self) -> MessagePriority:
        """InFront (shown at once, cycled with other InFront ones) where supported, else the first supported."""
        for priority in (MessagePriority.IN_FRONT, MessagePriority.NORMAL_CYCLE):
            if self.supports_priority(priority):
                return priority
        return self.priorities[0]


def _members[E: (MessageFormat, MessagePriority)](model: DeviceModel, variable: str, enum: type[E]) -> tuple[E, ...]:
    info = model.find(DISPLAY_MESSAGE_CTRLR, variable)
    known = {member.value.lower(): member for member in enum}
    values = (info.value or "").split(",") if info is not None else []
    return tuple(known[value.strip().lower()] for value in values if value.strip().lower() in known)


def as_ascii(text: str) -> str:
    """Text for a display that shows ASCII only: accents dropped (é → e), other characters as `?`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char if ord(char) < 128 else "?" for char in decomposed if not unicodedata.combining(char))


def free_ids(in_use: set[int], count: int = 1, *, start: int = 1) -> list[int]:
    """The lowest `count` message ids from `start` that are not in use."""
    found: list[int] = []
    candidate = start
    while len(found) < count:
        if candidate not in in_use:
            found.append(candidate)
        candidate += 1
    return found
