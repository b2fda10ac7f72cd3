package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tlsPair starts two in-process TLS servers with the bench's locations:
// one offering h2 by ALPN, one HTTPS/1.1 only. /upload answers 400 unless
// it read the whole 1 MiB, so a cell that did not send it fails.
func tlsPair(t *testing.T) tlsTarget {
	t.Helper()
	big := bigBody()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, helloBody) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(b, big) {
			http.Error(w, "short body", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	})
	h2 := httptest.NewUnstartedServer(mux)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	h1 := httptest.NewTLSServer(mux) // NextProtos: http/1.1 only
	t.Cleanup(h1.Close)
	pool := x509.NewCertPool()
	pool.AddCert(h2.Certificate())
	pool.AddCert(h1.Certificate())
	return tlsTarget{h1Addr: h1.Listener.Addr().String(), h2Addr: h2.Listener.Addr().String(), pool: pool}
}

// TestH2CellsSmoke runs a few cells for a moment against the in-process
// servers: every client answers over the cell's protocol, h2 keeps one
// conn, the socket counts move, and the tables render with the rows.
func TestH2CellsSmoke(t *testing.T) {
	tt := tlsPair(t)
	cells := []h2Cell{{protoH2, testGet, 4}, {protoH2, testUpload, 1}, {protoH2, testDownload, 1}, {protoH1, testGet, 2}}
	res := runH2Cells(t.Output(), cells, tt, 80*time.Millisecond, 1)
	for _, c := range cells {
		for _, name := range []string{nameSpool, nameNetHTTP} {
			f, ok := res[h2Key{c, name}]
			switch {
			case !ok || f.err != nil || f.reqs == 0:
				t.Errorf("%v %s: %+v", c, name, f)
			case f.proto != alpnName(c.proto):
				t.Errorf("%v %s: proto %q", c, name, f.proto)
			case c.proto == protoH2 && f.conns != 1:
				t.Errorf("%v %s: %d conns, want the one h2 conn", c, name, f.conns)
			case f.writes <= 0 || f.reads <= 0:
				t.Errorf("%v %s: socket writes %.2f, reads %.2f per request", c, name, f.writes, f.reads)
			case name == nameSpool && !(f.roundRate > 0 && f.roundCPU > 0):
				t.Errorf("%v: per-round ratios %v, %v", c, f.roundRate, f.roundCPU)
			}
		}
	}
	var b strings.Builder
	h2Table(res, cells).render(&b)
	h2RatioTable(res, cells).render(&b)
	h2TargetTable(res, []int{4}).render(&b)
	rows := tableRows(b.String())
	for _, key := range []string{"h2|GET /|4|spool", "HTTPS/1.1|GET /|2|net/http", "h2|1 MiB upload|1|spool",
		"h2|GET /|4", "allocs per request|h2 GET / ×4", "1 MiB download|h2 ×1"} {
		if rows[key] == nil {
			t.Errorf("tables lack a row %q:\n%s", key, b.String())
		}
	}
	if r := rows["h2|1 MiB download|1|net/http"]; len(r) < 6 || !strings.HasSuffix(r[5], " MiB/s") {
		t.Errorf("download rate not in MiB/s: %v", r)
	}
}

// TestTLSClientWrongProto: a cell that wants h2 fails when the server
// only speaks HTTPS/1.1, instead of being measured as h2.
func TestTLSClientWrongProto(t *testing.T) {
	tt := tlsPair(t)
	tt.h2Addr = tt.h1Addr
	for _, name := range []string{nameSpool, nameNetHTTP} {
		var counts ioCounts
		c := h2Cell{protoH2, testGet, 1}
		cl, err := newTLSClient(name, c, tt, &counts)
		if err != nil {
			t.Fatal(err)
		}
		w, err := cl.newWorker(c.request(tt, nil))
		if err == nil {
			err = w.do()
		}
		if err == nil || !strings.Contains(err.Error(), "wants HTTP/2") {
			t.Errorf("%s: h2 cell over an HTTPS/1.1 server: %v", name, err)
		}
		cl.closeIdle()
	}
}

