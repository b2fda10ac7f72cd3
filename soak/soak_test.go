package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

const concurrency = 256

// TestSoakShort is the always-on soak: a few thousand requests of every
// kind, with the same end-of-run invariants as the full soak.
func TestSoakShort(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	runSoak(t, n)
}

// TestSoak is the full soak, SPOOL_SOAK=1 only.
func TestSoak(t *testing.T) {
	if os.Getenv("SPOOL_SOAK") == "" {
		t.Skip("full soak is opt-in: SPOOL_SOAK=1 go test ./soak -run 'TestSoak$' -v -timeout 10m (SPOOL_SOAK_REQUESTS=N overrides the default 1000000)")
	}
	n := 1_000_000
	if s := os.Getenv("SPOOL_SOAK_REQUESTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("SPOOL_SOAK_REQUESTS=%q", s)
		}
		n = v
	}
	runSoak(t, n)
}

// kind is what a worker does with one request.
type kind int

const (
	kRead      kind = iota // read to EOF, check everything, Close
	kEarly                 // read a prefix, check it, Close before EOF
	kForget                // drop the response without reading or closing
	kCancelHdr             // cancel after the head, then read: error or full body
	kCancelAny             // cancel at a random moment: error or full body
	kHead                  // HEAD: headers only
	kUpload                // POST a body the server verifies
	numKinds
)

var kindNames = [numKinds]string{"read", "early-close", "forget", "cancel-after-head", "cancel-random", "head", "upload"}

// pick chooses the kind and shape of request i, deterministically.
type plan struct {
	kind                 kind
	off, size            int
	cl, close, stall, gz bool
	prefix               int           // kEarly: bytes to read before Close
	cancelAfter          time.Duration // kCancelAny
	h2                   bool          // over HTTP/2 (h2Permille of the requests)
}

// h2Permille is the HTTP/2 share of the requests, per thousand.
const h2Permille = 250

// h2ClosePermille is the share of HTTP/2 requests asking for Connection:
// close, per thousand (at most HTTP/1's 20), which makes net/http's
// server GOAWAY a conn carrying up to 64 of the soak's streams. At 20
// nearly every conn is drained within its first streams and a few
// requests ran out of replays (17 of 25,000 after 7 attempts); 2 is a
// GOAWAY every few hundred streams. (At 2 the heap check found conns
// pinned by a late response head of a cancelled stream, 8 MiB after
// 1,000,000 requests: fixed in internal/h2, see
// TestH2CancelledStreamsFreeTheirConn.)
const h2ClosePermille = 2

func pick(i int) plan {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	var p plan
	switch x := r.IntN(1000); {
	case x < 600:
		p.kind = kRead
	case x < 720:
		p.kind = kEarly
	case x < 730:
		p.kind = kForget
	case x < 800:
		p.kind = kCancelHdr
	case x < 870:
		p.kind = kCancelAny
	case x < 920:
		p.kind = kHead
	default:
		p.kind = kUpload
	}
	switch x := r.IntN(1000); {
	case x < 150:
		p.size = 0
	case x < 700:
		p.size = 1 + r.IntN(512)
	case x < 950:
		p.size = 512 + r.IntN(16<<10)
	case x < 995:
		p.size = 16<<10 + r.IntN(128<<10)
	default:
		p.size = 256<<10 + r.IntN(256<<10) // past the default drain limit
	}
	p.off = r.IntN(contentSize - p.size + 1)
	p.cl = r.IntN(2) == 0
	p.close = r.IntN(50) == 0
	p.stall = r.IntN(100) == 0
	if p.kind != kUpload && r.IntN(20) == 0 {
		p.gz = true
		p.off, p.size = 0, gzSizes[r.IntN(len(gzSizes))]
	}
	if p.size > 0 {
		p.prefix = r.IntN(p.size)
	}
	p.cancelAfter = time.Duration(r.IntN(2000)) * time.Microsecond
	p.h2 = r.IntN(1000) < h2Permille // drawn last: the HTTP/1.1 plans are as before
	if p.h2 && p.close && r.IntN(1000) >= h2ClosePermille*50 {
		p.close = false
	}
	return p
}

func (p plan) url(addr string) string {
	path := "/b"
	if p.kind == kUpload {
		path = "/u"
	}
	u := fmt.Sprintf("http://%s%s?off=%d&size=%d", addr, path, p.off, p.size)
	for _, f := range []struct {
		on   bool
		name string
	}{{p.cl, "cl"}, {p.close, "close"}, {p.stall, "stall"}, {p.gz, "gz"}} {
		if f.on {
			u += "&" + f.name + "=1"
		}
	}
	return u
}

