package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// oneByteReader returns its bytes one Read at a time.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0], r.s = r.s[0], r.s[1:]
	return 1, nil
}

// A body longer than its ContentLength fails with both lengths. When a
// Read brings bytes past the length (an in-memory body), none of that
// Read is written, so the server never holds a complete body of the
// declared length; a body read a byte at a time can only be found out
// after the declared bytes went out (net/http's case too).
func TestWriteBodyLongerThanContentLength(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    io.Reader
		written string
	}{
		{"one read", io.MultiReader(strings.NewReader("Hello")), ""},
		{"byte by byte", &oneByteReader{"Hello"}, "Hel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := writeBody(bufio.NewWriter(&out), &out, tc.body, 3, nil, make([]byte, 64))
			var cl *ContentLengthError
			if !errors.As(err, &cl) || cl.ContentLength != 3 || cl.BodyLength != 5 {
				t.Fatalf("err %v, want a ContentLengthError 3 vs 5", err)
			}
			if out.String() != tc.written {
				t.Fatalf("wrote %q, want %q", out.String(), tc.written)
			}
		})
	}
	var out bytes.Buffer // the exact length still goes out whole
	if err := writeBody(bufio.NewWriter(&out), &out, &oneByteReader{"Hel"}, 3, nil, nil); err != nil || out.String() != "Hel" {
		t.Fatalf("exact body: wrote %q, %v", out.String(), err)
	}
}

// A ContentLength near MaxInt64 (an endless stream, which net/http
// accepts) is copied as any other: the read-past-the-length bound must
// not overflow.
func TestWriteBodyHugeContentLength(t *testing.T) {
	var out bytes.Buffer
	_, err := copyLimited(&out, strings.NewReader("stream"), math.MaxInt64, make([]byte, 64))
	if err != nil || out.String() != "stream" {
		t.Fatalf("wrote %q, %v", out.String(), err)
	}
}
