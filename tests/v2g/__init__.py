"""Tests of the ISO 15118-2 codec and the home mobility operator."""
