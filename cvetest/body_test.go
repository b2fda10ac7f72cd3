package cvetest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Go CVE-2023-39326: net/http read chunk extensions without counting them,
// so tiny chunks with huge extensions made a client read far more than the
// body. spool must fail with a ProtocolError after a bounded amount.
func TestCVE_2023_39326_ChunkExtensionFlood(t *testing.T) {
	const bound = 64 << 10 // 16 KiB excess allowance + buffers, generously
	for name, unit := range map[string]string{
		"1-byte chunks, 3000-byte ext": "1;" + strings.Repeat("e", 3000) + "\r\nx\r\n",
		"1-byte chunks, 100-byte ext":  "1;" + strings.Repeat("e", 100) + "\r\nx\r\n",
		"ext with value":               "1;name=\"" + strings.Repeat("v", 500) + "\"\r\nx\r\n",
		"leading zeros":                strings.Repeat("0", 15) + "1\r\nx\r\n" + "0000000000000001;" + strings.Repeat("e", 200) + "\r\nx\r\n",
		"one huge ext line":            "1;" + strings.Repeat("e", 1<<20) + "\r\nx\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := startRaw(t, func(c *rawConn) {
				if c.ReadRequest() != nil {
					flood(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", unit, 64<<20)
				}
			})
			var d testutil.CountingDialer
			tr := testutil.NewTransport(t, &spool.Transport{DialContext: d.DialContext})
			_, body, err := roundTripAll(t, tr, s.URL())
			var pe *spool.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v after %d body bytes, want *spool.ProtocolError", err, len(body))
			}
			if got := d.Read.Load(); got > bound {
				t.Fatalf("read %d bytes before failing, want <= %d", got, bound)
			}
		})
	}
	t.Run("1-byte chunks without extensions are fine", func(t *testing.T) {
		const n = 100_000
		var b strings.Builder
		b.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for range n {
			b.WriteString("1;a=b\r\nx\r\n") // small extensions stay within the allowance
		}
		b.WriteString("0\r\n\r\n")
		s := startRaw(t, replyAll(b.String()))
		_, body, err := roundTripAll(t, testutil.NewTransport(t, nil), s.URL())
		if err != nil || len(body) != n {
			t.Fatalf("got %d bytes, %v; want %d", len(body), err, n)
		}
	})
}

func gzipped(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// curl CVE-2022-32206 class: a small compressed body that inflates to far
// more than the caller bargained for. MaxDecompressedBytes stops it with
// ErrDecompressedTooLarge, having produced at most the limit.
func TestCVE_2022_32206_DecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := gzipped(t, make([]byte, 10<<20)) // 10 MiB of zeros in ~10 KiB
	t.Logf("bomb: %d bytes of gzip, 10 MiB inflated", len(bomb))
	for _, mode := range []string{"Content-Length", "chunked"} {
		t.Run(mode, func(t *testing.T) {
			s := startRaw(t, func(c *rawConn) {
				for {
					req := c.ReadRequest()
					if req == nil {
						return
					}
					if mode == "chunked" {
						c.WriteString(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(bomb), bomb))
					} else {
						c.WriteString(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(bomb), bomb))
					}
				}
			})
			tr := testutil.NewTransport(t, &spool.Transport{MaxDecompressedBytes: limit})
			resp, err := tr.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", s.URL(), nil), 10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if !resp.Uncompressed {
				t.Fatal("gzip body not decoded transparently")
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if !errors.Is(err, spool.ErrDecompressedTooLarge) {
				t.Fatalf("after %d bytes: err = %v, want ErrDecompressedTooLarge", n, err)
			}
			if n > limit {
				t.Fatalf("produced %d bytes, limit %d", n, limit)
			}
			// The error sticks.
			if _, err := resp.Body.Read(make([]byte, 10)); !errors.Is(err, spool.ErrDecompressedTooLarge) {
				t.Fatalf("next Read: %v", err)
			}
		})
	}
	t.Run("exactly the limit is fine", func(t *testing.T) {
		data := bytes.Repeat([]byte("spool"), limit/5)
		z := gzipped(t, data)
		s := startRaw(t, replyAll(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(z), z)))
		_, b, err := roundTripAll(t, testutil.NewTransport(t, &spool.Transport{MaxDecompressedBytes: int64(len(data))}), s.URL())
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("%d of %d bytes, %v", len(b), len(data), err)
		}
	})
}

