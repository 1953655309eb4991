"""Tests of the HA-free station package: device model, transactions, meter values, ID tokens."""
