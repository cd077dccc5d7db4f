"""The strategies pass Hypothesis's default settings in a user's project.

The repository's own ``conftest.py`` turns the deadline and the ``too_slow`` health check off;
a user's project has neither. So this runs a user's property tests with pytest in a directory
of their own, outside the repository, with Hypothesis's ``default`` profile (and no CI
variable that would switch Hypothesis to its relaxed ``ci`` profile): every health check on,
a 200 ms deadline and 100 examples a test, on whatever load the machine has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# What makes Hypothesis load its relaxed "ci" profile (the first test below checks that the
# defaults are what runs).
_CI_VARIABLES = {"CI", "TF_BUILD", "BUILDKITE", "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID",
                 "GITHUB_ACTIONS", "GITLAB_CI", "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION",
                 "HYPOTHESIS_PROFILE"}

USER_TESTS = '''
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from orderstatus import OrderStatus, Tracker
from orderstatus.testing import strategies as ost
from orderstatus.testing.strategies import StatusHistory


def test_these_are_hypothesis_defaults():
    assert settings().deadline == dt.timedelta(milliseconds=200)
    assert settings().suppress_health_check == ()
    assert settings().max_examples == 100


@pytest.mark.parametrize("provider", ["gooten", "printapi", None])
def test_the_tracker_ends_where_the_order_ended(provider):
    @given(ost.status_histories(provider=provider, duplicates=True, reorder=True, unknowns=True))
    def check(history):
        tracker = Tracker()
        for status in history.observations:
            tracker.observe(status)
        assert tracker.state(history.provider, history.order_id) is history.final.state

    check()


@pytest.mark.parametrize("provider", ["gooten", "printapi", None])
def test_statuses(provider):
    @given(ost.order_statuses(provider=provider, unmapped=True),
           ost.native_statuses(provider, unmapped=True))
    def check(status, native):
        assert status.provider == (provider or "generic")

    check()


@given(st.from_type(StatusHistory), st.from_type(OrderStatus))
def test_types(history, status):
    assert history.truth
'''


def test_a_users_property_tests_pass_with_hypothesis_defaults(tmp_path: Path) -> None:
    (tmp_path / "test_orders.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if k not in _CI_VARIABLES}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--show-capture=no",  # a failure's report, not the warnings logged before it
         "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "8 passed" in run.stdout
