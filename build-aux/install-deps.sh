#!/bin/sh
# build-aux/install-deps.sh — install the Debian 12 packages forkjoin needs.
#
# Idempotent: silent when everything is present.  Runs `apt-get update` once
# before an install.  When not root, prints the exact command and stops.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

PACKAGES="
  gcc
  make
  meson
  ninja-build
  pkg-config
  libglib2.0-dev
  libsoup-3.0-dev
  libjson-glib-dev
  gobject-introspection
  libgirepository1.0-dev
  gir1.2-soup-3.0
  gir1.2-json-1.0
  glib-networking
  python3-gi
  python3-jsonschema
  gjs
  gir1.2-gtk-4.0
  xvfb
  xauth
  gi-docgen
  valgrind
  clang
  libclang-rt-14-dev
  openssl
"

missing=""
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $pkg" ;;
  esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "forkjoin: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi

echo "forkjoin: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
