#!/usr/bin/env bash
# Optional OS packages of the user-surface tests, called by scripts/setup.sh: Debian's chromium and
# chromium-driver (the HTML report is opened in headless Chromium) and tmux (tsquant watch runs in
# it). As root, missing ones are installed; when that fails (no package mirror) or without root,
# one line on stderr says so and the tests that need them are skipped. TSQ_BROWSER=off skips this.
set -uo pipefail

[ "${TSQ_BROWSER:-on}" = off ] && exit 0
command -v dpkg-query >/dev/null || exit 0

wanted="chromium chromium-driver tmux"
missing=""
for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup: optional packages missing:$missing (report-in-browser and watch tests are skipped); install with: sudo apt-get install -y$missing" >&2
    exit 0
fi
echo "setup: installing optional packages:$missing"
if ! { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; }; then
    echo "setup: could not install$missing (no package mirror?): report-in-browser and watch tests are skipped" >&2
fi
exit 0
