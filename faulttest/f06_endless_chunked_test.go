package faulttest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF6_EndlessChunked: reading 100 MiB of an endless chunked body keeps
// the heap flat; Close returns fast and closes the conn after reading at
// most the drain bound, not to an EOF that never comes.
func TestF6_EndlessChunked(t *testing.T) {
	total := int64(scale(100, 20)) << 20 // MiB; smaller under -race, which is ~10x slower per byte
	chunk := strings.Repeat("z", 32<<10)
	unit := []byte(strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk), 8)) // written over and over, never reallocated
	s := floodServer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		func() []byte { return unit })
	var cnt testutil.CountingDialer
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: cnt.DialContext})
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	base := heap()
	var peak uint64
	buf := make([]byte, 64<<10)
	var got int64
	for got < total {
		n, err := resp.Body.Read(buf)
		got += int64(n)
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		if got%(10<<20) < int64(n) { // every ~10 MiB
			peak = max(peak, heap())
		}
	}
	if grow := int64(peak) - int64(base); grow > 4<<20 {
		t.Errorf("heap in use grew by %d bytes over %d MiB of body", grow, total>>20)
	} else {
		t.Logf("heap in use: base %d, peak %d over %d MiB", base, peak, total>>20)
	}
	before := cnt.Read.Load()
	start := time.Now()
	resp.Body.Close()
	took := time.Since(start)
	after := cnt.Read.Load() - before
	if took > time.Second {
		t.Errorf("Close took %v", took)
	}
	// The drain bound is 256 KiB (DrainLimit's default) plus a buffer.
	if after > 256<<10+64<<10 {
		t.Errorf("Close read %d more bytes: drained past its bound", after)
	}
	t.Logf("Close took %v and read %d bytes", took, after)
	if cnt.Open.Load() != 0 || held(tr) != 0 {
		t.Errorf("conn left open (%d) or held (%d)", cnt.Open.Load(), held(tr))
	}
	if st := tr.Stats().Total; st.Closes.EarlyClose != 1 {
		t.Errorf("closes %+v, want one EarlyClose", st.Closes)
	}
	if _, err := resp.Body.Read(buf); err == nil {
		t.Error("Read after Close succeeded")
	}
}
