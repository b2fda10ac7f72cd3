package h1

import (
	"bufio"
	"io"
	"sync"
)

// Buffers live for one exchange (DESIGN decision 2): an idle conn holds
// none. One pool per size so odd ReadBufferSize values don't mix.
const defaultBufSize = 4 << 10

var (
	readers, writers       sync.Map  // size → *sync.Pool, for non-default sizes
	defReaders, defWriters sync.Pool // the common size, looked up without boxing an int
)

func sizeOr(n int) int {
	if n <= 0 {
		return defaultBufSize
	}
	return n
}

func poolFor(m *sync.Map, size int) *sync.Pool {
	if size == defaultBufSize {
		if m == &readers {
			return &defReaders
		}
		return &defWriters
	}
	if p, ok := m.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := m.LoadOrStore(size, &sync.Pool{})
	return p.(*sync.Pool)
}

func getReader(r io.Reader, size int) *bufio.Reader {
	size = sizeOr(size)
	if br, ok := poolFor(&readers, size).Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, size)
}

func putReader(br *bufio.Reader, size int) {
	br.Reset(nil)
	poolFor(&readers, sizeOr(size)).Put(br)
}

func getWriter(w io.Writer, size int) *bufio.Writer {
	size = sizeOr(size)
	if bw, ok := poolFor(&writers, size).Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, size)
}

func putWriter(bw *bufio.Writer, size int) {
	bw.Reset(nil)
	poolFor(&writers, sizeOr(size)).Put(bw)
}
