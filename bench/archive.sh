#!/usr/bin/env bash
# archive.sh: `aiarchive run` between two Azurite instances against
# `rclone copy` and against bench/naive-archive.sh on the same export; CPU
# per GiB against bare gzip -6 + sha256sum on local files; and the requests
# of a run with nothing new as the archived history grows.
# BENCH_SIZE picks the export: tiny (8 MiB, a smoke test), small (256 MiB,
# 1,200 blobs) or full (2 GiB, 10,000 blobs). BENCH_HISTORY lists history sizes in blobs (multiples of
# 1,000). BENCH_PARTS limits the parts: any of copy, cpu, history;
# BENCH_TOOLS the tools of the copy part: any of aiarchive, rclone (default
# flags), rclone16 (--transfers 16), naive.
. "$(dirname "$0")/lib.sh"
[ -x "$AIGEN" ] && [ -x "$AIARCHIVE" ] || { echo "bench: build aiarchive and aigen first" >&2; exit 1; }
parts=${BENCH_PARTS:-copy cpu history}
tools=${BENCH_TOOLS:-aiarchive rclone naive rclone16}
case $BENCH_SIZE in
tiny) gen=(--apps 1 --hours 2 --blobs-per-hour 2 --target-bytes 8M) ;;
small) gen=(--apps 5 --hours 6 --blobs-per-hour 4 --target-bytes 256M) ;;
full) gen=(--apps 5 --hours 50 --blobs-per-hour 4 --target-bytes 2G) ;;
*) echo "bench: unknown size '$BENCH_SIZE' (tiny, small or full)" >&2; exit 2 ;;
esac
: "${BENCH_HISTORY:=2000 20000}"
export AIARCHIVE_SOURCE_KEY=$AZURITE_KEY AIARCHIVE_DEST_KEY=$AZURITE_KEY

export_dir=$BENCH_OUT/export-$BENCH_SIZE
src_tree=$export_dir/appinsights-export
if [[ " $parts " == *" copy "* || " $parts " == *" cpu "* ]]; then
	gen_once "$export_dir" "${gen[@]}"
	nblobs=$(find "$src_tree" -type f | wc -l)
	echo "# export $BENCH_SIZE: $nblobs blobs, $(du -sb "$src_tree" | cut -f1) bytes" >&2
fi
key=$BENCH_OUT/aiarchive.key
[ -s "$key" ] || "$AIARCHIVE" keygen -o "$key" >/dev/null
mkey=$BENCH_OUT/minisign.key
[ -s "$mkey" ] || minisign -G -W -f -p "$BENCH_OUT/minisign.pub" -s "$mkey" >/dev/null

# new_dest NAME: starts Azurite NAME with an empty "archive" container and
# points rclone remote dstr at it.
new_dest() {
	local url
	azurite_start "$1"
	url=${1}_URL
	blobtool_at "$1" mkcontainer archive >/dev/null
	rclone_env dstr "${!url}/archive" "$(sas_for "$1" archive racwdl +12h)"
	DEST_URL=${!url}/archive
}

