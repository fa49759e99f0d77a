# symbiose HTTP API (http-api.md): `docker compose up` runs it with PostgreSQL 16.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_DATA_HOME=/data

WORKDIR /app
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY symbiose ./symbiose
COPY api ./api
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data symbiose \
    && mkdir -p /data \
    && chown symbiose /data

USER symbiose
VOLUME ["/data"]
EXPOSE 8000

# The database is migrated on first use (application start-up).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

CMD ["symbiose", "serve", "--host", "0.0.0.0", "--port", "8000"]
