"""The README is true on a fresh install.

* Every ``flask`` command in README.md's fenced ``bash`` blocks runs, in the README's order,
  against a fresh instance set up as ``scripts/run.sh`` sets one up (migrate, seed, open the
  periods, first admin): in-process, through Flask's CLI runner on an app built from the
  instance's environment, as the ``flask`` executable builds it (a process per command costs
  seconds each on a loaded machine; ``tests/test_packaging.py`` runs the real executable).
  Placeholders are the one liberty taken: the example token prefix
  ``trk_1a2b3c4d_…`` stands for the prefix ``token list`` prints, and is replaced by it.
* Every environment variable the code reads (the ``Settings`` fields, ``os.environ`` in the
  package and the gunicorn settings, ``$TRACKER_…`` in the scripts) has a row in the
  configuration table; the test suite's own variables are explained in the README's text.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.processes import REPO, instance_env
from tracker import create_app
from tracker.config import Settings

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCED_BASH = re.compile(r"^ *```bash\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
TOKEN_PLACEHOLDER = "trk_1a2b3c4d_…"


def readme_commands() -> list[list[str]]:
    """Each command of the fenced bash blocks, comments dropped, continuation lines joined."""
    commands = []
    for block in FENCED_BASH.findall(README):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def flask_commands() -> list[list[str]]:
    return [words for words in readme_commands() if Path(words[0]).name == "flask"]


def test_the_readme_shows_flask_commands_for_every_area():
    shown = {" ".join(words[3:5]) for words in flask_commands()}
    for expected in (
        "user create", "token create", "token revoke", "export quarterly", "export notice",
    ):  # fmt: skip
        assert expected in shown, f"README.md lost its {expected} example"
    assert any(words[3:5] == ["demo-data", "--remove"] for words in flask_commands())


def test_every_flask_command_in_the_readme_runs_on_a_fresh_install(tmp_path, monkeypatch):
    for name, value in instance_env(tmp_path, "readme").items():
        if name.startswith("TRACKER_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # where the examples' --output files go
    runner = create_app().test_cli_runner()
    for step in ("prepare",):  # as run.sh does
        _invoke(runner, ["flask", "--app", "tracker", *step.split()])
    for words in flask_commands():
        if TOKEN_PLACEHOLDER in words:
            listing = _invoke(runner, ["flask", "--app", "tracker", "token", "list"])
            prefix = listing.splitlines()[-1].split("\t")[3]
            words = [prefix if word == TOKEN_PLACEHOLDER else word for word in words]
        _invoke(runner, words)


def _invoke(runner, words: list[str]) -> str:
    """Run one README command in-process (a fresh app of the fresh instance's environment:
    what the ``flask`` executable would build), failing with its output."""
    assert words[1:3] == ["--app", "tracker"], words
    with runner.app.app_context():  # its own, over the suite's (which with_appcontext would keep)
        result = runner.invoke(args=words[3:], catch_exceptions=False)
    assert result.exit_code == 0, f"{' '.join(words)} exited {result.exit_code}:\n{result.output}"
    return result.output


# Variables read by code outside the Settings class.
PYTHON_READS = re.compile(r"""environ(?:\.get\(|\[)\s*["'](TRACKER_[A-Z0-9_]+)""")
SHELL_READS = re.compile(r"\$\{?(TRACKER_[A-Z0-9_]+)")


def variables_read() -> set[str]:
    # a setting read under a name of its own (``validation_alias``) is that name, not TRACKER_*
    names = {
        str(field.validation_alias or f"TRACKER_{name.upper()}")
        for name, field in Settings.model_fields.items()
    }
    for path in [*(REPO / "tracker").rglob("*.py"), *(REPO / "deploy").glob("*.py")]:
        names |= set(PYTHON_READS.findall(path.read_text(encoding="utf-8")))
    for path in (REPO / "scripts").glob("*.sh"):
        names |= set(SHELL_READS.findall(path.read_text(encoding="utf-8")))
    return names


def configuration_table() -> str:
    start = README.index("## 配置（环境变量）")
    end = README.index("\n## ", start + 1) if "\n## " in README[start + 1 :] else len(README)
    return "\n".join(
        line
        for line in README[start:end].splitlines()
        if line.startswith(("| `TRACKER_", "| `PROMETHEUS_"))
    )


def test_the_scan_finds_what_the_code_reads():
    found = variables_read()
    # One from each source: Settings, os.environ in the package, gunicorn, a script.
    for name in ("TRACKER_SMTP_HOST", "TRACKER_INSTANCE_PATH", "TRACKER_WEB_THREADS"):
        assert name in found
    assert "TRACKER_SCHEDULER_RESTART_SECONDS" in found
    # Config keys that are not environment variables are not reported.
    assert "TRACKER_PASSWORD_HASH_METHOD" not in found


@pytest.mark.parametrize("name", sorted(variables_read()))
def test_every_variable_the_code_reads_is_documented(name):
    if name.startswith("TRACKER_TEST_"):
        assert f"`{name}`" in README, f"{name} is not explained in README.md"
    else:
        assert f"`{name}`" in configuration_table(), f"{name} has no row in the README table"
