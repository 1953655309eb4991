"""The energy manager, free of Home Assistant: charging modes, solar surplus, phase switching, load balancing.

Plain state machines over timestamps, fed by the glue with readings and the time; nothing here waits or sends.

- `model`: modes, settings, readings, the site's configuration, states and the commands the manager gives.
- `budget`: how often an EVSE's limit may change (a token bucket; a decrease that protects the fuse always goes).
- `surplus`: the site's surplus and its share per EVSE; start and stop delays.
- `phases`: 1p/3p switching with delays and a dwell time, within what the station allows.
- `balancer`: the site limit shared per phase (or as power): priority first, then fair shares, minimums or nothing.
- `manager`: the EnergyManager that combines them into one decision per instant and says when to decide next.
"""
