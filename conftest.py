"""Settings for every test tree in the repository (core, plugins, example).

Hypothesis's per-example deadline measures wall-clock time, which a loaded 2-core CI machine
makes noisy; the properties themselves are what the suites check, so the deadline is off.
Choose another profile with ``HYPOTHESIS_PROFILE``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "orderstatus", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "orderstatus"))
