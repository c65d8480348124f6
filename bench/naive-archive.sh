#!/usr/bin/env bash
# naive-archive.sh: what one would write instead of aiarchive with stock
# tools: copy the export down, gzip and checksum and sign each file, copy
# the result up. It keeps no manifest and knows nothing of what an earlier
# run did; it is here as the baseline for bench/archive.sh.
#
# Usage: naive-archive.sh SRC_REMOTE:PATH DST_REMOTE:PATH WORKDIR MINISIGN_KEY
# (rclone remotes; the minisign key must be unencrypted: minisign -G -W).
set -euo pipefail
src=$1 dst=$2 work=$3 key=$4

mkdir -p "$work"
rclone copy "$src" "$work/data"
cd "$work"
find data -type f ! -name '*.gz' -print0 | xargs -0 -r gzip -6
find data -type f -name '*.gz' -print0 | sort -z | xargs -0 -r sha256sum >SHA256SUMS
# minisign signs many files per call, each into FILE.minisig.
find data -type f -name '*.gz' -print0 | xargs -0 -r minisign -S -s "$key" -m >/dev/null
minisign -S -s "$key" -m SHA256SUMS >/dev/null
rclone copy "$work" "$dst"
