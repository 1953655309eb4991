"""Tests of the HA-free energy manager package."""
