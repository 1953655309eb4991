"""What the central system knows of one station: device model, transactions, meter values, ID tokens. HA-free.

Pure logic, no I/O: the Home Assistant glue feeds it the typed messages of `protocol.v201` and persists its state
through each class's `to_dict()` / `from_dict()`.
"""
