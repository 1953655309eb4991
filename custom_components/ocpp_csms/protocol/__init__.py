"""OCPP 2.0.1 protocol core: typed messages and the OCPP-J RPC layer.

Nothing in this package imports Home Assistant; it could be lifted out as a library.
"""
