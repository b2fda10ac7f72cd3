// Package peertest runs spool against real servers started on loopback:
// nginx (HTTP/1.1, TLS, HTTP/2), squid (HTTP proxy, CONNECT) and dante
// (SOCKS5). Without those binaries every test skips with a message; run
// .ci/install-peers.sh (as root) to install them, then go test ./peertest.
package peertest

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
