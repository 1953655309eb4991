"""Smart charging, free of Home Assistant: charging profiles, stack levels, A↔W, flash protection, read-back.

One idea per module:

- `units`: amps ↔ watts for AC and the choice of the rate unit a station supports.
- `capabilities`: what the station's SmartChargingCtrlr reports, parsed with safe defaults.
- `profiles`: managed profile ids and stack levels, and the SetChargingProfile / ClearChargingProfile builders.
- `limiter`: which requested limits are sent now, later or not at all (station flash and car protection).
- `composite`: the composite schedule as reported by a station (K08).
- `readback`: whether the limit in force is the one asked for.

Everything is pure: no I/O, and the time is always passed in (an aware datetime).
"""
