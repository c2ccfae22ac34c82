from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qbtc.cli import app
from qbtc.lake import read_dataset
from qbtc.risk import KillSwitch

runner = CliRunner()


def test_status_on_off_round_trip(data_dir: Path):
    assert runner.invoke(app, ["kill-switch", "status"]).output == "kill switch: off\n"
    on = runner.invoke(app, ["kill-switch", "on", "--reason", "venue outage"])
    assert on.exit_code == 0, on.output
    assert on.output.startswith("kill switch: ON since ")
    assert on.output.rstrip().endswith("(venue outage)")
    state = KillSwitch(data_dir / "state").status()
    assert (state.on, state.reason) == (True, "venue outage")
    status = runner.invoke(app, ["kill-switch", "status"])
    assert status.output == on.output
    again = runner.invoke(app, ["kill-switch", "on", "-r", "something else"])
    assert again.output.rstrip().endswith("(venue outage) (already on)")
    off = runner.invoke(app, ["kill-switch", "off"])
    assert off.output.startswith("kill switch: off (was on since ")
    assert "venue outage" in off.output
    assert not KillSwitch(data_dir / "state").status().on


def test_turning_it_on_records_one_critical_alert(data_dir: Path):
    runner.invoke(app, ["kill-switch", "on"])
    runner.invoke(app, ["kill-switch", "on"])
    alerts = read_dataset(data_dir / "lake", "alerts")
    assert alerts["kind"].to_list() == ["kill-switch"]
    assert alerts["severity"].to_list() == ["critical"]
    assert alerts["message"][0] == "kill switch tripped: tripped by hand (qbtc kill-switch on)"


def test_unknown_action_is_refused(data_dir: Path):
    result = runner.invoke(app, ["kill-switch", "maybe"])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert not (data_dir / "state" / "kill_switch.json").exists()


def test_help_lists_the_command():
    assert "kill-switch" in runner.invoke(app, ["--help"]).output


def test_status_of_a_malformed_state_file_is_on_in_one_line_without_a_traceback(data_dir: Path):
    path = data_dir / "state" / "kill_switch.json"
    path.parent.mkdir(parents=True)
    for content in ("[]", '{"on": null}'):
        path.write_text(content)
        result = runner.invoke(app, ["kill-switch", "status"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("kill switch: ON (state file ")
        assert str(path) in result.output
        assert len(result.output.strip().splitlines()) == 1
