"""Tests of the HA-free CSMS security building blocks."""
