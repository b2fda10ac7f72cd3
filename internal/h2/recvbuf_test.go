package h2

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// recvBuf returns what was written, in order, across chunk boundaries,
// whatever the sizes of the writes and reads.
func TestRecvBufOrder(t *testing.T) {
	var want bytes.Buffer
	var b recvBuf
	var got []byte
	for i := 0; i < 200; i++ {
		p := make([]byte, rand.IntN(3*recvChunk))
		for j := range p {
			p[j] = byte(i + j)
		}
		b.write(p)
		want.Write(p)
		buf := make([]byte, rand.IntN(2*recvChunk)+1)
		got = append(got, buf[:b.read(buf)]...)
	}
	for !b.empty() {
		buf := make([]byte, 1000)
		got = append(got, buf[:b.read(buf)]...)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("read %d bytes, wrote %d; contents differ", len(got), want.Len())
	}
	b.write([]byte("x"))
	b.release()
	if !b.empty() {
		t.Fatal("release left chunks")
	}
}
