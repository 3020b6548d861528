#!/usr/bin/env bash
# Makes sure the database servers the tests talk to are installed, running and accepting
# connections on loopback: PostgreSQL :5432 (user postgres, trust), MariaDB :3306 (root, no
# password), Redis :6379; and builds FerretDB (MongoDB wire protocol) and the Distribution registry
# (Docker Registry v2) from the Go module proxy.
#
# PostgreSQL trusts 127.0.0.1, so a wrong password would still log in: members of the role
# otelcol_password_auth (test/dbtest puts its accounts there) must authenticate with a password.
#
# Idempotent: a second run only checks. Needs root for apt-get and starting the servers.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { echo "services: $*" >&2; }

# wait_port NAME PORT: up to 60 s for a TCP listener on 127.0.0.1:PORT.
wait_port() {
	local name="$1" port="$2"
	for _ in $(seq 1 120); do
		if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
			log "${name} accepts connections on 127.0.0.1:${port}"
			return 0
		fi
		sleep 0.5
	done
	log "error: ${name} not listening on 127.0.0.1:${port} after 60s"
	return 1
}

missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
[[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v redis-server >/dev/null || missing+=(redis-server)
if [[ ${#missing[@]} -gt 0 ]]; then
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

# PostgreSQL: trust on loopback, password auth for the test group.
pgver="$(ls /etc/postgresql | sort -V | tail -1)"
hba="/etc/postgresql/${pgver}/main/pg_hba.conf"
if ! grep -q '^host all all 127.0.0.1/32 trust' "${hba}"; then
	echo 'host all all 127.0.0.1/32 trust' >>"${hba}"
fi
if ! grep -q 'otelcol_password_auth' "${hba}"; then
	sed -i '1i host all +otelcol_password_auth 127.0.0.1/32 scram-sha-256' "${hba}"
fi
pg_ctlcluster --skip-systemctl-redirect "${pgver}" main start 2>/dev/null || true
wait_port postgresql 5432
for _ in $(seq 1 60); do
	psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 && break
	sleep 0.5
done
psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -q >/dev/null <<'SQL'
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'otelcol_password_auth') THEN
		CREATE ROLE otelcol_password_auth NOLOGIN;
	END IF;
END $$;
SELECT pg_reload_conf();
SELECT 1 FROM pg_database WHERE datname = 'test';
SQL
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
	psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'

# MariaDB
if ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
fi
wait_port mariadb 3306

# Redis
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
fi
wait_port redis 6379

# FerretDB (cached; the first build takes a few minutes)
test/services/build-ferretdb.sh >/dev/null
# The Distribution registry for the registryproxy receiver (cached; the first build takes ~2 min)
test/services/build-registry.sh >/dev/null
log "ready"
