"""Cloud Infinite plumbing behind ``ci-process=AIFaceBeauty``: the worker pool, the SSRF-safe
``detect-url`` fetcher, per-bucket activation, metering, and the service object the HTTP
handlers use (``app.services["ci"]``)."""
