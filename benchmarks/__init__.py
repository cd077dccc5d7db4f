"""orderstatus benchmarks: ``python -m benchmarks`` (full) or ``python -m benchmarks --smoke``."""
