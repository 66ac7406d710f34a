#!/usr/bin/env bash
# bench/callgrind.sh -- instructions executed (callgrind's Ir) per handshake and
# per 1 MiB of bulk data, tlsv against OpenSSL's libssl.
#
#   bench/callgrind.sh [-o DIR] [--once] [TLSV_BENCH]
#
# For each kind and library it runs `tlsv-bench --count KIND --lib LIB` under
# valgrind --tool=callgrind, counting only inside counted_work() (one unit of
# work, after one unit of warm-up); for each handshake kind also bound_KIND,
# its public-key operations alone on libcrypto. Every run is made twice and
# must give the same count to the instruction (tlsv-bench --count fixes the
# random bytes and the clock); a difference fails the script. --once skips
# the repetition. -o DIR keeps the callgrind.out files there, for
# `callgrind_annotate --inclusive=yes DIR/tls13_ecdsa.tlsv.out`.
# TLSV_BENCH (or the argument): the program (default: build-bench/bench/
# tlsv-bench, then build/bench/tlsv-bench, under the source tree).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
keep= once=0 bench=${TLSV_BENCH:-}
while [ $# -gt 0 ]; do
    case $1 in
        -o) keep=$2; shift 2 ;;
        --once) once=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench=$1; shift ;;
    esac
done
if [ -z "$bench" ]; then
    for b in "$here/build-bench/bench/tlsv-bench" "$here/build/bench/tlsv-bench"; do
        [ -x "$b" ] && { bench=$b; break; }
    done
fi
[ -n "$bench" ] && [ -x "$bench" ] || { echo "callgrind.sh: no tlsv-bench program (build it, or name it)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tlsv-callgrind-XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${keep:-$work}
mkdir -p "$out"

# One set of certificates for every run, made natively (RSA key generation
# under valgrind is slow, and the same certificates give the same counts).
"$bench" --pki-dir "$work/pki" --count tls13_ecdsa --lib tlsv >/dev/null

# Ir of one run: prints the total of the collected events.
count() { # KIND LIB FILE
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=counted_work \
        --callgrind-out-file="$3" "$bench" --pki-dir "$work/pki" --count "$1" --lib "$2" \
        >"$3.log" 2>&1 || { echo "callgrind.sh: $1 with $2 failed:" >&2; cat "$3.log" >&2; exit 1; }
    grep -q '^counted: ' "$3.log" || { echo "callgrind.sh: $1 with $2 did not run" >&2; exit 1; }
    awk '/^totals:/ { print $2; found = 1 } END { if (!found) exit 1 }' "$3"
}

kinds="tls13_ecdsa tls13_rsa tls12_ecdsa tls13_resumed tls12_resumed bulk_aes128gcm bulk_aes256gcm bulk_chacha20"
hs_kinds="tls13_ecdsa tls13_rsa tls12_ecdsa"
declare -A ir
status=0
measure() { # KIND LIB: the count into ir[KIND.LIB], checked against a second run
    ir[$1.$2]=$(count "$1" "$2" "$out/$1.$2.out")
    if [ "$once" = 0 ]; then
        again=$(count "$1" "$2" "$work/again.out")
        if [ "$again" != "${ir[$1.$2]}" ]; then
            echo "callgrind.sh: $1 with $2 is not repeatable: ${ir[$1.$2]} then $again" >&2
            status=1
        fi
    fi
}
for kind in $kinds; do
    measure "$kind" tlsv
    measure "$kind" openssl
done
for kind in $hs_kinds; do
    measure "bound_$kind" tlsv # the library plays no part
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "Instructions (callgrind Ir) per unit: a handshake (both sides, connections made and freed)"
echo "or 1 MiB client->server in 16 KiB records on an established TLS 1.3 connection."
echo "$(valgrind --version), ${bench#"$here"/}"
if [ "$once" = 0 ]; then
    [ $status = 0 ] && echo "Each count was made twice and repeated exactly." \
                    || echo "SOME COUNTS DID NOT REPEAT (see above)."
fi
echo "bound: the handshake's public-key operations alone (as tlsv-bench's primitive bound);"
echo "bound/x: the share of a library's instructions they are."
printf '\n%-16s %14s %14s %8s %12s %8s %8s\n' kind tlsv openssl ratio bound bound/tlsv bound/ossl
for kind in $kinds; do
    t=${ir[$kind.tlsv]} o=${ir[$kind.openssl]}
    printf '%-16s %14s %14s %7sx' "$kind" "$t" "$o" "$(ratio "$t" "$o")"
    if [ -n "${ir[bound_$kind.tlsv]:-}" ]; then
        b=${ir[bound_$kind.tlsv]}
        printf ' %12s %9s %8s' "$b" "$(awk -v b="$b" -v x="$t" 'BEGIN { printf "%.0f%%", 100 * b / x }')" \
            "$(awk -v b="$b" -v x="$o" 'BEGIN { printf "%.0f%%", 100 * b / x }')"
    fi
    printf '\n'
done
echo
for kind in $kinds; do
    echo "figure ir_$kind tlsv=${ir[$kind.tlsv]} openssl=${ir[$kind.openssl]} ratio=$(ratio "${ir[$kind.tlsv]}" "${ir[$kind.openssl]}") unit=Ir"
done
for kind in $hs_kinds; do
    echo "figure ir_bound_$kind value=${ir[bound_$kind.tlsv]} unit=Ir"
done
[ -n "$keep" ] && echo "callgrind.out files: $keep/KIND.LIB.out"
exit $status
