# One image for every smartplace process; docker-compose.yml picks the command
# (ingest, api or simulate).

# The front-end packages, installed from the lockfile by npm (no dev dependencies: axe-core
# is for the tests); only the files the API serves go into the image: uPlot's dist folder
# (/dashboard/vendor/uplot/), Swagger UI's bundle (/docs) and ReDoc's standalone bundle (/redoc).
FROM node:22.12.0-slim AS dashboard
WORKDIR /build/dashboard
COPY dashboard/package.json dashboard/package-lock.json dashboard/.npmrc ./
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev

FROM python:3.11.11-slim

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
RUN pip install -c /tmp/smartplace-src/requirements.lock /tmp/smartplace-src && rm -rf /tmp/smartplace-src

# The operations dashboard at / (plain files, no build step) and uPlot from the node stage.
COPY dashboard/index.html dashboard/*.js dashboard/*.css dashboard/*.svg /opt/smartplace/dashboard/
COPY --from=dashboard /build/dashboard/node_modules/uplot/dist /opt/smartplace/dashboard/node_modules/uplot/dist
COPY --from=dashboard /build/dashboard/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
    /build/dashboard/node_modules/swagger-ui-dist/swagger-ui.css \
    /opt/smartplace/dashboard/node_modules/swagger-ui-dist/
COPY --from=dashboard /build/dashboard/node_modules/redoc/bundles/redoc.standalone.js \
    /opt/smartplace/dashboard/node_modules/redoc/bundles/

USER smartplace
WORKDIR /var/lib/smartplace
ENV SMARTPLACE_SPOOL_DIR=/var/lib/smartplace/spool \
    SMARTPLACE_LOG_FORMAT=json \
    SMARTPLACE_DASHBOARD_DIR=/opt/smartplace/dashboard

EXPOSE 8000 9108
ENTRYPOINT ["smartplace"]
CMD ["--help"]
