#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cluster mode end to end (see the diagram atop tests/cluster/run.py): three host namespaces,
# their containers and agents, one etcd the test starts itself. Exit 77 when not root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
exec python3 "$here/run.py" --bin "${NETSEG_BIN:-$root/build/netseg}"
