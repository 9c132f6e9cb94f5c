#!/usr/bin/env bash
# Sets up what `make demo` / `make test` need on a fresh Debian/Ubuntu machine:
#   python  - a .venv with the project and its Python packages (every mode)
#   tools   - system tools the tests use: mosquitto, promtool, helm (test mode only)
# Where it cannot install something (not root, no apt), it says exactly what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
PYTHON=${PYTHON:-python3}

need_python() {
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python >= 3.11 is needed (found: $("$PYTHON" --version 2>&1 || echo none))." >&2
    echo "setup: install it (Debian/Ubuntu: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
}

setup_venv() {
  local extras=$1 stamp=.venv/.installed-$1
  if [[ ! -x .venv/bin/python ]]; then
    if ! "$PYTHON" -m venv .venv; then
      echo "setup: could not create .venv; install the venv module (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    echo "setup: installing Python packages ($extras) into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e ".[$extras]"
    touch "$stamp"
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
case $mode in
  demo) setup_venv all ;;
  test) setup_venv all,dev; setup_tools ;;
  *) echo "usage: scripts/setup.sh demo|test" >&2; exit 2 ;;
esac
