"""Follow-up fixtures: the real SMTP server on loopback lives with the reminders' fixtures."""

from tests.reminders.conftest import smtp

__all__ = ["smtp"]
