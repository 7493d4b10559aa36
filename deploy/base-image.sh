#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfiles' base image, `python:3.11-slim`, where no container registry is
# reachable: Debian bookworm's Python 3.11 bootstrapped with mmdebstrap from the machine's own Debian sources,
# imported into podman's store under the base image's name, so that both Dockerfiles build unchanged.
#
# pip inside a build reaches the package index exactly as pip on this machine does: the machine's CA bundle
# (the file its pip is told to trust) is copied into the base and PIP_CERT points at it.
#
# Made once per machine and kept: the image carries a label with a hash of this recipe and of the CA bundle,
# and is made again only when either changed. An image of that name without the label (the official one,
# pulled where a registry is reachable) is used as it is. COLLOQUY_BASE_REBUILD=1 makes it again regardless.
#
# Usage: deploy/base-image.sh   (as root, with podman and mmdebstrap installed; .ci/images installs them)
set -euo pipefail

BASE_IMAGE=${BASE_IMAGE:-docker.io/library/python:3.11-slim}
LABEL=io.colloquy.base-recipe
SOURCES=${DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -r "$SOURCES" ] || SOURCES=/etc/apt/sources.list
host_ca=${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}
host_ca=${host_ca:-/etc/ssl/certs/ca-certificates.crt}
IMAGE_CA=/etc/ssl/certs/build-host-ca.crt

# What the base holds: Python with venv (the Dockerfiles make a venv), useradd (they add a user), CA
# certificates. Merged /usr without the usrmerge package (which brings Perl), and no documentation, manual
# pages or translations: about 125 MB, as small as the official slim image.
recipe=(
  --variant=apt
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --include=python3,python3-venv,python-is-python3,ca-certificates,passwd
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --customize-hook="upload $host_ca $IMAGE_CA"
)

for tool in podman mmdebstrap sha256sum; do
  command -v "$tool" >/dev/null || { echo "base-image: $tool is not installed" >&2; exit 1; }
done
[ -r "$host_ca" ] || { echo "base-image: cannot read the CA bundle $host_ca (PIP_CERT)" >&2; exit 1; }

wanted=$({ printf '%s\n' "${recipe[@]}" "$SOURCES"; cat "$SOURCES" "$host_ca"; } | sha256sum | cut -c1-16)
if podman image exists "$BASE_IMAGE" && [ "${COLLOQUY_BASE_REBUILD:-0}" != 1 ]; then
  have=$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$BASE_IMAGE")
  if [ "$have" = "$wanted" ]; then
    echo "base-image: $BASE_IMAGE is up to date (recipe $wanted)" >&2
    exit 0
  elif [ -z "$have" ] || [ "$have" = "<no value>" ]; then
    echo "base-image: using $BASE_IMAGE as found (not made here)" >&2
    exit 0
  fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "base-image: bootstrapping Debian bookworm with Python 3.11 for $BASE_IMAGE (about a minute)" >&2
mmdebstrap "${recipe[@]}" bookworm "$scratch/base.tar" "$SOURCES" >"$scratch/log" 2>&1 || {
  cat "$scratch/log" >&2
  echo "base-image: mmdebstrap failed (above)" >&2
  exit 1
}
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "ENV PIP_CERT=$IMAGE_CA" \
  --change "LABEL $LABEL=$wanted" \
  --change 'CMD ["python3"]' \
  "$scratch/base.tar" "$BASE_IMAGE" >/dev/null
echo "base-image: made $BASE_IMAGE (recipe $wanted)" >&2
