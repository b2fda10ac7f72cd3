// Package conformance runs Go's own net/http client tests against spool.
//
// At test time it generates, from the installed toolchain's
// $(go env GOROOT)/src/net/http, a copy of net/http's client test files in
// a temporary module (nothing of them is stored in this repository),
// rewrites their Transport into a type chosen by build tag (net/http's own,
// or a wrapper over spool.Transport with the same field names), builds one
// test binary per transport and runs every test function in its own
// process with a timeout. Units are a test function times net/http's modes
// (h1, https1, h2 subtests of the run helper). The result is a table per
// unit, compared against differences.txt (accepted differences, each with
// its reason), internals.txt (tests that need net/http's internals) and
// known_failures.txt (the baseline of failures not yet fixed).
//
// It is slow (minutes), so it runs only with SPOOL_CONFORMANCE=1:
//
//	SPOOL_CONFORMANCE=1 go test -v -timeout 30m ./conformance
//	SPOOL_CONFORMANCE=1 go test ./conformance -update   # rewrite the baseline files
//
// Environment: SPOOL_CONFORMANCE_RUN (regexp: run only these test
// functions), SPOOL_CONFORMANCE_TIMEOUT (per test process, default 30s),
// SPOOL_CONFORMANCE_JOBS (processes at once, default 2),
// SPOOL_CONFORMANCE_SHORT=1 (net/http's -short mode: quicker, but some
// tests then skip their bodies), SPOOL_CONFORMANCE_DIR (keep the generated
// module and binaries there), SPOOL_CONFORMANCE_OUT (write the table to a
// file), SPOOL_CONFORMANCE_REPO (test another checkout of spool).
package conformance
