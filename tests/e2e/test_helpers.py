"""The end-to-end tests' shared pieces: a qbtc command that fails shows what the user read."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import clean_env, run_qbtc


def test_a_failing_qbtc_command_fails_the_test_with_its_exit_code_and_output() -> None:
    with pytest.raises(AssertionError) as failure:
        run_qbtc("no-such-command", env=clean_env(), timeout=120)
    message = str(failure.value)
    assert "qbtc no-such-command exited 2" in message
    assert "No such command 'no-such-command'" in message  # the CLI's own words, from stderr
