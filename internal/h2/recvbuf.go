package h2

import "sync"

// recvBuf holds a stream's received DATA until its body is read: a queue
// of fixed-size chunks from a pool, so a large body costs no growing slice
// (no reallocation, no copying of what is already buffered) and a chunk
// goes back to the pool as soon as it is read. Its size is bounded by the
// stream's receive window. The stream's mu guards it.
type recvBuf struct {
	chunks []*[]byte // (*chunks[0])[r:] is the next to read; each len is its fill
	r      int
	inline [4]*[]byte // backing for chunks: no allocation for small bodies
}

const recvChunk = 16 << 10 // one DATA frame at the default max frame size

var recvPool = sync.Pool{New: func() any { b := make([]byte, 0, recvChunk); return &b }}

func (b *recvBuf) empty() bool { return len(b.chunks) == 0 }

// write appends p.
func (b *recvBuf) write(p []byte) {
	if b.chunks == nil {
		b.chunks = b.inline[:0]
	}
	for len(p) > 0 {
		if n := len(b.chunks); n == 0 || len(*b.chunks[n-1]) == cap(*b.chunks[n-1]) {
			c := recvPool.Get().(*[]byte)
			*c = (*c)[:0]
			b.chunks = append(b.chunks, c)
		}
		last := b.chunks[len(b.chunks)-1]
		k := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
}

// read copies into p and returns how many bytes; an emptied chunk goes
// back to the pool.
func (b *recvBuf) read(p []byte) int {
	n := 0
	for n < len(p) && len(b.chunks) > 0 {
		c := *b.chunks[0]
		k := copy(p[n:], c[b.r:])
		n += k
		b.r += k
		if b.r < len(c) {
			break
		}
		b.pop()
	}
	return n
}

func (b *recvBuf) pop() {
	c := b.chunks[0]
	*c = (*c)[:0]
	recvPool.Put(c)
	copy(b.chunks, b.chunks[1:])
	b.chunks[len(b.chunks)-1] = nil
	b.chunks = b.chunks[:len(b.chunks)-1]
	b.r = 0
}

// release gives every chunk back.
func (b *recvBuf) release() {
	for len(b.chunks) > 0 {
		b.pop()
	}
}
