#!/usr/bin/env bash
# Set up everything the tests need and run them: the real Pushgateway, node_exporter and
# Prometheus (Debian packages, installed when missing and we may), a virtual environment,
# ruff and mypy, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(prometheus-pushgateway prometheus-node-exporter prometheus systemd shellcheck)
binaries=(prometheus-pushgateway prometheus-node-exporter promtool prometheus systemd-analyze
          shellcheck)
missing=0
for binary in "${binaries[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || [ -x "/usr/bin/$binary" ] || missing=1
done
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"
}
if [ "$missing" -eq 1 ]; then
  if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
    apt_install "${packages[@]}"
  else
    echo "note: install ${packages[*]} (apt) to run the tests on real components;" \
         "without them those tests are skipped" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv 2>/dev/null || { apt_install python3-venv && python3 -m venv .venv; }
fi
.venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
.venv/bin/ruff check nbu_push tests bench
.venv/bin/mypy nbu_push
exec .venv/bin/python -m pytest "$@"
