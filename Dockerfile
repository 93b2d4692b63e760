# One image for the code location (gRPC server), the webserver, the daemon and the runs.
# BASE_IMAGE: any Debian-based image with Python 3.11+ and its venv module: python:3.11-slim
# from a registry, or one built from Debian's packages (`make images`, where no registry is
# reachable). Wheels in build/wheelhouse (host-built by `make images`) are installed offline;
# without them pip downloads from PyPI.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /opt/woo-exact
COPY pyproject.toml README.md ./
COPY woo_exact_pipeline ./woo_exact_pipeline
# The wildcard copies build/wheelhouse when it exists and nothing when it does not.
COPY pyproject.toml build/wheelhous[e] /tmp/wheelhouse/
# EXTRAS=deploy is the production image: the faithful sandboxes are for demos and tests and are
# left out. EXTRAS=deploy,sandbox keeps them (`make images` builds that as woo-exact-sandbox).
ARG EXTRAS=deploy
RUN python3 -m venv /opt/venv \
    && if ls /tmp/wheelhouse/woo_exact_pipeline-*.whl >/dev/null 2>&1; then \
         /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse \
           "woo-exact-pipeline[${EXTRAS}]"; \
       else /opt/venv/bin/pip install --no-cache-dir ".[${EXTRAS}]"; fi \
    && rm -rf /tmp/wheelhouse /opt/woo-exact/woo_exact_pipeline \
    && case ",${EXTRAS}," in *,sandbox,*) ;; \
         *) rm -rf /opt/venv/lib/python3*/site-packages/woo_exact_pipeline/sandbox ;; esac
ENV PATH=/opt/venv/bin:$PATH

ENV DAGSTER_HOME=/opt/dagster/home
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/home/
WORKDIR /opt/dagster/home

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "woo_exact_pipeline.definitions", "--location-name", "woo_exact_pipeline"]
