# PostgreSQL from Debian's own package, for machines that reach no image registry (`make images`).
# It starts as the official postgres image does: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB
# on the first start, then the *.sql files in /docker-entrypoint-initdb.d.
ARG BASE_IMAGE=woo-exact-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql \
    && rm -rf /var/lib/apt/lists/*
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint.sh"]