if [[ " $parts " == *" copy "* ]]; then
	azurite_start SRC
	t0=$SECONDS
	blobtool_at SRC upload-tree "$export_dir" >/dev/null
	echo "# uploaded the export to the source in $((SECONDS - t0)) s" >&2
	rclone_env srcr "$SRC_URL/appinsights-export" "$(sas_for SRC appinsights-export rl +12h)"
	for rep in $(seq 1 "$BENCH_REPS"); do
		# Rotate who goes first so nobody always meets the same server state.
		case $((rep % 3)) in
		1) order="aiarchive rclone naive rclone16" ;;
		2) order="rclone16 rclone naive aiarchive" ;;
		0) order="naive aiarchive rclone16 rclone" ;;
		esac
		for who in $order; do
			[[ " $tools " == *" $who "* ]] || continue
			new_dest "DST_${rep}_$who"
			case $who in
			aiarchive)
				# init is once in an archive's life: not part of the timing.
				ai_init "$DEST_URL" "$key" || { echo "bench: aiarchive init failed" >&2; exit 1; }
				timed archive aiarchive-run "$rep" -- "$AIARCHIVE" --json run \
					--source "$SRC_URL/appinsights-export" --dest "$DEST_URL" --key "$key"
				jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0' "$BENCH_LAST" >/dev/null ||
					{ echo "bench: aiarchive archived $(cat "$BENCH_LAST")" >&2; exit 1; }
				;;
			rclone)
				timed archive rclone-copy "$rep" -- rclone copy srcr:appinsights-export dstr:archive
				;;
			rclone16)
				# As many transfers in flight as aiarchive's --jobs 16 (its default until §9).
				timed archive rclone-copy-t16 "$rep" -- rclone copy --transfers 16 --checkers 16 \
					srcr:appinsights-export dstr:archive
				;;
			naive)
				timed archive naive-script "$rep" -- "$BENCH_DIR/naive-archive.sh" \
					srcr:appinsights-export dstr:archive "$TEST_TMP/naive" "$mkey"
				rm -rf "$TEST_TMP/naive"
				;;
			esac
			azurite_stop "DST_${rep}_$who"
		done
	done
	azurite_stop SRC
fi

if [[ " $parts " == *" cpu "* ]]; then
	# Read the files once so the first measurement does not pay for the disk.
	find "$src_tree" -type f -print0 | xargs -0 cat >/dev/null
	for rep in $(seq 1 "$BENCH_REPS"); do
		rm -rf "$TEST_TMP/local"
		ai_init "file://$TEST_TMP/local" "$key" || { echo "bench: aiarchive init failed" >&2; exit 1; }
		timed cpu aiarchive-local "$rep" -- "$AIARCHIVE" --json run \
			--source "file://$src_tree" --dest "file://$TEST_TMP/local" --key "$key"
		rm -rf "$TEST_TMP/local"
		timed cpu gzip6+sha256sum "$rep" -- bash -c '
			find "$1" -type f -print0 | xargs -0 gzip -6 -c >/dev/null
			find "$1" -type f -print0 | xargs -0 sha256sum >/dev/null' _ "$src_tree"
	done
fi

if [[ " $parts " == *" history "* ]]; then
	for h in $BENCH_HISTORY; do
		# Tiny blobs, 10 types x 10 a delivery hour, ending months before now.
		hist=$BENCH_OUT/history-$h
		gen_once "$hist" --apps 1 --hours $((h / 100)) --blobs-per-hour 10 \
			--rows-per-blob 1 --from 2026-03-01T00
		az=HIST_$h
		azurite_start "$az"
		url=${az}_URL
		t0=$SECONDS
		blobtool_at "$az" upload-tree "$hist" >/dev/null
		echo "# uploaded $h history blobs in $((SECONDS - t0)) s" >&2
		# Azurite scans its whole blob table for every listing page, so with
		# a large history one page can take minutes: wait for it.
		hrun=("$AIARCHIVE" --json run --source "${!url}/appinsights-export"
			--dest "${!url}/archive" --key "$key" --stall-timeout 10m --retry-total 30m)
		ai_init "${!url}/archive" "$key" || { echo "bench: aiarchive init failed" >&2; exit 1; }
		BENCH_SIZE=history-$h timed history first-run 1 -- "${hrun[@]}"
		for rep in $(seq 1 "$BENCH_REPS"); do
			BENCH_SIZE=history-$h timed history noop-run "$rep" -- "${hrun[@]}"
			jq -e '.blobs == 0' "$BENCH_LAST" >/dev/null ||
				{ echo "bench: the no-op run archived $(cat "$BENCH_LAST")" >&2; exit 1; }
		done
		azurite_stop "$az"
	done
fi