// tally is what the load did, shared by the workers.
type tally struct {
	done     [numKinds]atomic.Int64
	forgot   atomic.Int64 // forgotten bodies that hold a conn (not NoBody)
	canceled atomic.Int64 // requests that ended in context.Canceled
	bytes    atomic.Int64 // body bytes verified
	leakHook atomic.Int64 // OnLeakedBody calls

	mu    sync.Mutex
	errs  []string // unexpected outcomes (first few)
	nerrs int
}

func (t *tally) fail(i int, p plan, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nerrs++
	if len(t.errs) < 10 {
		t.errs = append(t.errs, fmt.Sprintf("request %d %s %s: %s", i, kindNames[p.kind], p.url(""), fmt.Sprintf(format, args...)))
	}
}

type snapshot struct {
	fds, goroutines int
	heap            uint64
}

func countFDs(t testing.TB) int {
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(d)
}

func take(t testing.TB) snapshot {
	for range 3 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return snapshot{fds: countFDs(t), goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
}

// client is one Transport of the soak and what its share of the load did.
type client struct {
	name string
	tr   *spool.Transport
	tl   tally
}

// newClients: HTTP/1.1, and HTTP/2 by prior knowledge (h2c) to the same
// child server, which speaks both on its port.
func newClients() [2]*client {
	h1c := &client{name: "HTTP/1.1"}
	h1c.tr = &spool.Transport{OnLeakedBody: func(string, string) { h1c.tl.leakHook.Add(1) }}
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	h2c := &client{name: "HTTP/2"}
	h2c.tr = &spool.Transport{Protocols: p, OnLeakedBody: func(string, string) { h2c.tl.leakHook.Add(1) }}
	return [2]*client{h1c, h2c}
}

func runSoak(t *testing.T, n int) {
	addr := testutil.StartChildServer(t)
	before := take(t)

	clients := newClients()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				p := pick(i)
				c := clients[0]
				if p.h2 {
					c = clients[1]
				}
				one(c.tr, addr, i, p, &c.tl, buf)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d requests in %v: %.0f req/s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	after := settle(t, before, clients)
	t.Logf("fds %d -> %d, goroutines %d -> %d, heap %.1f MiB -> %.1f MiB",
		before.fds, after.fds, before.goroutines, after.goroutines, mib(before.heap), mib(after.heap))
	for _, c := range clients {
		c.check(t)
	}
	if after.fds > before.fds+fdSlack {
		t.Errorf("fds: %d before, %d after", before.fds, after.fds)
	}
	if after.goroutines > before.goroutines+goroutineSlack {
		t.Errorf("goroutines: %d before, %d after", before.goroutines, after.goroutines)
	}
	if after.heap > before.heap+heapSlack {
		t.Errorf("heap: %.1f MiB before, %.1f MiB after (slack %.0f MiB)", mib(before.heap), mib(after.heap), mib(heapSlack))
	}
	for _, c := range clients {
		c.tr.Close()
	}
}

// settle waits until idle conns are closed, forgotten bodies collected and
// counted, and fds and goroutines are back (or a deadline passes).
func settle(t *testing.T, before snapshot, clients [2]*client) snapshot {
	deadline := time.Now().Add(20 * time.Second)
	for {
		after := take(t)
		settled := after.fds <= before.fds+fdSlack && after.goroutines <= before.goroutines+goroutineSlack
		for _, c := range clients {
			c.tr.CloseIdleConnections()
			st := c.tr.Stats().Total
			settled = settled && st.LeakedBodies == c.tl.forgot.Load() && st.Active == 0 && st.Idle == 0
		}
		if settled || time.Now().After(deadline) {
			return after
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check reports the client's share and checks its Stats against what the
// load did.
func (c *client) check(t *testing.T) {
	tl := &c.tl
	st := c.tr.Stats()
	tot := st.Total
	var made int64
	for k := range numKinds {
		made += tl.done[k].Load()
	}
	forgot := tl.forgot.Load()
	t.Logf("%s: %d requests, %d MiB of bodies verified", c.name, made, tl.bytes.Load()>>20)
	for k := range numKinds {
		t.Logf("  %-18s %d", kindNames[k], tl.done[k].Load())
	}
	t.Logf("  canceled: %d, forgotten (conn-holding): %d, LeakedBodies: %d, leak hook: %d", tl.canceled.Load(), forgot, tot.LeakedBodies, tl.leakHook.Load())
	t.Logf("  dials %d, reuses %d, closes %+v, h2 %+v", tot.Dials, tot.Reuses, tot.Closes, st.H2)

	tl.mu.Lock()
	if tl.nerrs > 0 {
		t.Errorf("%s: %d requests went wrong; first ones:", c.name, tl.nerrs)
		for _, e := range tl.errs {
			t.Error("  " + e)
		}
	}
	tl.mu.Unlock()
	// A request canceled before it got a conn is not counted in Requests;
	// a retried one (HTTP/1's keep-alive race, HTTP/2's unprocessed
	// streams) is counted once.
	if min := made - tl.canceled.Load(); tot.Requests < min || tot.Requests > made {
		t.Errorf("%s: Stats.Requests = %d, want %d..%d", c.name, tot.Requests, min, made)
	}
	if tot.LeakedBodies != forgot || tl.leakHook.Load() != forgot {
		t.Errorf("%s: forgot %d bodies; Stats.LeakedBodies = %d, OnLeakedBody calls = %d", c.name, forgot, tot.LeakedBodies, tl.leakHook.Load())
	}
	if tot.Active != 0 || tot.Idle != 0 || tot.H2Conns != 0 || tot.Streams != 0 {
		t.Errorf("%s: after CloseIdleConnections: %d active, %d idle conns, %d h2 conns, %d streams", c.name, tot.Active, tot.Idle, tot.H2Conns, tot.Streams)
	}
}

const (
	fdSlack        = 2
	goroutineSlack = 2
	heapSlack      = 8 << 20 // route cache, Stats maps, runtime caches
)

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// one runs request i according to p and checks what came back.
func one(tr *spool.Transport, addr string, i int, p plan, tl *tally, buf []byte) {
	tl.done[p.kind].Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	method := http.MethodGet
	var body io.Reader
	switch p.kind {
	case kHead:
		method = http.MethodHead
	case kUpload:
		method = http.MethodPost
		body = bytes.NewReader(content[p.off : p.off+p.size])
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url(addr), body)
	if err != nil {
		tl.fail(i, p, "NewRequest: %v", err)
		return
	}
	if p.kind == kCancelAny {
		timer := time.AfterFunc(p.cancelAfter, cancel)
		defer timer.Stop()
	}
	canceled := p.kind == kCancelHdr || p.kind == kCancelAny
	resp, err := tr.RoundTrip(req)
	if err != nil {
		if canceled && errors.Is(err, context.Canceled) {
			tl.canceled.Add(1)
			return
		}
		tl.fail(i, p, "RoundTrip: %v", err)
		return
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		tl.fail(i, p, "status %s: %q", resp.Status, b)
		return
	}
	switch p.kind {
	case kForget:
		if resp.Body != http.NoBody {
			tl.forgot.Add(1)
		}
		return // resp and its body become garbage here
	case kHead:
		resp.Body.Close()
		if resp.Header.Get("X-Len") != strconv.Itoa(p.size) {
			tl.fail(i, p, "HEAD X-Len %q", resp.Header.Get("X-Len"))
		}
		return
	case kUpload:
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "ok" {
			tl.fail(i, p, "upload answer %q, %v", b, err)
		}
		return
	case kCancelHdr:
		cancel()
	}
	want := content[p.off : p.off+p.size]
	limit := len(want)
	if p.kind == kEarly {
		limit = p.prefix
	}
	got, err := readUpTo(resp.Body, buf, limit, p.kind == kEarly)
	closeErr := resp.Body.Close()
	if !bytes.Equal(got, want[:len(got)]) {
		tl.fail(i, p, "CORRUPT: %d bytes read differ from the content", len(got))
		return
	}
	tl.bytes.Add(int64(len(got)))
	switch {
	case err != nil && canceled && errors.Is(err, context.Canceled):
		tl.canceled.Add(1)
		return
	case err != nil:
		tl.fail(i, p, "body after %d bytes: %v", len(got), err)
		return
	case closeErr != nil:
		tl.fail(i, p, "Close: %v", closeErr)
		return
	case p.kind == kEarly:
		return
	}
	if len(got) != len(want) {
		tl.fail(i, p, "body is %d bytes, want %d", len(got), len(want))
	}
	if c := resp.Header.Get("X-Crc"); c != strconv.FormatUint(uint64(crc32.Checksum(got, castagnoli)), 16) {
		tl.fail(i, p, "CORRUPT: X-Crc %s does not match the body", c)
	}
}

// readUpTo reads limit bytes (early) or to EOF, returning what it read;
// got aliases a per-worker scratch slice grown as needed.
func readUpTo(r io.Reader, buf []byte, limit int, early bool) ([]byte, error) {
	got := buf[:0]
	for {
		if early && len(got) >= limit {
			return got, nil
		}
		if len(got) == cap(got) {
			got = append(got, 0)[:len(got)]
		}
		room := got[len(got):cap(got)]
		if early && len(room) > limit-len(got) {
			room = room[:limit-len(got)]
		}
		n, err := r.Read(room)
		got = got[:len(got)+n]
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}
