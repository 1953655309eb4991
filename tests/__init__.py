"""Tests of the OCPP Charging Station Management integration."""
