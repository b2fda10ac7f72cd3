package peers

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spoolhttp/spool/internal/testcert"
)

// Nginx is a running nginx with one plain HTTP/1.1 listener and one TLS
// listener (HTTP/2 on it when NginxOptions.HTTP2). Its locations:
//
//	/             200 "hello, world" (any path not listed below)
//	/big          BigSize bytes of BigBody(), served from a file (sendfile)
//	/chunked      a small HTML body sent with Transfer-Encoding: chunked
//	              (HTTP/1.1; nginx's sub_filter drops Content-Length)
//	/gzip         text that nginx gzips when the request accepts gzip
//	              (chunked then); identity with Content-Length otherwise
//	/headers      echoes method, Host, User-Agent, Accept-Encoding and
//	              Content-Length of the request, one "name=value" a line
//	/status/N     status N with nginx's body, N in 204 400 403 404 500 502 503
//	/trailer      200 "trailer body" with the trailer X-Trailer: done
//	              (add_trailer: HTTP/2 and chunked HTTP/1.1 only)
//	/upload       with NginxOptions.Upstream: nginx reads the whole request
//	              body, then proxies the request to http://Upstream/upload
//
// Request bodies up to 64 MiB are accepted and discarded by the locations
// that answer with `return` (/, /headers, /status/N); nginx answers before
// it has read the body. The file locations answer POST with 405.
type Nginx struct {
	HTTPAddr  string         // 127.0.0.1:port, plain HTTP/1.1
	HTTPSAddr string         // 127.0.0.1:port, TLS (+h2 when asked)
	CertPool  *x509.CertPool // trusts the server certificate
	CertPEM   []byte         // the CA certificate that signed it, PEM
	Dir       string         // config, logs, certificates and content
	Version   string         // e.g. "1.22.1"

	proc *proc
}

// NginxOptions configures StartNginx. The zero value is nginx's defaults.
type NginxOptions struct {
	KeepaliveRequests int    // requests per connection; 0 → 100
	KeepaliveTimeout  string // idle connection lifetime, nginx syntax; "" → "75s"
	HTTP2             bool   // offer h2 by ALPN on the TLS listener
	// H2MaxConcurrentStreams is http2_max_concurrent_streams; 0 → nginx's 128.
	H2MaxConcurrentStreams int
	// Upstream (host:port) is where /upload proxies to; "" → no /upload.
	Upstream string
}

// AccessEntry is one line of the access log: which server-side connection
// served the request and how.
type AccessEntry struct {
	Conn         int64  // $connection: serial number of the connection
	ConnRequests int    // $connection_requests: 1 for the first request on it
	Status       int    // $status
	Request      string // $request: "GET /path HTTP/1.1"
	Proto        string // $server_protocol: "HTTP/1.1", "HTTP/2.0"
}

// BigSize is the length of the body served at /big.
const BigSize = 1 << 20

// BigBody returns the bytes served at /big: a pattern whose period (251, a
// prime) does not divide any buffer size, so a misplaced chunk shows.
func BigBody() []byte {
	b := make([]byte, BigSize)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// StartNginx starts nginx on two free loopback ports and stops it at the
// end of the test. It skips the test when nginx is not installed.
func StartNginx(t testing.TB, opt NginxOptions) *Nginx {
	t.Helper()
	bin := findBinary(t, "nginx")
	version := nginxVersion(t, bin)
	dir := t.TempDir()
	certs := writeCerts(t, dir)
	writeNginxContent(t, dir)
	n := &Nginx{CertPool: certs.Pool, CertPEM: certs.CAPEM, Dir: dir, Version: version}
	conf := filepath.Join(dir, "nginx.conf")
	errLog := filepath.Join(dir, "error.log")
	start := func(ports []int) (*proc, error) {
		n.HTTPAddr, n.HTTPSAddr = loopback(ports[0]), loopback(ports[1])
		writeFile(t, conf, []byte(nginxConf(n, opt, certs)), 0o644)
		args := []string{"-p", dir, "-c", conf}
		if versionAtLeast(version, 1, 19, 5) {
			// nginx opens its compiled-in error log before reading the
			// config; -e points it at dir so a non-root run does not warn.
			args = append(args, "-e", errLog)
		}
		return startProc("nginx", dir, bin, args, []string{errLog})
	}
	n.proc = launch(t, "nginx", 2, start, func([]int) readyCheck {
		return listening(n.HTTPAddr, n.HTTPSAddr)
	})
	return n
}

// URL returns the plain-HTTP URL of path, e.g. n.URL("/big").
func (n *Nginx) URL(path string) string { return "http://" + n.HTTPAddr + path }

// TLSURL returns the HTTPS URL of path.
func (n *Nginx) TLSURL(path string) string { return "https://" + n.HTTPSAddr + path }

// TLSConfig returns a client TLS config that trusts the server.
func (n *Nginx) TLSConfig() *tls.Config { return clientTLS(n.CertPool) }

// Stop stops nginx before the end of the test (to prove what a client does
// with pooled connections to a server that went away). Cleanup calls it too.
func (n *Nginx) Stop() { n.proc.stop() }

// Reload asks nginx's master to reload its config (SIGHUP): new workers
// take new connections, the old ones finish their requests and close
// theirs, on HTTP/2 with a GOAWAY.
func (n *Nginx) Reload(t testing.TB) {
	t.Helper()
	if err := n.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("peers: nginx reload: %v", err)
	}
}

