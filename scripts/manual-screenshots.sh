#!/usr/bin/env bash
# Regenerate the user manual's screenshots (docs/manual/*.png) by running the browser test that
# walks each role through its work (tests/browser/test_manual_browser.py) on SQLite, with
# TRACKER_MANUAL_SCREENSHOTS=1 so that each picture is also copied into docs/manual/.
# Needs Chromium (see TRACKER_CHROMIUM in tests/browser/conftest.py) and the test extra in .venv.
# Arguments go to pytest (e.g. scripts/manual-screenshots.sh -k coordinator).
set -euo pipefail
cd "$(dirname "$0")/.."

unset TRACKER_TEST_DATABASE_URL  # one backend: the pictures must not depend on which ran last
export TRACKER_MANUAL_SCREENSHOTS=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/browser/test_manual_browser.py "$@"
