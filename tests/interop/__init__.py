"""Interop tests: third-party OCPP 2.0.1 station peers against the integration."""