// AccessLog returns the access log so far. nginx writes a line just after it
// sends the response, so a client can read a response before its line is
// there: use WaitAccessLog to wait for a known number of lines.
func (n *Nginx) AccessLog(t testing.TB) []AccessEntry {
	t.Helper()
	var out []AccessEntry
	for _, line := range readLines(t, filepath.Join(n.Dir, "access.log")) {
		e, err := parseAccessEntry(line)
		if err != nil {
			t.Fatalf("peers: nginx access log: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// WaitAccessLog waits (up to 5 s) until the access log has at least want
// lines and returns them; fewer means the requests never completed.
func (n *Nginx) WaitAccessLog(t testing.TB, want int) []AccessEntry {
	t.Helper()
	return waitLines(want, func() []AccessEntry { return n.AccessLog(t) })
}

// accessFormat is tab-separated: escape=default turns tabs, quotes and
// control bytes inside values into \xHH, and $request goes last.
const accessFormat = `$connection\t$connection_requests\t$status\t$server_protocol\t$request`

func parseAccessEntry(line string) (AccessEntry, error) {
	f := strings.SplitN(line, "\t", 5)
	if len(f) != 5 {
		return AccessEntry{}, fmt.Errorf("want 5 tab-separated fields: %q", line)
	}
	conn, err1 := strconv.ParseInt(f[0], 10, 64)
	reqs, err2 := strconv.Atoi(f[1])
	status, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return AccessEntry{}, fmt.Errorf("bad number in %q", line)
	}
	return AccessEntry{Conn: conn, ConnRequests: reqs, Status: status, Proto: f[3], Request: f[4]}, nil
}

// Connections returns the number of distinct server-side connections in
// entries: two requests on one connection prove reuse.
func Connections(entries []AccessEntry) int {
	seen := map[int64]bool{}
	for _, e := range entries {
		seen[e.Conn] = true
	}
	return len(seen)
}

func writeNginxContent(t testing.TB, dir string) {
	t.Helper()
	www := filepath.Join(dir, "www")
	for _, d := range []string{www, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("peers: %v", err)
		}
	}
	writeFile(t, filepath.Join(www, "big.bin"), BigBody(), 0o644)
	writeFile(t, filepath.Join(www, "chunked.html"),
		[]byte("<html><body>chunked body from nginx</body></html>\n"), 0o644)
	writeFile(t, filepath.Join(www, "gzip.txt"),
		bytes.Repeat([]byte("spool gzip test line from nginx\n"), 256), 0o644)
}

var nginxStatuses = []int{204, 400, 403, 404, 500, 502, 503}

func nginxConf(n *Nginx, opt NginxOptions, certs testcert.Files) string {
	keepReq := opt.KeepaliveRequests
	if keepReq == 0 {
		keepReq = 100
	}
	keepTimeout := opt.KeepaliveTimeout
	if keepTimeout == "" {
		keepTimeout = "75s"
	}
	d := n.Dir
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("daemon off;")
	p("master_process on;")
	p("worker_processes 1;")
	if os.Geteuid() == 0 {
		p("user root;") // workers read t.TempDir, which is 0700
	}
	p("pid %s/nginx.pid;", d)
	p("error_log %s/error.log notice;", d)
	p("events { worker_connections 1024; }")
	p("http {")
	p("  types { text/html html; text/plain txt; application/octet-stream bin; }")
	p("  default_type application/octet-stream;")
	p("  log_format spool escape=default '%s';", accessFormat)
	p("  access_log %s/access.log spool;", d)
	for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p("  %s_temp_path %s/tmp/%s;", tmp, d, tmp)
	}
	p("  keepalive_requests %d;", keepReq)
	p("  keepalive_timeout %s;", keepTimeout)
	p("  client_max_body_size 64m;")
	p("  sendfile on;")
	p("  ssl_protocols TLSv1.2 TLSv1.3;") // 1.22's default still lists 1.0/1.1 and lacks 1.3
	p("  ssl_certificate %s;", certs.CertFile)
	p("  ssl_certificate_key %s;", certs.KeyFile)
	p("  server {")
	p("    listen %s;", n.HTTPAddr)
	switch {
	case opt.HTTP2 && versionAtLeast(n.Version, 1, 25, 1):
		p("    listen %s ssl;", n.HTTPSAddr)
		p("    http2 on;")
	case opt.HTTP2:
		p("    listen %s ssl http2;", n.HTTPSAddr)
	default:
		p("    listen %s ssl;", n.HTTPSAddr)
	}
	if opt.H2MaxConcurrentStreams > 0 {
		p("    http2_max_concurrent_streams %d;", opt.H2MaxConcurrentStreams)
	}
	p("    root %s/www;", d)
	p(`    location / { default_type text/plain; return 200 "hello, world"; }`)
	p("    location = /big { alias %s/www/big.bin; }", d)
	// Any active sub_filter drops Content-Length, so nginx chunks the file.
	p("    location = /chunked { default_type text/html; sub_filter_once off;")
	p("      sub_filter 'nginx' 'nginx'; alias %s/www/chunked.html; }", d)
	p("    location = /gzip { default_type text/plain; gzip on; gzip_types text/plain;")
	p("      gzip_min_length 0; gzip_vary on; alias %s/www/gzip.txt; }", d)
	p(`    location = /headers { default_type text/plain; return 200 "method=$request_method\n` +
		`host=$http_host\nuser-agent=$http_user_agent\naccept-encoding=$http_accept_encoding\n` +
		`content-length=$http_content_length\n"; }`)
	p(`    location = /trailer { default_type text/plain; add_trailer X-Trailer done; return 200 "trailer body"; }`)
	if opt.Upstream != "" {
		p("    location = /upload { proxy_pass http://%s; }", opt.Upstream)
	}
	for _, code := range nginxStatuses {
		p("    location = /status/%d { return %d; }", code, code)
	}
	p("  }")
	p("}")
	return b.String()
}

var (
	nginxVersionMu    sync.Mutex
	nginxVersionCache = map[string]string{}
	nginxVersionRE    = regexp.MustCompile(`nginx/(\d+\.\d+\.\d+)`)
)

// nginxVersion parses `nginx -v` ("nginx version: nginx/1.22.1", on stderr).
// The h2 directive depends on it: `http2 on;` exists from 1.25.1.
func nginxVersion(t testing.TB, bin string) string {
	t.Helper()
	nginxVersionMu.Lock()
	defer nginxVersionMu.Unlock()
	if v, ok := nginxVersionCache[bin]; ok {
		return v
	}
	out, err := exec.Command(bin, "-v").CombinedOutput()
	m := nginxVersionRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("peers: %s -v: %v: %s", bin, err, out)
	}
	nginxVersionCache[bin] = string(m[1])
	return string(m[1])
}

// versionAtLeast compares a dotted version with major.minor.patch.
func versionAtLeast(v string, want ...int) bool {
	parts := strings.Split(v, ".")
	for i, w := range want {
		got := 0
		if i < len(parts) {
			got, _ = strconv.Atoi(parts[i])
		}
		if got != w {
			return got > w
		}
	}
	return true
}
