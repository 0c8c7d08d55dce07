#!/usr/bin/env bash
# Browser tests (the dashboard, SVG safety) drive Debian's Chromium through playwright-core; a tool's own
# browser download cannot work on these machines, so Chromium comes from Debian's archive.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "ensure-chromium: /usr/bin/chromium missing; install Debian's chromium package" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
