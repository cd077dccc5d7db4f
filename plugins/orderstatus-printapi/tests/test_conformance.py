"""The core's conformance suite, run against the Print API sandbox in-process and on loopback."""

from __future__ import annotations

from orderstatus.testing import conformance

TestConformance = conformance.suite("printapi")
TestConformanceOverHttp = conformance.suite("printapi", over_http=True)
