#!/bin/sh
# npm run setup: the Debian packages the full test suite uses, installed with apt-get when run as root.
#   chromium     the dashboard tests drive /usr/bin/chromium through playwright-core (nothing is downloaded)
#   bubblewrap   the Python code sandbox (with python3); its tests skip without it
#   python3, make, g++   build better-sqlite3 from source when no prebuilt binary can be fetched
# .ci/run installs the same list (APT_PACKAGES there); keep the two in step.
set -eu
PACKAGES="ca-certificates python3 make g++ bubblewrap chromium"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get not found. Install these with your package manager: $PACKAGES" >&2
  echo "setup: without chromium the dashboard browser tests skip; without bubblewrap or python3 the Python sandbox tests skip." >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: apt-get needs root. Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGES" >&2
  echo "setup: (or run npm run setup as root). Without them the dashboard and Python sandbox tests skip." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get install -y --no-install-recommends $PACKAGES
echo "setup: installed $PACKAGES"
