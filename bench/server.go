package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spoolhttp/spool/internal/testcert"
)

// Sizes and limits of the benchmark server, each with its reason.
const (
	helloBody = "hello, world" // 12 bytes: the request figures are for it
	bigSize   = 1 << 20        // /big and the /upload body: 1 MiB transfers
	// slowDelay is how long /slow holds a response: long enough that 5,000
	// requests fired together are all in flight at once, so each gets its
	// own connection (the idle-connection figures need 5,000 conns).
	slowDelay = 2 * time.Second
	// readyTimeout bounds a server's start; both start in milliseconds.
	readyTimeout = 10 * time.Second
	// serverConns sizes nginx for the idle figures (5,000 conns per client,
	// a client's conns may still be closing when the next one opens its own).
	serverConns = 30000
)

// server is the HTTP server the clients are measured against, always in
// another process so getrusage and MemStats count only the client.
type server struct {
	Kind      string // "nginx 1.22.1" or "Go net/http fallback"
	Addr      string // 127.0.0.1:port
	ScaleAddr string // 0.0.0.0:port when asked for (the 10,000-host benchmark), else ""
	// TLSAddr (HTTPS/1.1 only) and H2Addr (HTTPS, h2 offered by ALPN) are
	// set when TLS was asked for (the -h2 mode); cert is what they serve.
	TLSAddr, H2Addr string
	cert            *testcert.Files // TLS identity of -h2 mode
	tuning          []string        // extra directives of the TLS servers (-h2-tuned)
	cmd             *exec.Cmd
	dir             string
}

// url returns the plain-HTTP URL of path on s.Addr.
func (s *server) url(path string) string { return "http://" + s.Addr + path }

// stop kills the server's process group and removes its directory.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// startServer starts nginx when kind is "nginx", or "auto" and nginx is
// installed; otherwise the Go fallback server in a child process.
func startServer(kind string, scale bool) (*server, error) {
	if kind == "nginx" || kind == "auto" {
		if bin := findNginx(); bin != "" {
			return startNginx(bin, scale, false)
		}
		if kind == "nginx" {
			return nil, errors.New("nginx not found (PATH, /usr/sbin, /usr/local/sbin, /sbin)")
		}
	}
	return startFallback(scale)
}

// findNginx returns nginx's path or "". Daemons live in /usr/sbin, which is
// not on every user's PATH.
func findNginx() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, "nginx")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

var nginxVersionRE = regexp.MustCompile(`nginx/(\d+\.\d+\.\d+)`)

