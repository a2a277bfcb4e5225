"""Periodic ticks of the workforce app."""
