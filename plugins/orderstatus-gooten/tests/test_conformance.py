"""The core's conformance suite, run against the Gooten sandbox in process and over HTTP."""

from __future__ import annotations

from orderstatus.testing import conformance

TestConformance = conformance.suite("gooten")
TestConformanceOverHTTP = conformance.suite("gooten", over_http=True)
