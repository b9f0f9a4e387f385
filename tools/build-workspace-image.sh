#!/usr/bin/env bash
# Builds the workspace image without a registry: a Debian bookworm root filesystem made by
# debootstrap, the host's Node.js, the language servers from npm, a non-root user (1000),
# imported with `docker import`. Needs root, debootstrap and a running Docker engine.
# Usage: tools/build-workspace-image.sh [TAG]   (default codebuddy-workspace:latest)
set -euo pipefail
tag="${1:-codebuddy-workspace:latest}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

# procps (ps, kill) and the shells are what agents expect to find; util-linux brings the usual tools.
# pylsp loads its plugins through pkg_resources, which refuses every one of them without setuptools
# (a requirement Debian does not declare); pyflakes gives it diagnostics.
debootstrap --variant=minbase --include=bash,coreutils,util-linux,procps,git,python3,python3-pylsp,python3-setuptools,python3-pyflakes,ca-certificates \
  bookworm "$rootfs" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }

# The host's node runs in bookworm; the language servers are plain JavaScript from npm.
install -m 0755 "$(command -v node)" "$rootfs/usr/local/bin/node"
npm install --global --prefix "$rootfs/usr/local" --no-audit --no-fund --loglevel=error \
  typescript-language-server@5 typescript@~5.9 pyright@1.1.414

echo 'codebuddy:x:1000:1000:codebuddy:/tmp:/bin/bash' >>"$rootfs/etc/passwd"
echo 'codebuddy:x:1000:' >>"$rootfs/etc/group"
mkdir -p "$rootfs/workspace"
rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*

tar -C "$rootfs" -c . | docker import \
  --change 'USER 1000:1000' \
  --change 'WORKDIR /workspace' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8' \
  --change 'CMD ["sleep", "infinity"]' \
  --change "LABEL codebuddy.recipe=$(sha256sum "$0" | cut -c1-16)" \
  - "$tag" >/dev/null
echo "built $tag"
