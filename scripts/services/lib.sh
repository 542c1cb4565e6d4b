# Shared by scripts/services/*.sh, which scripts/test sources in order: each makes sure one thing
# the tests need is installed and running, installing it from Debian's packages when missing.
# A service that will not come up is a loud failure, never a skipped test.

log() { printf '\n=== %s\n' "$*" >&2; }

fatal() { echo "FATAL: $*" >&2; exit 1; }

apt_updated=""
apt_install() {
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}
