#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Makes sure a Docker daemon answers on /var/run/docker.sock (or $DOCKER_SOCK) and that the
# local test image netseg-test/busybox exists. These machines cannot pull images, so the image
# is imported from a busybox-static rootfs plus /bin/netseg-banner (banner.c, built static
# here: the test containers' listener); an image of another IMAGE_REV is rebuilt. A daemon
# that already answers is reused as is; one started here keeps running (other suites and
# engineers share it) with its log in /tmp/netseg-dockerd.log.
#
#   exit 0   daemon answers, image present
#   exit 77  Docker cannot be made available here (not root, no package, daemon won't start)
#   exit 1   unexpected failure
set -eu

SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=${NETSEG_TEST_IMAGE:-netseg-test/busybox}
LOG=/tmp/netseg-dockerd.log
WAIT=${NETSEG_DOCKERD_WAIT:-60}
IMAGE_REV=3 # bump when the image's content changes
HERE=$(cd "$(dirname "$0")" && pwd)

skip() { echo "dockerd.sh: skip: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "not root"

answers() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io >/dev/null 2>&1 ||
		skip "docker.io is not installed and apt-get install failed"
fi
command -v docker >/dev/null 2>&1 || skip "no docker client"

if ! answers; then
	# Serialise concurrent callers (parallel suites) so only one daemon gets started.
	exec 9>/tmp/netseg-dockerd.lock
	flock -w "$WAIT" 9 || skip "timed out waiting for the dockerd start lock"
	if ! answers; then
		if [ "$SOCK" != /var/run/docker.sock ]; then
			skip "$SOCK does not answer (only the default socket is started here)"
		fi
		setsid dockerd >>"$LOG" 2>&1 </dev/null &
		i=0
		while ! answers; do
			i=$((i + 1))
			[ "$i" -le "$WAIT" ] || skip "dockerd did not answer within ${WAIT}s (log: $LOG)"
			sleep 1
		done
	fi
	exec 9>&-
fi

# The revision is an environment variable, not a label: containers inherit an image's labels,
# and the tests and the demo match and print containers by label.
image_current() {
	docker -H "unix://$SOCK" image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
		"$IMAGE" 2>/dev/null | grep -qx "NETSEG_IMAGE_REV=$IMAGE_REV"
}

if ! image_current; then
	exec 8>/tmp/netseg-image.lock
	flock -w "$WAIT" 8 || skip "timed out waiting for the image build lock"
	if ! image_current; then
		bb=$(command -v busybox || true)
		# The image has no libc: only a static busybox (Debian's busybox-static) runs in it.
		if [ -z "$bb" ] || ! ldd "$bb" 2>&1 | grep -q 'not a dynamic executable'; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null 2>&1 ||
				skip "busybox-static unavailable"
			bb=/bin/busybox
		fi
		root=$(mktemp -d /tmp/netseg-bbroot.XXXXXX)
		trap 'rm -rf "$root"' EXIT
		mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
		cp "$bb" "$root/bin/busybox"
		# Make the applet links ourselves: no chroot needed, works whatever the host shell.
		for a in $("$root/bin/busybox" --list); do
			[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
		done
		cc -static -O2 -Wall -Wextra -Werror -o "$root/bin/netseg-banner" "$HERE/banner.c"
		tar -C "$root" -c . | docker -H "unix://$SOCK" import \
			--change "ENV NETSEG_IMAGE_REV=$IMAGE_REV" - "$IMAGE" >/dev/null
	fi
	exec 8>&-
fi
exit 0
