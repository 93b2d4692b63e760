# One image for the code location (gRPC server), the webserver, the daemon and the runs.
# BASE_IMAGE: any Debian-based image with Python 3.11+ (deploy/docker-compose.yaml passes
# WOO_EXACT_BASE_IMAGE, e.g. one built from Debian's packages where no registry is reachable).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /opt/woo-exact
COPY pyproject.toml README.md ./
COPY woo_exact_pipeline ./woo_exact_pipeline
RUN pip install --no-cache-dir ".[deploy]"

ENV DAGSTER_HOME=/opt/dagster/home
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/home/
WORKDIR /opt/dagster/home

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "woo_exact_pipeline.definitions", "--location-name", "woo_exact_pipeline"]
