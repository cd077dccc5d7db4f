"""The version of orderstatus, in one place: the build reads it (hatch), so do ``__version__``
and the client's ``User-Agent``."""

__version__ = "0.1.0"
