# One image for every smartplace process; docker-compose.yml picks the command
# (ingest, api or simulate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A non-root user, and a writable home for the ingestor's spool folder.
RUN groupadd --system --gid 10001 smartplace \
    && useradd --system --uid 10001 --gid smartplace --home-dir /var/lib/smartplace \
        --shell /usr/sbin/nologin smartplace \
    && install -d -o smartplace -g smartplace /var/lib/smartplace /var/lib/smartplace/spool

COPY . /tmp/smartplace-src
RUN pip install /tmp/smartplace-src && rm -rf /tmp/smartplace-src

USER smartplace
WORKDIR /var/lib/smartplace
ENV SMARTPLACE_SPOOL_DIR=/var/lib/smartplace/spool \
    SMARTPLACE_LOG_FORMAT=json

EXPOSE 8000 9108
ENTRYPOINT ["smartplace"]
CMD ["--help"]
