// Package peers starts real third-party servers — nginx, squid and dante
// (danted) — on 127.0.0.1 for spool's peer tests, so that the transport is
// proved against the servers it will meet in production and not only against
// our own test servers.
//
// Each starter (StartNginx, StartSquid, StartSocks) writes a config into a
// fresh directory, picks free loopback ports, runs the server in the
// foreground as a child process in its own process group, waits until it
// listens and registers a t.Cleanup that stops the whole group. A watchdog
// (/bin/sh reading a pipe only the test binary holds) kills the group if the
// test binary dies before its cleanups run. When a binary is not installed
// the starter skips the test with a message that points at
// .ci/install-peers.sh, so `go test ./...` passes on a machine without them.
//
// Every server is bound to 127.0.0.1 and the proxies only forward to
// 127.0.0.0/8: no test traffic can leave the machine through them.
//
// # Peer tests
//
// Install the peers once (root or passwordless sudo; Debian/Ubuntu):
//
//	bash .ci/install-peers.sh
//
// It installs nginx, squid, dante-server and openssl, keeps their system
// services stopped and disabled, and creates the system user SocksUser
// (password SocksPass, no home, no login shell) for dante's username method.
// A test then uses them like this:
//
//	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true})
//	s := peers.StartSquid(t, peers.SquidOptions{})
//	tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), Proxy: http.ProxyURL(s.URL())}
//	resp, err := (&http.Client{Transport: tr}).Get(n.TLSURL("/"))
//	...
//	log := n.WaitAccessLog(t, 2)
//	if peers.Connections(log) != 1 { t.Fatal("connection not reused") }
//
// Servers started as root drop privileges where they insist on it (squid to
// nobody, dante's children to nobody); nginx runs its worker as root so it
// can read t.TempDir. Without root everything runs as the current user,
// except dante's username method, which needs root to check passwords and
// skips otherwise.
package peers
