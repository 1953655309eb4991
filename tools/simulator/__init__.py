"""The project's own OCPP 2.0.1 charging station simulator, built on the `ocpp` package's ChargePoint.

An implementation independent of the integration's: used by the tests, the demo and the scale benchmark.
`python -m tools.simulator --help` (or `scripts/simulate --help`) lists the options.
"""

from .fleet import Fleet, station_ids
from .station import SimStation, StationConfig

__all__ = ["Fleet", "SimStation", "StationConfig", "station_ids"]
