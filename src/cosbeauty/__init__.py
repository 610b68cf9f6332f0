"""cosbeauty: a self-hosted COS-compatible object server with AI face beautification."""

__version__ = "0.1.0"
