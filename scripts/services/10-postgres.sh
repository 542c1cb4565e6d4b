# PostgreSQL on 127.0.0.1:5432 with trust auth for the user postgres.
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt_install postgresql
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 -q || fatal "PostgreSQL is not reachable on 127.0.0.1:5432"
psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null \
  || fatal "cannot log in to PostgreSQL as postgres (trust auth expected)"
