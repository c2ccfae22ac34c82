"""Deployments and schedules of qbtc, defined once (see definitions.py)."""
