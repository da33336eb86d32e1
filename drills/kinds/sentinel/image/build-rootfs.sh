#!/bin/bash
# The sentinel image adds nothing to drills/redis:7 (its Dockerfile starts FROM it): its
# root file system layer is empty, so no mmdebstrap runs for it.
#
# usage: build-rootfs.sh OUTPUT.tar
set -euo pipefail
out="${1:?usage: build-rootfs.sh OUTPUT.tar}"
tar -cf "$out.partial" --files-from /dev/null
mv -f "$out.partial" "$out"
