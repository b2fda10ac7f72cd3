package peers

import (
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// The system account that dante's username method checks. Dante has no
// password file of its own: it authenticates against the system's users, so
// .ci/install-peers.sh creates this one (no home, no login shell).
const (
	SocksUser = "spoolsocks"
	SocksPass = "spoolsocks-pass"
)

// Socks is a running dante SOCKS5 server on 127.0.0.1. It only connects to
// 127.0.0.0/8.
type Socks struct {
	Addr       string // 127.0.0.1:port
	User, Pass string // credentials when RequireAuth, else empty
	Dir        string // config and logs

	proc *proc
}

// SocksOptions configures StartSocks.
type SocksOptions struct {
	// RequireAuth selects SOCKS5 username/password (RFC 1929) with the
	// SocksUser account; otherwise no authentication. It needs root, to
	// read the system's password hashes.
	RequireAuth bool
}

// URL returns the socks5:// URL for http.ProxyURL, with credentials when
// the server requires them.
func (s *Socks) URL() *url.URL {
	u := &url.URL{Scheme: "socks5", Host: s.Addr}
	if s.User != "" {
		u.User = url.UserPassword(s.User, s.Pass)
	}
	return u
}

// Stop stops danted before the end of the test. Cleanup calls it too.
func (s *Socks) Stop() { s.proc.stop() }

// Log returns dante's log lines so far (connects and errors).
func (s *Socks) Log(t testing.TB) []string {
	t.Helper()
	return readLines(t, filepath.Join(s.Dir, "danted.log"))
}

// StartSocks starts danted in the foreground on a free loopback port and
// stops it at the end of the test. It skips the test when danted is not
// installed, or with RequireAuth when the SocksUser account is missing or
// the test does not run as root.
func StartSocks(t testing.TB, opt SocksOptions) *Socks {
	t.Helper()
	bin := findBinary(t, "danted")
	s := &Socks{Dir: t.TempDir()}
	if opt.RequireAuth {
		if _, err := user.Lookup(SocksUser); err != nil {
			t.Skipf("system user %s missing; %s", SocksUser, installHint)
		}
		if os.Geteuid() != 0 {
			t.Skip("dante username auth reads system password hashes: needs root")
		}
		s.User, s.Pass = SocksUser, SocksPass
	}
	conf := filepath.Join(s.Dir, "danted.conf")
	logFile := filepath.Join(s.Dir, "danted.log")
	start := func(ports []int) (*proc, error) {
		s.Addr = loopback(ports[0])
		writeFile(t, conf, []byte(dantedConf(s, ports[0], opt)), 0o644)
		args := []string{"-f", conf, "-p", filepath.Join(s.Dir, "danted.pid")}
		return startProc("danted", s.Dir, bin, args, []string{logFile})
	}
	s.proc = launch(t, "danted", 1, start, func([]int) readyCheck { return listening(s.Addr) })
	return s
}

func dantedConf(s *Socks, port int, opt SocksOptions) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("logoutput: %s/danted.log", s.Dir)
	p("internal: 127.0.0.1 port = %d", port)
	p("external: 127.0.0.1")
	p("clientmethod: none")
	if opt.RequireAuth {
		p("socksmethod: username")
	} else {
		p("socksmethod: none")
	}
	if os.Geteuid() == 0 {
		p("user.privileged: root")
		p("user.unprivileged: nobody")
	}
	// Lists such as "command:" and "log:" end at a newline, so one
	// keyword a line.
	p("client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}")
	p("socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  command: connect\n  log: connect disconnect error\n}")
	p("socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: connect error\n}")
	return b.String()
}
