#!/bin/sh
# run_fuzzer: runs one libFuzzer target for a bounded time, as a ctest entry
# or by hand. Everything the run writes (the growing corpus, crash, leak and
# timeout artifacts, the target's temporary files) stays under WORK_DIR; the
# seeds are copied there first, so the source tree is only read.
#
# usage: run_fuzzer.sh FUZZER WORK_DIR SECONDS [ARG...]
#   an ARG starting with '-' is passed to libFuzzer (-dict=..., -max_len=...);
#   any other ARG is a seed directory (its files are copied) or a seed file.
# Exits 0 when the time ran out with no finding, non-zero otherwise; the
# input that failed is WORK_DIR/artifacts/<kind>-<sha1>.
set -eu

if [ $# -lt 3 ]; then
    echo "usage: $0 FUZZER WORK_DIR SECONDS [-libfuzzer-flag | SEED_DIR | SEED_FILE]..." >&2
    exit 2
fi
fuzzer=$1
work=$2
seconds=$3
shift 3

corpus="$work/corpus"
rm -rf "$corpus"
mkdir -p "$corpus" "$work/artifacts" "$work/tmp"

# Seeds are copied; the libFuzzer flags stay in "$@", in order.
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    case "$arg" in
    -*) set -- "$@" "$arg" ;;
    *)
        if [ -d "$arg" ]; then
            # Seed directories are flat directories of small files.
            find "$arg" -maxdepth 1 -type f -exec cp {} "$corpus"/ \;
        elif [ -f "$arg" ]; then
            cp "$arg" "$corpus"/
        else
            echo "run_fuzzer: no seed $arg" >&2
            exit 2
        fi
        ;;
    esac
done

export TMPDIR="$work/tmp"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# -timeout: an input taking longer than 10 s is a hang (libFuzzer's default is 20 min).
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$corpus"
