"""The HTTP API of symbiose (``http-api.md``): FastAPI, one router per resource under ``/api/v1``."""
