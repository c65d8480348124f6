#!/usr/bin/env bash
# store.sh: the storage client against @azure/storage-blob on one Azurite:
# many small GETs, then one large block upload streamed from a file.
# Environment: BENCH_SMALL_COUNT (5000), BENCH_SMALL_SIZE (2048 bytes),
# BENCH_UPLOAD_MIB (1024), BENCH_GET_THREADS (16), BENCH_PUT_THREADS (4),
# BENCH_BLOCK (8MiB); see bench/lib.sh for the rest.
. "$(dirname "$0")/lib.sh"
STOREBENCH=$top_builddir/tools/storebench
SDKBENCH=$BENCH_DIR/sdkbench.mjs
[ -x "$STOREBENCH" ] || { echo "bench: build tools/storebench first" >&2; exit 1; }
count=${BENCH_SMALL_COUNT:-5000}
small=${BENCH_SMALL_SIZE:-2048}
mib=${BENCH_UPLOAD_MIB:-1024}
gt=${BENCH_GET_THREADS:-16}
pt=${BENCH_PUT_THREADS:-4}
block=${BENCH_BLOCK:-8MiB}
block_bytes=$(numfmt --from=iec "${block%iB}")

# ---- small GETs: one Azurite holds the blobs for every repetition
tree=$TEST_TMP/small
mkdir -p "$tree/smallblobs"
node -e '
	const fs = require("fs"), crypto = require("crypto");
	const [dir, n, size] = [process.argv[1], +process.argv[2], +process.argv[3]];
	for (let i = 0; i < n; i++) {
		const d = `${dir}/d${String(i % 50).padStart(2, "0")}`;
		fs.mkdirSync(d, { recursive: true });
		fs.writeFileSync(`${d}/b${String(i).padStart(6, "0")}`, crypto.randomBytes(size));
	}' "$tree/smallblobs" "$count" "$small"
azurite_start GETS
blobtool_at GETS upload-tree "$tree" >/dev/null
export STOREBENCH_KEY=$AZURITE_KEY
for rep in $(seq 1 "$BENCH_REPS"); do
	# Alternate who goes first so neither always meets a warmer server.
	order="c sdk"
	[ $((rep % 2)) -eq 0 ] && order="sdk c"
	for who in $order; do
		if [ "$who" = c ]; then
			timed store-get aiarchive-client "$rep" -- \
				"$STOREBENCH" --url "$GETS_URL/smallblobs" --threads "$gt" get
		else
			AZ_CONN=$GETS_CONN timed store-get azure-sdk-js "$rep" -- \
				node "$SDKBENCH" get smallblobs --threads "$gt"
		fi
		jq -e --argjson n "$count" '.count == $n' "$BENCH_LAST" >/dev/null ||
			{ echo "bench: wrong count: $(cat "$BENCH_LAST")" >&2; exit 1; }
	done
done
azurite_stop GETS

# ---- one large upload, from a file made once; a fresh Azurite each time
big=$BENCH_OUT/upload-${mib}MiB.bin
if [ ! -s "$big" ] || [ "$(stat -c %s "$big")" -ne $((mib << 20)) ]; then
	head -c $((mib << 20)) /dev/urandom >"$big.tmp" && mv "$big.tmp" "$big"
fi
# Read it once so neither client pays for the first read from disk.
cat "$big" >/dev/null
for rep in $(seq 1 "$BENCH_REPS"); do
	order="c sdk"
	[ $((rep % 2)) -eq 0 ] && order="sdk c"
	for who in $order; do
		# A new name each time: lib.sh keeps a stopped instance's files.
		az=PUT_${rep}_$who
		azurite_start "$az"
		url_var=${az}_URL conn_var=${az}_CONN
		blobtool_at "$az" mkcontainer upload >/dev/null
		if [ "$who" = c ]; then
			timed store-put aiarchive-client "$rep" -- \
				"$STOREBENCH" --url "${!url_var}/upload" --threads "$pt" \
				--block-size "$block" put --file "$big" --name big.bin
		else
			AZ_CONN=${!conn_var} timed store-put azure-sdk-js "$rep" -- \
				node "$SDKBENCH" put upload big.bin "$big" --threads "$pt" \
				--block-size "$block_bytes"
		fi
		size=$(blobtool_at "$az" list upload | awk -F'\t' '$1 == "big.bin" { print $2 }')
		[ "$size" = $((mib << 20)) ] || { echo "bench: upload has size '$size'" >&2; exit 1; }
		azurite_stop "$az"
	done
done
