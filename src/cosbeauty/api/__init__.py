"""The HTTP layer: a COS/S3-compatible ASGI application."""
