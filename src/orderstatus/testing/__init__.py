"""The testing kit: sandboxes, Hypothesis strategies, a conformance suite and a pytest plugin.

Importing :mod:`orderstatus.testing` is light; each part is imported from its own module.
"""
