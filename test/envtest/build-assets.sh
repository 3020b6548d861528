#!/usr/bin/env bash
# Builds the Kubernetes test-control-plane binaries (kube-apiserver, etcd) that
# controller-runtime's envtest needs, from source via the Go module proxy, and
# caches them outside the repository.
#
# Usage:
#   export KUBEBUILDER_ASSETS="$(test/envtest/build-assets.sh)"
#
# stdout: exactly one line, the asset directory. Progress goes to stderr.
# Needs only Go (and network access to the Go module proxy). The first run
# takes several minutes (kube-apiserver ~6 min, etcd ~1 min on 2 cores);
# later runs return immediately.
#
# Env:
#   OTELCOL_SEALOS_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos)
set -euo pipefail

K8S_VERSION=1.35.4
ETCD_VERSION=3.6.6

CACHE_ROOT="${OTELCOL_SEALOS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos}"
ASSET_DIR="${CACHE_ROOT}/envtest/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"

log() { echo "build-assets: $*" >&2; }

have_assets() {
	[[ -f "${ASSET_DIR}/kube-apiserver" && -x "${ASSET_DIR}/kube-apiserver" &&
		-f "${ASSET_DIR}/etcd" && -x "${ASSET_DIR}/etcd" ]]
}

# Fast path: nothing to do.
if have_assets; then
	echo "${ASSET_DIR}"
	exit 0
fi

command -v go >/dev/null 2>&1 || {
	log "error: 'go' not found in PATH"
	exit 1
}

mkdir -p "${ASSET_DIR}"

# Serialize concurrent builds (e.g. parallel CI jobs sharing one cache).
if command -v flock >/dev/null 2>&1; then
	exec 9>"${ASSET_DIR}.lock"
	if ! flock -n 9; then
		log "another build is running; waiting for ${ASSET_DIR}.lock ..."
		flock 9
	fi
	if have_assets; then
		echo "${ASSET_DIR}"
		exit 0
	fi
fi

# Isolate from any surrounding workspace / repo settings; always build for
# the host, statically.
export GOWORK=off
export GOFLAGS=-mod=mod
export CGO_ENABLED=0
GOOS="$(go env GOHOSTOS)"
GOARCH="$(go env GOHOSTARCH)"
export GOOS GOARCH

SCRATCH=""
TMP_BIN=""
cleanup() {
	[[ -n "${TMP_BIN}" ]] && rm -f "${TMP_BIN}"
	[[ -n "${SCRATCH}" ]] && rm -rf "${SCRATCH}"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

new_scratch() {
	[[ -n "${SCRATCH}" ]] && rm -rf "${SCRATCH}"
	SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/otelcol-sealos-envtest.XXXXXX")"
}

# install_bin NAME PKG [go build flags...]: builds PKG in the current scratch
# module and atomically moves the result to ${ASSET_DIR}/NAME.
install_bin() {
	local name="$1" pkg="$2"
	shift 2
	TMP_BIN="$(mktemp "${ASSET_DIR}/.${name}.tmp.XXXXXX")"
	(cd "${SCRATCH}" && go build -trimpath "$@" -o "${TMP_BIN}" "${pkg}") >&2
	chmod 0755 "${TMP_BIN}"
	mv -f "${TMP_BIN}" "${ASSET_DIR}/${name}"
	TMP_BIN=""
}

build_kube_apiserver() {
	local k8s_mod="k8s.io/kubernetes" k8s_ver="v${K8S_VERSION}"
	# Staging modules (k8s.io/api, ...) are published as v0.<minor>.<patch>.
	local staging_ver="v0.${K8S_VERSION#*.}"
	local start=${SECONDS}
	log "building kube-apiserver ${k8s_ver} (takes ~6 min the first time)..."
	new_scratch
	(cd "${SCRATCH}" && go mod init otelcol-sealos-envtest-kube-apiserver) >/dev/null 2>&1

	# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces
	# them with ./staging/src/...; a consumer must replace them with the
	# published versions. Generate that list from kubernetes' own go.mod.
	local gomod
	gomod="$(cd "${SCRATCH}" && go list -m -f '{{.GoMod}}' "${k8s_mod}@${k8s_ver}")"
	[[ -f "${gomod}" ]] || {
		log "error: cannot fetch go.mod of ${k8s_mod}@${k8s_ver}"
		exit 1
	}
	local replaces
	replaces="$(awk -v ver="${staging_ver}" '
		/^replace[ \t]*\(/ { inblock = 1; next }
		inblock && /^\)/ { inblock = 0; next }
		{
			line = $0
			if (!inblock) { if (line !~ /^replace[ \t]/) next; sub(/^replace[ \t]+/, "", line) }
			n = split(line, f, /[ \t]+/)
			# fields: [""] MOD => ./staging/src/MOD
			for (i = 1; i <= n; i++) if (f[i] == "=>") break
			if (i > 1 && i < n && f[i+1] ~ /^\.\/staging\//) printf "\t%s => %s %s\n", f[i-1], f[i-1], ver
		}' "${gomod}")"
	[[ -n "${replaces}" ]] || {
		log "error: no staging replace directives found in ${gomod}"
		exit 1
	}
	# Use kubernetes' own go directive and godebug defaults.
	local godirective godebug
	godirective="$(awk '$1 == "go" { print $2; exit }' "${gomod}")"
	godebug="$(awk '
		/^godebug[ \t]*\(/ { inblock = 1; print; next }
		inblock { print; if ($0 ~ /^\)/) inblock = 0; next }
		/^godebug[ \t]/ { print }' "${gomod}")"
	{
		echo "module otelcol-sealos-envtest-kube-apiserver"
		echo
		echo "go ${godirective:-1.25.0}"
		[[ -n "${godebug}" ]] && printf '\n%s\n' "${godebug}"
		echo
		echo "require ${k8s_mod} ${k8s_ver}"
		echo
		echo "replace ("
		echo "${replaces}"
		echo ")"
	} >"${SCRATCH}/go.mod"

	local v=k8s.io/component-base/version
	local ldflags="-s -w -X ${v}.gitVersion=${k8s_ver} -X ${v}.gitMajor=${K8S_VERSION%%.*}"
	ldflags+=" -X ${v}.gitMinor=$(echo "${K8S_VERSION}" | cut -d. -f2) -X ${v}.gitTreeState=clean"
	ldflags+=" -X ${v}.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	install_bin kube-apiserver "${k8s_mod}/cmd/kube-apiserver" -ldflags="${ldflags}"
	log "built kube-apiserver in $((SECONDS - start))s"
}

build_etcd() {
	local etcd_mod="go.etcd.io/etcd/server/v3" etcd_ver="v${ETCD_VERSION}"
	local start=${SECONDS}
	log "building etcd ${etcd_ver} (takes ~1 min the first time)..."
	new_scratch
	printf 'module otelcol-sealos-envtest-etcd\n\ngo 1.24\n\nrequire %s %s\n' \
		"${etcd_mod}" "${etcd_ver}" >"${SCRATCH}/go.mod"
	# The etcd server module's root package is the etcd binary's main package.
	install_bin etcd "${etcd_mod}" -ldflags="-s -w"
	log "built etcd in $((SECONDS - start))s"
}

[[ -f "${ASSET_DIR}/etcd" && -x "${ASSET_DIR}/etcd" ]] || build_etcd
[[ -f "${ASSET_DIR}/kube-apiserver" && -x "${ASSET_DIR}/kube-apiserver" ]] || build_kube_apiserver

log "assets ready in ${ASSET_DIR}"
echo "${ASSET_DIR}"
