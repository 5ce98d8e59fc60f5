"""OneWindow: an open-source National Single Window and regional customs exchange."""

__version__ = "0.1.0"
