"""Tests of the HA-free planner: prices, plans, schedules and cost."""
