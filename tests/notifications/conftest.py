"""The notifications tests share the reminders tests' SMTP server on loopback."""

from tests.reminders.conftest import smtp  # noqa: F401 - a fixture, registered by name
