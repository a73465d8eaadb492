"""terrapole: a self-hosted platform for Earth-observation and in-situ data."""

__version__ = "0.1.0"
__all__ = ["__version__"]
