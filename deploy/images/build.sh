#!/usr/bin/env bash
# `make images`: the production profile's images from what this machine has, no registry needed.
#   woo-exact-base:bookworm  Debian's minimal root with Python (debootstrap), once; kept after
#   woo-exact-pipeline       the code location, installed offline from wheels built on the host
#   woo-exact-sandbox        the same with the faithful sandboxes, for demos and `make test-deploy`
#   woo-exact-postgres       PostgreSQL from Debian's package
#   woo-exact-caddy          Caddy from Debian's package
# With a registry, `docker compose build` makes the code location's image from python:3.11-slim.
set -euo pipefail
cd "$(dirname "$0")/../.."
base=woo-exact-base:bookworm
python=${PYTHON:-.venv/bin/python}

if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "Building $base from Debian's packages (debootstrap, about a minute)"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" >/dev/null
  tar -C "$root" -c . | docker import - "$base" >/dev/null
fi

# Inside a container PyPI's certificates cannot be checked against this machine's CA bundle, as
# on an offline customer's machine: the wheels are built here and installed from the folder.
"$python" -m pip wheel --quiet --wheel-dir build/wheelhouse ".[deploy,sandbox]"

docker build --quiet --build-arg BASE_IMAGE="$base" -t woo-exact-pipeline . >/dev/null
docker build --quiet --build-arg BASE_IMAGE="$base" --build-arg EXTRAS=deploy,sandbox \
  -t woo-exact-sandbox . >/dev/null
for image in postgres caddy; do
  docker build --quiet --build-arg BASE_IMAGE="$base" -t "woo-exact-$image" \
    -f "deploy/images/$image.Dockerfile" deploy/images >/dev/null
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^woo-exact-'
