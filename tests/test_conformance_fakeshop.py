"""The core's own test plugin passes the conformance suite third parties run."""

from orderstatus.testing import conformance

TestFakeshopConformance = conformance.suite("fakeshop")
