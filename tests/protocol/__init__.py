"""Tests of the HA-free protocol core."""