// TestCountConn counts below TLS: after the handshake, one small
// application write is one socket Write of one TLS record.
func TestCountConn(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var counts ioCounts
	nc, err := countingDialer(&counts)(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := nc.(*countConn).SyscallConn(); err != nil || rc == nil {
		t.Errorf("SyscallConn of a TCP conn: %v, %v", rc, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tc := tls.Client(nc, &tls.Config{RootCAs: pool, ServerName: "example.com"})
	defer tc.Close()
	if err := tc.HandshakeContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := counts.snap()
	if _, err := io.WriteString(tc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	d := counts.snap().sub(before)
	if d.writes != 1 || d.wbytes <= 27 || counts.dials.Load() != 1 {
		t.Errorf("one TLS write: %+v, dials %d; want 1 socket write of more than the 27 plaintext bytes", d, counts.dials.Load())
	}
	buf := make([]byte, 4096)
	if _, err := tc.Read(buf); err != nil {
		t.Fatal(err)
	}
	if d := counts.snap().sub(before); d.reads < 1 || d.rbytes == 0 {
		t.Errorf("reads not counted: %+v", d)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := (&countConn{Conn: a, c: &counts}).SyscallConn(); err != errNoSyscallConn {
		t.Errorf("SyscallConn of a pipe: %v, want errNoSyscallConn", err)
	}
}

// h2loadOutput is h2load 1.52's report of a good run, trimmed.
const h2loadOutput = `starting benchmark...
spawning thread #0: 1 total client(s). Timing-based test with 0s of warm-up time and 1s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 1.00s, 62244.00 req/s, 4.69MB/s
requests: 62244 total, 62260 started, 62244 done, 62244 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 62244 2xx, 0 3xx, 0 4xx, 0 5xx
`

func TestParseH2load(t *testing.T) {
	r, err := parseH2load(h2loadOutput)
	if err != nil || r.rps != 62244 || r.succeeded != 62244 || r.proto != "h2" || r.problem != "" {
		t.Errorf("good run: %+v, %v", r, err)
	}
	bad := strings.Replace(h2loadOutput, "62244 succeeded, 0 failed, 0 errored", "62243 succeeded, 1 failed, 1 errored", 1)
	if r, err := parseH2load(bad); err != nil || r.problem != "1 failed (1 errored, 0 timeout)" {
		t.Errorf("failed request: %+v, %v", r, err)
	}
	if _, err := parseH2load("connect: Connection refused\n"); err == nil {
		t.Error("an output without a report parsed")
	}
}

func TestH2loadArgs(t *testing.T) {
	tt := tlsTarget{h1Addr: "127.0.0.1:1", h2Addr: "127.0.0.1:2", uploadFile: "/tmp/big"}
	for _, c := range []struct {
		cell h2Cell
		want string
	}{
		{h2Cell{protoH2, testGet, 16}, "-c 1 -m 16 https://127.0.0.1:2/"},
		{h2Cell{protoH1, testGet, 16}, "--h1 -c 16 -m 1 https://127.0.0.1:1/"},
		{h2Cell{protoH2, testUpload, 1}, "-c 1 -m 1 -d /tmp/big https://127.0.0.1:2/upload"},
		{h2Cell{protoH2, testDownload, 1}, "-m 1 https://127.0.0.1:2/big"},
	} {
		got := strings.Join(h2loadArgs(c.cell, tt, 1500*time.Millisecond), " ")
		if !strings.HasPrefix(got, "-t 1 -D 1500ms --warm-up-time ") || !strings.HasSuffix(got, c.want) {
			t.Errorf("%v: %q, want …%q", c.cell, got, c.want)
		}
	}
}

// TestH2loadSmoke runs the real h2load against the in-process h2 server
// (skipped where nghttp2-client is not installed).
func TestH2loadSmoke(t *testing.T) {
	bin, err := exec.LookPath("h2load")
	if err != nil {
		t.Skip("h2load not installed (nghttp2-client)")
	}
	tt := tlsPair(t)
	tt.h2load = bin
	cells := []h2Cell{{protoH2, testGet, 4}, {protoH1, testGet, 2}}
	res := map[h2Key]h2Figures{}
	for _, c := range cells {
		f := runH2load(c, tt, 100*time.Millisecond)
		// Every request is written to the socket: at least one write
		// syscall per conn, and h2load writes far fewer than 100 per request.
		if f.err != nil || f.rps <= 0 || f.cpuUS <= 0 || f.proto != alpnName(c.proto) || !(f.syscw > 0 && f.syscw < 100) {
			t.Errorf("%v: %+v", c, f)
		}
		res[h2Key{c, nameH2load}] = f
	}
	var b strings.Builder
	h2Table(res, cells).render(&b)
	// h2load's row shows its write syscalls (column 12), not "—".
	if r := tableRows(b.String())["h2|GET /|4|h2load"]; len(r) < 12 || r[11] != fmtFloat(res[h2Key{cells[0], nameH2load}].syscw) {
		t.Errorf("h2load's write syscalls not in its row %v:\n%s", r, b.String())
	}
}

// TestExitedSyscw reads a child's write syscalls after its exit and
// leaves it to cmd.Wait: its exit status is still there to collect.
func TestExitedSyscw(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "echo 1; echo 2; echo 3; exit 7")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	n := exitedSyscw(cmd.Process.Pid)
	err := cmd.Wait()
	if n < 3 { // one write per echo, to a pipe
		t.Errorf("syscw of a child that wrote 3 times: %d", n)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || out.String() != "1\n2\n3\n" {
		t.Errorf("Wait after exitedSyscw: %v, output %q; want exit status 7 (the child unreaped)", err, out.String())
	}
	if n := exitedSyscw(os.Getppid()); n != -1 { // not our child: waitid fails
		t.Errorf("syscw of a non-child: %d, want -1", n)
	}
}

// TestH2loadRequests: h2load's warm-up requests count at its measured
// rate, so its whole run's requests over its whole time is that rate.
func TestH2loadRequests(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 3 * time.Second} {
		all := h2loadRequests(5000, d)
		rate := all / (d + h2loadWarmUp).Seconds()
		if want := 5000 / d.Seconds(); math.Abs(rate-want) > 1e-6 {
			t.Errorf("d=%v: %v requests, %v/s over the run, want %v/s", d, all, rate, want)
		}
	}
}

func TestParseSyscw(t *testing.T) {
	io := "rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 42\nread_bytes: 0\n"
	if got := parseSyscw(io); got != 42 {
		t.Errorf("syscw %d, want 42", got)
	}
	if got := parseSyscw("rchar: 1\n"); got != -1 {
		t.Errorf("no syscw: %d, want -1", got)
	}
	if procSyscw() < 0 {
		t.Log("/proc/self/io unreadable here: the write-syscall column prints —")
	}
}

// TestH2TargetTable: PASS, MISS and n/a follow the figures.
func TestH2TargetTable(t *testing.T) {
	get := func(s int) h2Cell { return h2Cell{protoH2, testGet, s} }
	fig := func(rps, cpu, allocs, writes float64) h2Figures {
		return h2Figures{figures: figures{rps: rps, cpuUS: cpu, allocs: allocs}, writes: writes}
	}
	res := map[h2Key]h2Figures{
		{get(1), nameSpool}: fig(1200, 6, 7.9, 1), {get(1), nameNetHTTP}: fig(1000, 10, 31, 1),
		{get(100), nameSpool}: fig(1400, 8, 9, 0.1), {get(100), nameNetHTTP}: fig(1000, 10, 31, 1),
		{h2Cell{protoH2, testDownload, 1}, nameSpool}: fig(300, 0, 0, 0),
	}
	sp, h := res[h2Key{get(100), nameSpool}], fig(3000, 3, 0, 0)
	sp.syscw, h.syscw = 0.3, 0.092
	res[h2Key{get(100), nameSpool}], res[h2Key{get(100), nameH2load}] = sp, h
	h1 := fig(2000, 3, 0, 0) // at 1 stream: not a socket-writes cell, not in the note
	h1.syscw = 1
	res[h2Key{get(1), nameH2load}] = h1
	var b strings.Builder
	h2TargetTable(res, []int{1, 100}).render(&b)
	out := b.String()
	rows := tableRows(out)
	for _, want := range [][]string{
		{"allocs per request", "h2 GET / ×1", "31.0", "7.90", "0.25×", "≤ 8", "PASS"},
		{"requests/s", "h2 GET / ×1", "1,000", "1,200", "1.20×", "≥ 1.1× net/http", "PASS"},
		{"CPU per request", "h2 GET / ×1", "10.0 µs", "6.00 µs", "0.60×", "≤ 0.7× net/http", "PASS"},
		{"allocs per request", "h2 GET / ×100", "31.0", "9.00", "0.29×", "≤ 8", "MISS"},
		{"requests/s", "h2 GET / ×100", "1,000", "1,400", "1.40×", "≥ 1.5× net/http", "MISS"},
		{"CPU per request", "h2 GET / ×100", "10.0 µs", "8.00 µs", "0.80×", "≤ 0.7× net/http", "MISS"},
		{"socket writes per request", "h2 GET / ×100", "1.00", "0.10", "0.10×", "< 0.2", "PASS"},
	} {
		if got := rows[want[0]+"|"+want[1]]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %v\n got %v in:\n%s", want, got, out)
		}
	}
	if want := "h2load, the ceiling, made 0.09 at 100 streams (spool 0.30)."; !strings.Contains(out, want) {
		t.Errorf("no note %q in:\n%s", want, out)
	}
	if strings.Contains(out, "at 1 streams") {
		t.Errorf("h2load's syscalls at 1 stream in the note:\n%s", out)
	}
	if _, ok := rows["socket writes per request|h2 GET / ×1"]; ok {
		t.Errorf("write target at 1 stream (it is for 16+):\n%s", out)
	}
	if strings.Contains(out, "1 MiB download") {
		t.Errorf("download row without net/http's figure:\n%s", out)
	}
	if v := verdict(true, 0); v != "n/a" {
		t.Errorf("verdict of a missing figure: %s", v)
	}
	if v := verdict(6 <= 0.7*10, 6, 10); v != "PASS" {
		t.Errorf("CPU 6 vs 10: %s", v)
	}
}

// TestNginxTLSListeners checks the -h2 mode's nginx config (skipped
// without nginx): h2 on one listener, HTTPS/1.1 on the other, and an
// h2 upload that nginx reads whole (a `return` would reset the stream
// after 64 KiB, and the cell would measure that).
//
// Both configs run it: nginx's defaults and -h2-tuned's (which nginx must
// accept, and which must leave every cell working); the server's CPU, read
// from /proc, grows with what it served.
func TestNginxTLSListeners(t *testing.T) {
	bin := findNginx()
	if bin == "" {
		t.Skip("nginx not installed")
	}
	for _, tuning := range [][]string{nil, tunedNginx} {
		t.Run(fmt.Sprint(len(tuning)), func(t *testing.T) { nginxTLSListeners(t, bin, tuning) })
	}
}

func nginxTLSListeners(t *testing.T, bin string, tuning []string) {
	srv, err := startNginx(bin, false, true, tuning...)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	conf, err := os.ReadFile(srv.dir + "/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range tuning {
		if n := strings.Count(string(conf), "    "+d+";\n"); n != 2 {
			t.Errorf("%q in %d TLS servers of the config, want 2", d, n)
		}
	}
	cpu0 := srv.cpu()
	if cpu0 < 0 {
		t.Errorf("server cpu unreadable")
	}
	tt := tlsTarget{h1Addr: srv.TLSAddr, h2Addr: srv.H2Addr, pool: srv.cert.Pool}
	for _, c := range []h2Cell{{protoH2, testGet, 1}, {protoH1, testGet, 1}, {protoH2, testUpload, 1}, {protoH2, testDownload, 1}} {
		for _, name := range []string{nameSpool, nameNetHTTP} {
			var counts ioCounts
			cl, err := newTLSClient(name, c, tt, &counts)
			if err != nil {
				t.Fatal(err)
			}
			w, err := cl.newWorker(c.request(tt, bigBody()))
			if err == nil {
				err = w.do()
			}
			if err != nil {
				t.Errorf("%v %s: %v", c, name, err)
			}
			s := counts.snap()
			if c.test == testUpload && s.wbytes < bigSize {
				t.Errorf("%v %s: %d bytes written, want the whole 1 MiB body", c, name, s.wbytes)
			}
			if c.test == testDownload && s.rbytes < bigSize {
				t.Errorf("%v %s: %d bytes read", c, name, s.rbytes)
			}
			cl.closeIdle()
		}
	}
	fc, err := newFloorClient(tt, "/big") // nginx's certificate and h2 for the Go floor too
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fc.do(); err != nil || n != bigSize {
		t.Errorf("go floor: %d bytes, %v", n, err)
	}
	fc.close()
	// 1 MiB encrypted costs nginx a millisecond; 2 ms is far above a tick.
	if cpu1 := srv.cpu(); cpu1-cpu0 < 2*time.Millisecond {
		t.Errorf("server CPU grew by %v over the cells, want the cost of four MiB", cpu1-cpu0)
	}
}

// TestFloorClient runs the Go floor against the in-process h2 server and
// through runH2Cells: it reads /big whole, over and over on one conn, and
// gets its row in the download cell only.
func TestFloorClient(t *testing.T) {
	tt := tlsPair(t)
	fc, err := newFloorClient(tt, "/big")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if n, err := fc.do(); err != nil || n != bigSize {
			t.Fatalf("download %d: %d bytes, %v", i, n, err)
		}
	}
	fc.close()
	tt.floor = true
	dl, get := h2Cell{protoH2, testDownload, 1}, h2Cell{protoH2, testGet, 1}
	res := runH2Cells(t.Output(), []h2Cell{dl, get}, tt, 80*time.Millisecond, 1)
	if f, ok := res[h2Key{dl, nameFloor}]; !ok || f.err != nil || f.reqs == 0 || !(f.cpuUS > 0) {
		t.Errorf("floor in the download cell: %+v (present %v)", f, ok)
	}
	if _, ok := res[h2Key{get, nameFloor}]; ok {
		t.Error("floor ran in the GET cell")
	}
	var out bytes.Buffer
	h2TargetTable(res, []int{1}).render(&out)
	if !strings.Contains(out.String(), "the Go floor") {
		t.Errorf("targets table has no floor note:\n%s", out.String())
	}
}

func TestParseStatCPU(t *testing.T) {
	// comm with spaces and a parenthesis; utime 150, stime 50 ticks.
	line := "4242 (nginx: worker (x)) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 99"
	if got := parseStatCPU(line); got != 200*clockTick {
		t.Errorf("parseStatCPU = %v, want 2s", got)
	}
	if got := parseStatCPU("4242 (x) S 1"); got != -1 {
		t.Errorf("short line: %v", got)
	}
	if got := procCPU(os.Getpid()); got <= 0 {
		t.Errorf("procCPU(self) = %v", got)
	}
}

func TestServerCap(t *testing.T) {
	s := h2Figures{srvUS: 1250, figures: figures{rps: 700, cpuUS: 750}}
	n := h2Figures{srvUS: 1500, figures: figures{rps: 400, cpuUS: 1500}}
	// 1,250 µs per MiB: 800 MiB/s at most, 2.00× net/http's 400. Sums
	// 2,000 and 3,000 µs: 500 and 333 MiB/s on one core, 1.50×.
	got := serverCap(s, n)
	for _, want := range []string{"1,250 µs", "800 MiB/s", "2.00×", "spool 2,000 µs, net/http 3,000 µs", "500 and 333 MiB/s (1.50×)"} {
		if !strings.Contains(got, want) {
			t.Errorf("serverCap = %q, want %q in it", got, want)
		}
	}
	if got := serverCap(h2Figures{srvUS: nan()}, n); got != "" {
		t.Errorf("unknown server CPU: %q", got)
	}
}

func TestServerPerReq(t *testing.T) {
	f := h2Figures{figures: figures{reqs: 100}}
	if got := serverPerReq(time.Second, time.Second+100*time.Millisecond, f, false, time.Second); got != 1000 {
		t.Errorf("serverPerReq = %v µs, want 1000", got)
	}
	// h2load: its warm-up's requests count at the measured rate.
	if got := serverPerReq(0, 140*time.Millisecond, f, true, time.Second); math.Abs(got-1000) > 1e-9 {
		t.Errorf("h2load serverPerReq = %v µs, want 1000", got)
	}
	if got := serverPerReq(-1, time.Second, f, false, time.Second); got == got {
		t.Errorf("unknown server CPU: %v, want NaN", got)
	}
}

// tableRows indexes a rendered markdown table's rows by their leading
// cells joined with "|" (the first two, and for the figure table also the
// first three and four), each row as its trimmed cells.
func tableRows(out string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		for n := 2; n <= min(4, len(cells)); n++ {
			key := strings.Join(cells[:n], "|")
			if rows[key] == nil {
				rows[key] = cells
			}
		}
	}
	return rows
}

func TestRoundRatio(t *testing.T) {
	run := func(rps float64, err error) h2Figures {
		return h2Figures{figures: figures{rps: rps, reqs: 1, err: err}}
	}
	a := []h2Figures{run(200, nil), run(90, nil), run(300, nil), run(1, io.EOF)}
	b := []h2Figures{run(100, nil), run(100, nil), run(100, nil), run(100, nil)}
	// rounds 1-3: 2.0, 0.9, 3.0 → median 2.0; round 4 does not count.
	if got := roundRatio(a, b, func(f h2Figures) float64 { return f.rps }); got != 2 {
		t.Errorf("roundRatio = %v, want 2", got)
	}
	if got := roundRatio(a[3:], b[3:], func(f h2Figures) float64 { return f.rps }); got == got {
		t.Errorf("no counting round: %v, want NaN", got)
	}
}

func TestParseH2Flags(t *testing.T) {
	c, err := parseFlags([]string{"-h2", "-h2-streams", "1, 8", "-h2-https1=false"})
	if err != nil || !c.h2.on || len(c.h2.streams) != 2 || c.h2.streams[1] != 8 || c.h2.h1 {
		t.Errorf("parseFlags: %+v, %v", c.h2, err)
	}
	if cells := h2Cells(c.h2); len(cells) != 4 || cells[3] != (h2Cell{protoH2, testUpload, 1}) {
		t.Errorf("cells: %v", cells)
	}
	c, err = parseFlags([]string{"-h2", "-h2-tests", "download"})
	if cells := h2Cells(c.h2); err != nil || len(cells) != 2 || cells[0] != (h2Cell{protoH2, testDownload, 1}) ||
		cells[1] != (h2Cell{protoH1, testDownload, 1}) {
		t.Errorf("-h2-tests download: cells %v, %v", cells, err)
	}
	if c, err := parseFlags([]string{"-h2", "-h2-tuned"}); err != nil || !c.h2.tuned || len(h2Cells(c.h2)) != 10 {
		t.Errorf("-h2-tuned: %+v, %v", c.h2, err)
	}
	if _, err := parseFlags([]string{"-h2", "-h2-tests", "get,bogus"}); err == nil {
		t.Error("-h2-tests bogus accepted")
	}
	for _, bad := range []string{"0", "x", ""} {
		if _, err := parseFlags([]string{"-h2", "-h2-streams", bad}); err == nil {
			t.Errorf("-h2-streams %q accepted", bad)
		}
	}
}
