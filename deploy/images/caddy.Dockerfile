# Caddy from Debian's own package, for machines that reach no image registry (`make images`).
ARG BASE_IMAGE=woo-exact-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends caddy \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 8080 8081
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
