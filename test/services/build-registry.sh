#!/usr/bin/env bash
# Builds the CNCF Distribution registry (the reference Docker Registry v2 / OCI registry) from the Go
# module proxy, for the registryproxy receiver's tests and the demo, and caches it outside the
# repository.
#
# Usage:
#   REGISTRY_BIN="$(test/services/build-registry.sh)"
#
# stdout: exactly one line, the binary's path. Progress goes to stderr. Needs only Go; the first
# run takes ~2 min on 2 cores, later runs return at once.
#
# Env:
#   OTELCOL_SEALOS_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos)
set -euo pipefail

REGISTRY_VERSION=v3.1.1
PACKAGE=github.com/distribution/distribution/v3/cmd/registry

log() { echo "build-registry: $*" >&2; }
# shellcheck source=test/services/cached-build.sh
source "$(dirname "$0")/cached-build.sh"
cached_build registry "${REGISTRY_VERSION}" registry

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/otelcol-sealos-registry.XXXXXX")"
trap 'rm -rf "${SCRATCH}"' EXIT

start=${SECONDS}
log "building ${PACKAGE}@${REGISTRY_VERSION} (first time: ~2 min)..."
# `go install pkg@version` builds with the registry's own go.mod (every dependency pinned there).
GOWORK=off GOFLAGS= CGO_ENABLED=0 GOBIN="${SCRATCH}" go install -trimpath -ldflags='-s -w' "${PACKAGE}@${REGISTRY_VERSION}" >&2
mv -f "${SCRATCH}/registry" "${BIN}"
log "built ${BIN} in $((SECONDS - start))s"
echo "${BIN}"
