"""The reminders domain has no pages; its blueprint checks the configuration at start-up."""

from __future__ import annotations

from flask.blueprints import BlueprintSetupState

from tracker.reminders import bp
from tracker.reminders.ladder import DEFAULT_LADDER, parse_ladder
from tracker.scheduler import parse_time


@bp.record_once
def _check_configuration(state: BlueprintSetupState) -> None:
    """A malformed ladder or pass time stops the app at start-up, not at 08:30."""
    config = state.app.config
    parse_ladder(config["TRACKER_REMINDER_LADDER"] or DEFAULT_LADDER)
    parse_time(config["TRACKER_REMIND_AT"])
