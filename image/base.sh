#!/usr/bin/env bash
# Builds the stand-in for the production base (python:3.11-slim-bookworm) where that image cannot
# be pulled: Debian bookworm's own python3 with venv and pip, made from Debian packages alone.
# Usage: image/base.sh [TAG]   (default localhost/debian-python:3.11-bookworm)
set -euo pipefail
tag=${1:-localhost/debian-python:3.11-bookworm}
here=$(dirname "$0")
# Not root: run inside podman's user namespace, as root over this user's subordinate ids. Podman
# may make user namespaces where unprivileged programs may not (Ubuntu 24.04's AppArmor default).
((EUID == 0)) || exec "$here/podman.sh" unshare "$0" "$@"

# Like the slim image: no recommends (mmdebstrap's default), no man pages, docs or translations;
# python is python3. The host's CA bundle goes in last, so that pip in the build trusts whatever
# the host trusts (a TLS-inspecting proxy included); on a plain machine it is the same Mozilla set.
# No /proc or /sys while installing: these packages need neither, and a user namespace has none.
mmdebstrap --variant=minbase --quiet --skip=chroot/mount/proc,chroot/mount/sys \
  --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/' \
  bookworm - http://deb.debian.org/debian |
  "$here/podman.sh" import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message 'stand-in for python:3.11-slim-bookworm, from Debian packages' \
    - "$tag" >/dev/null
echo "stand-in base: $tag"
