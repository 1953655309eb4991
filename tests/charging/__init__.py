"""Tests of the HA-free smart charging package."""
