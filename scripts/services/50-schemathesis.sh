# schemathesis (PyPI) in its own virtualenv, for scripts/schemathesis: the OpenAPI fuzzer that
# checks the running service against /api/v1/openapi.json. Installed once, reused when present.
SCHEMATHESIS_VENV="${SCHEMATHESIS_VENV:-$HOME/.cache/webex-recordings/schemathesis-venv}"
export SCHEMATHESIS_VENV
if ! "$SCHEMATHESIS_VENV/bin/st" --version >/dev/null 2>&1; then
  log "installing schemathesis into $SCHEMATHESIS_VENV"
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  python3 -m venv "$SCHEMATHESIS_VENV" || fatal "cannot create a Python virtualenv (python3-venv missing?)"
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5' \
    || fatal "cannot install schemathesis from PyPI"
fi
"$SCHEMATHESIS_VENV/bin/st" --version >/dev/null 2>&1 || fatal "schemathesis is not runnable from $SCHEMATHESIS_VENV"
# The seeding script writes the service's SQLite file, whose search index (FTS5 with
# contentless_delete) needs SQLite 3.43 or newer; Debian's Python links an older one.
if ! "$SCHEMATHESIS_VENV/bin/python" -c 'import pysqlite3' >/dev/null 2>&1; then
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check pysqlite3-binary \
    || fatal "cannot install pysqlite3-binary from PyPI"
fi
