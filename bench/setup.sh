#!/usr/bin/env bash
# Installs the Debian baselines of `npm run bench`: nginx (static files from disk) and wrk (the load
# generator), plus a font for the chart's labels. Idempotent: does nothing when all are present. Never
# starts or enables a system service: the harness runs nginx as a child with its own config, prefix
# and port in a temp dir.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have_font() { [ -d /usr/share/fonts/truetype/dejavu ] || { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null | head -1)" ]; }; }

if have nginx && have wrk && have perf && have_font; then
  echo "bench/setup.sh: nginx, wrk, perf and a font already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench/setup.sh: apt-get not found; install nginx and wrk by hand (the benchmarks that need them are skipped)" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bench/setup.sh: not root and no sudo; install nginx and wrk by hand" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d = 101 tells Debian's maintainer scripts not to start the nginx service on install.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

$SUDO apt-get update -qq
pkgs=()
have wrk || pkgs+=(wrk)
# perf samples the server's thread with kernel and native frames (bench/lib/native-profile.ts).
have perf || pkgs+=(linux-perf)
have_font || pkgs+=(fonts-dejavu-core)
if ! have nginx; then
  # nginx-light is the smallest build with the static module; plain nginx where it is missing.
  if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
fi
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
echo "bench/setup.sh: installed ${pkgs[*]}"
