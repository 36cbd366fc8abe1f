# Sourced by scripts/benchmark and scripts/reliability: make sure PostgreSQL 15 (with the
# tandem role), Redis and the venv are there, the way scripts/test does.
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  echo "==> installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

command -v pg_ctlcluster >/dev/null || apt_install postgresql-15
command -v redis-server >/dev/null || apt_install redis-server
[ -x .venv/bin/python ] || scripts/bootstrap --dev

if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
  echo "==> starting PostgreSQL 15"
  $SUDO pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tandem') THEN
    CREATE ROLE tandem LOGIN PASSWORD 'tandem' CREATEDB;
  END IF;
END $$;
SQL

if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  redis-server --port 6379 --daemonize yes --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