// startNginx starts nginx; withTLS adds the two TLS listeners of -h2 mode.
func startNginx(bin string, scale, withTLS bool, tuning ...string) (*server, error) {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	version := "nginx"
	if m := nginxVersionRE.FindSubmatch(out); m != nil {
		version = "nginx " + string(m[1])
	}
	dir, err := os.MkdirTemp("", "spool-bench-nginx-")
	if err != nil {
		return nil, err
	}
	if err := writeContent(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var cert *testcert.Files
	if withTLS {
		c, err := testcert.Write(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cert = &c
	}
	var lastErr error
	for range 3 { // a free port may be taken before nginx binds it
		s := &server{Kind: version, dir: dir, cert: cert, tuning: tuning}
		ports, err := freePorts(4)
		if err != nil {
			return nil, err
		}
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		if scale {
			s.ScaleAddr = fmt.Sprintf("0.0.0.0:%d", ports[1])
		}
		if withTLS {
			s.TLSAddr, s.H2Addr = fmt.Sprintf("127.0.0.1:%d", ports[2]), fmt.Sprintf("127.0.0.1:%d", ports[3])
		}
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(nginxConf(dir, s)), 0o644); err != nil {
			return nil, err
		}
		errLog := filepath.Join(dir, "error.log")
		s.cmd = exec.Command(bin, "-p", dir, "-e", errLog, "-c", conf)
		s.cmd.Dir = dir
		s.cmd.SysProcAttr = childAttr()
		var logBuf bytes.Buffer
		s.cmd.Stdout, s.cmd.Stderr = &logBuf, &logBuf
		if err := raiseNofile(); err != nil {
			return nil, err
		}
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		if err := waitListening(s); err == nil {
			return s, nil
		} else {
			tail, _ := os.ReadFile(errLog)
			lastErr = fmt.Errorf("nginx did not start: %v\n%s%s", err, logBuf.String(), tail)
			s.dir = ""
			s.stop()
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// writeContent writes what nginx serves from files: /big and /chunked.
func writeContent(dir string) error {
	for _, d := range []string{"www", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "big.bin"), bigBody(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "www", "chunked.html"), []byte(helloBody), 0o644)
}

// bigBody is the 1 MiB served at /big and sent to /upload.
func bigBody() []byte {
	b := make([]byte, bigSize)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// nginxConf is the generated config: one worker (the clients get the other
// core), no access log, keep-alive for the whole run.
func nginxConf(dir string, s *server) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("daemon off;")
	p("master_process on;")
	p("worker_processes 1;")
	if os.Geteuid() == 0 {
		p("user root;") // the worker reads our 0700 temp dir
	}
	p("worker_rlimit_nofile %d;", 2*serverConns)
	p("pid %s/nginx.pid;", dir)
	p("error_log %s/error.log warn;", dir)
	p("events { worker_connections %d; }", serverConns)
	p("http {")
	p("  access_log off;")
	p("  default_type application/octet-stream;")
	for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p("  %s_temp_path %s/tmp/%s;", tmp, dir, tmp)
	}
	p("  keepalive_requests 100000;")
	p("  keepalive_timeout 600s;")
	p("  client_max_body_size 64m;")
	p("  client_body_buffer_size 1m;") // nothing written to disk by /upload
	p("  sendfile on;")
	p("  server {")
	p("    listen %s backlog=4096;", s.Addr)
	if s.ScaleAddr != "" {
		p("    listen %s backlog=4096;", s.ScaleAddr)
	}
	p(`    location / { default_type text/plain; return 200 "%s"; }`, helloBody)
	p("    location = /big { alias %s/www/big.bin; }", dir)
	// return does not read the body: nginx discards it (reading it off the
	// socket) before the connection is kept alive.
	p(`    location = /upload { default_type text/plain; return 200 "ok"; }`)
	// sub_filter drops Content-Length, so HTTP/1.1 responses are chunked.
	p("    location = /chunked { default_type text/html; sub_filter_once off;")
	p("      sub_filter 'world' 'world'; alias %s/www/chunked.html; }", dir)
	// limit_rate holds the response: nginx lets a connection send limit_rate
	// bytes in the first second, the rest afterwards.
	p(`    location = /slow { default_type text/plain; limit_rate 64; return 200 "%s"; }`, helloBody)
	p("  }")
	if s.cert != nil {
		tlsServers(p, dir, s)
	}
	p("}")
	return b.String()
}

// tunedNginx are -h2-tuned's directives for the TLS servers, each making
// nginx cheaper per byte for every client alike (one config serves spool,
// net/http and h2load); the output's server line lists them. Measured with
// strace -c on the worker, 100 h2 downloads of 1 MiB:
//   - output_buffers: over TLS nginx cannot sendfile (no kTLS here), it
//     reads /big into these buffers, and each buffer's end cuts a TLS
//     record short: the default 2×32k makes 32 preads and 97 writes per
//     MiB, 2×256k makes 4 and 69 (a full 16 KiB record is one write);
//   - open_file_cache: no open, fstat and close of /big per request.
var tunedNginx = []string{"output_buffers 2 256k", "open_file_cache max=64"}

// tlsServers adds -h2 mode's listeners: HTTPS/1.1 on s.TLSAddr, HTTPS with
// h2 on s.H2Addr (nginx 1.22 syntax: `listen … ssl http2`), same locations.
func tlsServers(p func(string, ...any), dir string, s *server) {
	for _, l := range []string{s.TLSAddr + " ssl", s.H2Addr + " ssl http2"} {
		p("  server {")
		p("    listen %s backlog=4096;", l)
		p("    ssl_protocols TLSv1.2 TLSv1.3;")
		p("    ssl_certificate %s;", s.cert.CertFile)
		p("    ssl_certificate_key %s;", s.cert.KeyFile)
		// On HTTP/2 keepalive_requests bounds a conn's streams too: at
		// 100k req/s the default would GOAWAY the one conn every second.
		p("    keepalive_requests 1000000000;")
		for _, d := range s.tuning {
			p("    %s;", d)
		}
		p(`    location / { default_type text/plain; return 200 "%s"; }`, helloBody)
		p("    location = /big { alias %s/www/big.bin; }", dir)
		// On HTTP/2 nginx discards a body it does not need by resetting the
		// stream after http2_body_preread_size (64 KiB), so `return` would
		// make the upload cells measure 64 KiB. The mirror reads the whole
		// body first (in memory: client_body_buffer_size), the 405 of the
		// static handler is then rewritten to 200.
		p("    location = /upload { client_body_buffer_size 2m; mirror /_sink; mirror_request_body on;")
		p("      error_page 405 =200 @ok; alias %s/www/big.bin; }", dir)
		p("    location = /_sink { internal; return 204; }")
		p(`    location @ok { default_type text/plain; return 200 "ok"; }`)
		p("  }")
	}
}

// freePorts returns n distinct free TCP ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitListening waits until s.Addr (and the TLS addresses, when set)
// accept a connection.
func waitListening(s *server) error {
	deadline := time.Now().Add(readyTimeout)
	for _, addr := range []string{s.Addr, s.TLSAddr, s.H2Addr} {
		if addr == "" {
			continue
		}
		if err := waitAddr(s, addr, deadline); err != nil {
			return err
		}
	}
	return nil
}

func waitAddr(s *server, addr string, deadline time.Time) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		if s.cmd.ProcessState != nil {
			return errors.New("exited")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childAttr puts a server in its own process group (stop reaches nginx's
// worker) and kills it if this process dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// raiseNofile lifts the soft fd limit to the hard one; the child inherits it.
func raiseNofile() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return nil
}

// serveEnv, when set, makes this binary the fallback server: its value is
// "1", or "scale" to also listen on 0.0.0.0.
const serveEnv = "SPOOL_BENCH_SERVE"

// startFallback re-executes this binary as the Go server, in its own
// process, and reads its addresses from its first line of output.
func startFallback(scale bool) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mode := "1"
	if scale {
		mode = "scale"
	}
	if err := raiseNofile(); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe) // main and TestMain check serveEnv first
	cmd.Env = append(os.Environ(), serveEnv+"="+mode)
	cmd.SysProcAttr = childAttr()
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{Kind: "Go net/http fallback (child process)", cmd: cmd}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case l, ok := <-line:
		f := strings.Fields(l)
		if !ok || len(f) < 1 {
			s.stop()
			return nil, errors.New("fallback server printed no address")
		}
		s.Addr = f[0]
		if len(f) > 1 {
			s.ScaleAddr = f[1]
		}
	case <-time.After(readyTimeout):
		s.stop()
		return nil, errors.New("fallback server did not start")
	}
	return s, waitListening(s)
}

// cpu is the CPU time of the server's processes so far (nginx: the master
// and its worker; the fallback: its one process); -1 when unreadable.
func (s *server) cpu() time.Duration {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return -1
	}
	pid := s.cmd.Process.Pid
	total := procCPU(pid)
	if total < 0 {
		return -1
	}
	for _, c := range childPIDs(pid) {
		if t := procCPU(c); t > 0 {
			total += t
		}
	}
	return total
}
