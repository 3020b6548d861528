# Sourced by the build-*.sh scripts: the cache folder and lock they share.
#
#   cached_build NAME VERSION FILE
#
# sets DIR (${OTELCOL_SEALOS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos}/NAME/VERSION) and
# BIN (DIR/FILE). When BIN is already built it prints its path and exits the calling script;
# otherwise it takes the folder's lock (a concurrent build of the same thing is waited for, then
# its result used) and returns so the caller builds BIN. Needs `log` defined by the caller.
cached_build() {
	local cache_root="${OTELCOL_SEALOS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-sealos}"
	DIR="${cache_root}/$1/$2"
	BIN="${DIR}/$3"
	if [[ -x "${BIN}" ]]; then
		echo "${BIN}"
		exit 0
	fi
	command -v go >/dev/null 2>&1 || {
		log "error: 'go' not found in PATH"
		exit 1
	}
	mkdir -p "${DIR}"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${DIR}.lock"
		flock 9
		if [[ -x "${BIN}" ]]; then
			echo "${BIN}"
			exit 0
		fi
	fi
}
