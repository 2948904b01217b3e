"""oneteam: voice assistants, home appliances and AI services from different makers as one team."""

__version__ = "0.1.0"
__all__ = ["__version__"]
