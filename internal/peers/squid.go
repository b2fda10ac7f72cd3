package peers

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// Squid is a running squid forward proxy on 127.0.0.1. It forwards plain
// HTTP and tunnels CONNECT to any port, but only to 127.0.0.0/8 and ::1;
// other destinations get 403. It caches nothing.
type Squid struct {
	Addr       string // 127.0.0.1:port
	Dir        string // config, logs, htpasswd
	User, Pass string // the credentials required when RequireAuth

	proc *proc
}

// SquidOptions configures StartSquid.
type SquidOptions struct {
	DenyAll     bool   // answer 403 to every request, CONNECT included
	RequireAuth bool   // answer 407 unless Proxy-Authorization has User:Pass (basic)
	User, Pass  string // with RequireAuth; "" → "spool" / "spool-pass"
}

// URL returns the proxy URL without credentials, for http.ProxyURL.
func (s *Squid) URL() *url.URL { return &url.URL{Scheme: "http", Host: s.Addr} }

// AuthURL returns the proxy URL carrying User:Pass; net/http and spool turn
// it into a Proxy-Authorization header.
func (s *Squid) AuthURL() *url.URL {
	u := s.URL()
	u.User = url.UserPassword(s.User, s.Pass)
	return u
}

// Stop stops squid before the end of the test. Cleanup calls it too.
func (s *Squid) Stop() { s.proc.stop() }

// AccessLog returns squid's access log lines so far (native format:
// "time elapsed client CODE/status bytes method URL user hierarchy type").
// A CONNECT tunnel is logged when it closes, so close the client's idle
// connections first, or use WaitAccessLog.
func (s *Squid) AccessLog(t testing.TB) []string {
	t.Helper()
	return readLines(t, filepath.Join(s.Dir, "access.log"))
}

// WaitAccessLog waits (up to 5 s) until the access log has at least want
// lines and returns them.
func (s *Squid) WaitAccessLog(t testing.TB, want int) []string {
	t.Helper()
	return waitLines(want, func() []string { return s.AccessLog(t) })
}

// squidInstances numbers instances within the process; with the pid it makes
// the service name (-n) unique, which squid uses to name its shared-memory
// segments (/dev/shm/NAME-*), so parallel instances do not collide.
var squidInstances atomic.Int64

// StartSquid starts squid in the foreground (-N) on a free loopback port and
// stops it at the end of the test. It skips the test when squid (or, with
// RequireAuth, its basic_ncsa_auth helper and openssl) is not installed.
func StartSquid(t testing.TB, opt SquidOptions) *Squid {
	t.Helper()
	bin := findBinary(t, "squid")
	// squid started as root drops to cache_effective_user (nobody), which
	// must be able to write the logs: t.TempDir's parent is 0700.
	removeStale()
	dir := sharedDir(t, fmt.Sprintf("spool-squid-%d-", os.Getpid()))
	s := &Squid{Dir: dir, User: opt.User, Pass: opt.Pass}
	if s.User == "" {
		s.User = "spool"
	}
	if s.Pass == "" {
		s.Pass = "spool-pass"
	}
	var authHelper string
	if opt.RequireAuth {
		authHelper = findSquidHelper(t, "basic_ncsa_auth")
		writeHtpasswd(t, filepath.Join(dir, "htpasswd"), s.User, s.Pass)
	}
	name := fmt.Sprintf("spool%dx%d", os.Getpid(), squidInstances.Add(1))
	conf := filepath.Join(dir, "squid.conf")
	cacheLog := filepath.Join(dir, "cache.log")
	start := func(ports []int) (*proc, error) {
		s.Addr = loopback(ports[0])
		writeFile(t, conf, []byte(squidConf(s, opt, authHelper)), 0o644)
		p, err := startProc("squid", dir, bin, []string{"-n", name, "-N", "-f", conf}, []string{cacheLog})
		if p != nil {
			p.abrupt = true
			p.onStop = append(p.onStop, func() { removeShm(name) })
		}
		return p, err
	}
	// Not a probe dial: squid would log it as a transaction, and tests
	// count access log lines.
	s.proc = launch(t, "squid", 1, start, func([]int) readyCheck { return listening(s.Addr) })
	return s
}

func squidConf(s *Squid, opt SquidOptions, authHelper string) string {
	d := s.Dir
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("http_port %s", s.Addr)
	p("pid_filename %s/squid.pid", d)
	p("cache_log %s/cache.log", d)
	p("access_log stdio:%s/access.log squid", d)
	p("coredump_dir %s", d)
	if os.Geteuid() == 0 {
		p("cache_effective_user nobody") // squid refuses to run as root
	}
	p("cache deny all")
	p("cache_mem 8 MB")
	p("pinger_enable off")
	p("netdb_filename none")
	p("shutdown_lifetime 0 seconds")
	p("acl to_loopback dst 127.0.0.0/8 ::1")
	// No SSL_ports / Safe_ports rules: CONNECT may reach any port, which
	// test servers on random ports need. Destinations stay on loopback.
	if opt.DenyAll {
		p("http_access deny all")
	}
	p("http_access deny !to_loopback")
	if opt.RequireAuth {
		p("auth_param basic program %s %s/htpasswd", authHelper, d)
		p("auth_param basic children 1 startup=1 idle=1")
		p("auth_param basic realm spool-peers")
		p("acl authed proxy_auth REQUIRED")
		p("http_access deny !authed")
	}
	p("http_access allow localhost")
	p("http_access deny all")
	return b.String()
}

// findSquidHelper locates an auth helper; distributions put them apart.
func findSquidHelper(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range []string{"/usr/lib/squid", "/usr/lib/squid3", "/usr/libexec/squid", "/usr/lib64/squid"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("squid helper %s not installed; %s", name, installHint)
	return ""
}

// writeHtpasswd writes user:hash with an APR1-MD5 hash from openssl, a
// format basic_ncsa_auth reads.
func writeHtpasswd(t testing.TB, path, user, pass string) {
	t.Helper()
	openssl := findBinary(t, "openssl")
	out, err := exec.Command(openssl, "passwd", "-apr1", pass).Output()
	if err != nil {
		t.Fatalf("peers: openssl passwd: %v", err)
	}
	writeFile(t, path, []byte(user+":"+strings.TrimSpace(string(out))+"\n"), 0o644)
}

// removeShm deletes the shared-memory segments of squid service name; squid
// removes them itself on a clean exit but not when killed.
func removeShm(name string) {
	matches, _ := filepath.Glob("/dev/shm/" + name + "-*")
	for _, m := range matches {
		os.Remove(m)
	}
}

// staleName matches what our instances leave in /dev/shm and the temp dir
// when a test binary is killed before its cleanups run (the watchdog kills
// squid but cannot clean up after it): segments spool<pid>x<n>-… and
// directories spool-squid-<pid>-….
var staleName = regexp.MustCompile(`^spool(?:-squid-)?(\d+)[x-]`)

// removeStale deletes those leftovers whose test process is gone.
func removeStale() {
	for _, dir := range []string{"/dev/shm", os.TempDir()} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			m := staleName.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			if pid, _ := strconv.Atoi(m[1]); pid != os.Getpid() && !processExists(pid) {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}
