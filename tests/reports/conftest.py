"""Reporting fixtures live in tests/conftest.py (``quarter``, ``beijing``); re-exported here."""

from tests.conftest import BEIJING, Quarter, beijing

__all__ = ["BEIJING", "Quarter", "beijing"]
