#!/usr/bin/env bash
# Sets up what `make demo` / `make test` need on a fresh Debian/Ubuntu machine:
#   python  - .venv with exactly the packages uv.lock names (every mode); nothing is resolved here
#   tools   - system tools the tests use: mosquitto, promtool, helm (test mode only)
# Where it cannot install something (not root, no apt), it says exactly what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
export PYTHON=${PYTHON:-python3}
UV=.tools/bin/uv
# uv uses the machine's Python and never fetches one; its wheel cache (~/.cache/uv) is shared by every
# clone on the machine, so a second clone installs without downloading.
export UV_PYTHON=$PYTHON UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

need_python() {
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python >= 3.11 is needed (found: $("$PYTHON" --version 2>&1 || echo none))." >&2
    echo "setup: install it (Debian/Ubuntu: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
}

sync_venv() {
  # --frozen: install what uv.lock names, never re-resolve. The demo leaves extra packages (the dev tools
  # of an earlier `make test`) in place; the tests get exactly the lock's set.
  local args=(--frozen --extra all)
  case $1 in
    demo) args+=(--inexact) ;;
    test) args+=(--extra dev) ;;
  esac
  if ! $UV sync --quiet "${args[@]}"; then
    echo "setup: could not install the locked packages into .venv (see above); check that this machine" >&2
    echo "setup: reaches pypi.org, or remove .venv and try again" >&2
    exit 1
  fi
}

apt_install() {
  # $@: debian packages. Installs them when root with apt, else explains.
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "setup: missing system packages: $*" >&2
    echo "setup: install them as root, e.g.: sudo apt-get install -y $*" >&2
    exit 1
  fi
  echo "setup: apt-get install $*"
  if [[ ! -f /tmp/.continuum-apt-updated ]]; then
    apt-get update -qq && touch /tmp/.continuum-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

setup_tools() {
  local pkgs=()
  command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || pkgs+=(mosquitto)
  command -v mosquitto_pub >/dev/null || pkgs+=(mosquitto-clients)
  command -v promtool >/dev/null || pkgs+=(prometheus)
  command -v tmux >/dev/null || pkgs+=(tmux)
  command -v openssl >/dev/null || pkgs+=(openssl)
  if ((${#pkgs[@]})); then apt_install "${pkgs[@]}"; fi
  # Mosquitto's Debian package starts a system broker; tests start their own on free ports.
  if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    systemctl stop mosquitto || true
  fi
  scripts/fetch-helm.sh
}

need_python
scripts/ensure-uv.sh
scripts/check-lock.sh
case $mode in
  demo) sync_venv demo ;;
  test) sync_venv test; setup_tools ;;
  *) echo "usage: scripts/setup.sh demo|test" >&2; exit 2 ;;
esac
