"""Acme Print passes the orderstatus conformance suite, in-process and over loopback HTTP."""

from orderstatus.testing import conformance

TestConformance = conformance.suite("acme")
TestConformanceOverHttp = conformance.suite("acme", over_http=True)
