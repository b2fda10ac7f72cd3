#!/usr/bin/env bash
# spool's whole test suite: vet, every package under the race detector, the
# allocation pins without it (they skip under -race),
# the peer suite against real nginx/squid/dante (installed when running in
# CI or with SPOOL_PEERS=1), then a bounded run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CI:-}" ] || [ "${SPOOL_PEERS:-0}" = 1 ]; then
	bash .ci/install-peers.sh
	bash .ci/install-browser.sh # the debug page's Chromium test
fi

echo "== go vet"
go vet ./...

echo "== go test -race ./..."
go test -race -count=1 -timeout 30m ./...

# The allocation pins skip themselves under -race (it adds allocations):
# run them once without it, so a change that adds one fails CI.
echo "== allocation pins (no -race)"
if ! out=$(go test -count=1 -run 'Allocs$' -v ./... 2>&1); then
	echo "$out"
	exit 1
fi
echo "$out" | grep -E '^--- |allocations per'

# net/http's own client tests, generated at test time from this toolchain's
# GOROOT, run against net/http and spool (conformance/, a few minutes): a
# unit passing on net/http and failing on spool fails CI unless
# conformance/differences.txt or conformance/known_failures.txt lists it.
echo "== conformance: net/http's client tests against spool"
SPOOL_CONFORMANCE=1 go test -count=1 -timeout 30m -run '^TestConformance$' -v ./conformance

# The metrics modules have their own go.mod (their OpenTelemetry and
# Prometheus dependencies stay out of the core's).
for mod in otelspool promspool; do
	if [ -f "$mod/go.mod" ]; then
		echo "== $mod module (vet + tests)"
		(cd "$mod" && go vet ./... && go test -race -count=1 ./...)
	fi
done

if [ -f bench/go.mod ]; then
	echo "== bench module (vet + tests)"
	(cd bench && go vet ./... && go test -count=1 ./...)
fi

# Libraries that classify net/http's errors must classify spool's alike
# (DESIGN decision 7); each is its own module, so its dependency stays out
# of spool's go.mod.
for m in compat/*/; do
	[ -f "$m/go.mod" ] || continue
	echo "== compat module $m (vet + tests)"
	(cd "$m" && go vet ./... && go test -race -count=1 ./...)
done

bash scripts/h2spec.sh # h2specd's 57 HTTP/2 client cases, h2c and TLS

if [ -n "${CI:-}" ] || [ "${SPOOL_SOAK:-0}" = 1 ]; then
	echo "== soak: ${SPOOL_SOAK_REQUESTS:-1000000} requests at 256 concurrency"
	SPOOL_SOAK=1 go test -count=1 -run '^TestSoak$' -timeout 20m -v ./soak | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|soak_test.go'
fi

fuzztime=${SPOOL_FUZZTIME:-20s}
# fuzz_one fuzzes one target. A finding (the fuzzer writes the failing input
# to testdata/fuzz) fails the run; Go's fuzzing machinery sometimes ends a
# run with "context deadline exceeded" when the time is up mid-minimization,
# which is not a finding: that case is retried once.
fuzz_one() {
	local pkg=$1 target=$2 out attempt
	for attempt in 1 2; do
		if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" 2>&1); then
			echo "$out" | tail -n 1
			return 0
		fi
		echo "$out" | tail -n 20
		if echo "$out" | grep -q "Failing input written"; then
			return 1
		fi
		echo "(fuzzing machinery error, not a finding: retrying once)"
	done
	return 1
}
echo "== fuzz, $fuzztime per target"
for pkg in . ./internal/wire ./internal/h2 ./faulttest; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "-- $pkg $target"
		fuzz_one "$pkg" "$target"
	done
done
echo "== all tests passed"
