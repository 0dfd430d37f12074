"""One reminder pass in a process of its own, for the tests of passes in real processes.

    python -m tests.reminders.pass_process URL DAY CHUNK START [DIE_AFTER]

runs the pass of DAY (Beijing 09:00) on the database at URL, in chunks of CHUNK reminders,
starting at the Unix time START (so that two processes begin together), and prints its result
as JSON. With DIE_AFTER the process kills itself, without committing, in the middle of its
chunk number DIE_AFTER (its claims inserted, its notifications not yet committed). Each chunk
is preceded by a pause of 50 ms, so that two processes take turns.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from tracker import clock, create_app
from tracker.extensions import db
from tracker.reminders import services


def main() -> None:
    url, day, chunk, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    die_after = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "TRACKER_UPLOAD_DIR": tempfile.mkdtemp(),
            "TRACKER_FIRST_PERIOD": "2024Q3",
            "TRACKER_SIGNOFF_REQUIRED": False,
        }
    )
    services.CHUNK = chunk
    send_chunk, calls = services._send_chunk, []

    def pause_then_chunk(*args, **kwargs):
        calls.append(1)
        time.sleep(0.05)  # the previous chunk is committed: let another process's chunk in
        done = send_chunk(*args, **kwargs)
        if len(calls) == die_after:
            os._exit(17)  # claimed and written, not committed: as if killed
        return done

    services._send_chunk = pause_then_chunk
    moment = datetime.combine(
        date.fromisoformat(day), clock_time(9), tzinfo=ZoneInfo("Asia/Shanghai")
    )
    with app.app_context(), clock.frozen(moment):
        time.sleep(max(0.0, start - time.time()))
        result = services.run_reminder_pass()
        db.session.commit()
    print(json.dumps({"reminders": result.reminders, "notifications": result.notifications}))


if __name__ == "__main__":
    main()