// curl CVE-2023-23916: curl decoded an unbounded chain of
// Content-Encodings, allocating per link. spool decodes a single coding it
// asked for and hands anything else through untouched.
func TestCVE_2023_23916_EncodingChain(t *testing.T) {
	inner := []byte("hello, world")
	payload := gzipped(t, gzipped(t, gzipped(t, inner)))
	chain := strings.TrimSuffix(strings.Repeat("gzip, ", 1000), ", ")
	heads := map[string]string{
		"one field":    "Content-Encoding: " + chain + "\r\n",
		"1000 fields":  strings.Repeat("Content-Encoding: gzip\r\n", 1000),
		"gzip, gzip":   "Content-Encoding: gzip, gzip\r\n",
		"gzip,gzip":    "Content-Encoding: gzip,gzip\r\n",
		"unknown+gzip": "Content-Encoding: x-evil, gzip\r\n",
	}
	for name, h := range heads {
		t.Run(name, func(t *testing.T) {
			resp := fmt.Sprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s", h, len(payload), payload)
			s := startRaw(t, replyAll(resp))
			start := time.Now()
			r, b, err := roundTripAll(t, testutil.NewTransport(t, &spool.Transport{ExtraEncodings: true}), s.URL())
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if r.Uncompressed || len(r.Header["Content-Encoding"]) == 0 {
				t.Errorf("chain decoded: Uncompressed=%v Content-Encoding=%.40q", r.Uncompressed, r.Header["Content-Encoding"])
			}
			if !bytes.Equal(b, payload) {
				t.Errorf("body is %d bytes, want the %d raw bytes as sent", len(b), len(payload))
			}
		})
	}
}

// Go CVE-2024-24791: a server answering an "Expect: 100-continue" request
// with a final status and no 100 left net/http's conn in a state where the
// next request on it failed. Go's fix, which spool follows: if the conn
// stays open the body is sent after all (the server reads it, so the
// framing is known again); if the server says Connection: close it is
// never sent and the conn not reused. Either way the next request works,
// and a conn is reused only after the server received the whole body.
func TestCVE_2024_24791_ExpectContinueFinalStatus(t *testing.T) {
	const size = 1 << 10
	for _, connClose := range []bool{false, true} {
		for _, status := range []string{"200 OK", "417 Expectation Failed", "413 Content Too Large", "401 Unauthorized"} {
			name := status + "/keep-alive"
			if connClose {
				name = status + "/close"
			}
			t.Run(name, func(t *testing.T) {
				testExpectContinueFinalStatus(t, status, connClose, size)
			})
		}
	}
}

func testExpectContinueFinalStatus(t *testing.T, status string, connClose bool, size int) {
	var mu syncList
	s := startRaw(t, func(c *rawConn) {
		for {
			req := c.ReadRequest()
			if req == nil {
				return
			}
			mu.add(fmt.Sprintf("%d %s %s", c.Index, req.Method, req.URL.Path))
			if req.Header.Get("Expect") != "100-continue" {
				io.Copy(io.Discard, req.Body)
				c.WriteString(okResponse)
				continue
			}
			if connClose {
				c.WriteString("HTTP/1.1 " + status + "\r\nConnection: close\r\nContent-Length: 4\r\n\r\nnope")
				return
			}
			// Answer at once without a 100; keeping the conn, read the
			// body that must follow (RFC 9110 §10.1.1).
			c.WriteString("HTTP/1.1 " + status + "\r\nContent-Length: 4\r\n\r\nnope")
			n, err := io.Copy(io.Discard, req.Body)
			mu.add(fmt.Sprintf("%d body %d %v", c.Index, n, err == nil))
			if err != nil {
				return
			}
		}
	})
	tr := testutil.NewTransport(t, &spool.Transport{ExpectContinueTimeout: 5 * time.Second})
	body := &closeCounter{Reader: strings.NewReader(strings.Repeat("B", size))}
	req := withTimeout(t, testutil.NewRequest(t, "POST", s.URL()+"/upload", body), 10*time.Second)
	req.ContentLength = int64(size)
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Status != status || string(b) != "nope" {
		t.Fatalf("got %s %q", resp.Status, b)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("final status took %v: the client waited for the expect timeout", d)
	}
	if body.closes.Load() != 1 {
		t.Errorf("request body closed %d times, want 1", body.closes.Load())
	}
	if connClose && body.Len() != size {
		t.Errorf("%d body bytes were sent after a final status with Connection: close", size-body.Len())
	}
	for _, path := range []string{"/next", "/again"} {
		_, b, err := roundTripAll(t, tr, s.URL()+path)
		if err != nil || string(b) != "ok" {
			t.Fatalf("GET %s after the refused upload: %q, %v", path, b, err)
		}
	}
	got := mu.get()
	whole := fmt.Sprintf("0 body %d true", size)
	reused := slices.Contains(got, "0 GET /next") || slices.Contains(got, "0 GET /again")
	if reused && (connClose || !slices.Contains(got, whole)) {
		t.Fatalf("server saw %q: conn 0 was reused without the whole body", got)
	}
	if !connClose && !reused && slices.Contains(got, whole) {
		// Not wrong, but the body went in full: the conn was good to keep.
		t.Logf("server saw %q: conn 0 not reused after the whole body", got)
	}
}
