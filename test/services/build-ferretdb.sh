#!/usr/bin/env bash
# Builds FerretDB (the MongoDB wire protocol on SQLite) from the Go module proxy, for the database
# receiver's MongoDB tests, and caches it outside the repository.
#
# Usage:
#   FERRETDB_BIN="$(test/services/build-ferretdb.sh)"
#
# stdout: exactly one line, the binary's path. Progress goes to stderr. Needs only Go; the first
# run takes ~2-4 min on 2 cores, later runs return at once.
#
# Why a copy of the module: FerretDB embeds build/version/version.txt (written by `git describe`
# in its own repository) and panics at start without it; the module zip does not carry it.
#
# Env:
#   OTELCOL_SEALOS_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos)
set -euo pipefail

FERRETDB_VERSION=v1.24.0
MODULE=github.com/FerretDB/FerretDB

log() { echo "build-ferretdb: $*" >&2; }
# shellcheck source=test/services/cached-build.sh
source "$(dirname "$0")/cached-build.sh"
cached_build ferretdb "${FERRETDB_VERSION}" ferretdb

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/otelcol-sealos-ferretdb.XXXXXX")"
TMP_BIN=""
cleanup() {
	chmod -R u+w "${SCRATCH}" 2>/dev/null || true
	rm -rf "${SCRATCH}"
	[[ -n "${TMP_BIN}" ]] && rm -f "${TMP_BIN}"
	return 0
}
trap cleanup EXIT

start=${SECONDS}
log "building FerretDB ${FERRETDB_VERSION} (first time: a few minutes)..."
# A scratch module requiring FerretDB fetches it (and its go.sum) through the proxy.
printf 'module otelcol-sealos-ferretdb\n\ngo 1.22\n\nrequire %s %s\n' "${MODULE}" "${FERRETDB_VERSION}" >"${SCRATCH}/go.mod"
src="$(cd "${SCRATCH}" && go mod download -json "${MODULE}@${FERRETDB_VERSION}" | awk -F'"' '$2 == "Dir" { print $4 }')"
[[ -d "${src}" ]] || {
	log "error: cannot download ${MODULE}@${FERRETDB_VERSION}"
	exit 1
}
# Build inside a writable copy of the module (its own go.mod/go.sum pin every dependency).
cp -r "${src}" "${SCRATCH}/src"
chmod -R u+w "${SCRATCH}/src"
echo "${FERRETDB_VERSION}" >"${SCRATCH}/src/build/version/version.txt"
TMP_BIN="$(mktemp "${DIR}/.ferretdb.tmp.XXXXXX")"
(cd "${SCRATCH}/src" && go build -trimpath -ldflags='-s -w' -o "${TMP_BIN}" ./cmd/ferretdb) >&2
chmod 0755 "${TMP_BIN}"
mv -f "${TMP_BIN}" "${BIN}"
TMP_BIN=""
log "built ${BIN} in $((SECONDS - start))s"
echo "${BIN}"
