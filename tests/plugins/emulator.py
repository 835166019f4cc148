"""Emulator fixtures (issue 3)."""
