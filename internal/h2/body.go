package h2

import (
	"io"
	"sync/atomic"
)

// body is a response body whose end ends the stream: EOF, a read error or
// Close, whichever comes first, reports it once.
type body struct {
	rc  io.ReadCloser // x/net's
	s   *stream
	end atomic.Bool // the end was claimed
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		if err != io.EOF {
			err = b.s.wrapReadErr(err)
		}
		b.finish()
	}
	return n, err
}

// Close ends the stream; before EOF x/net resets it (RST_STREAM CANCEL) and
// returns its unread flow-control credit to the conn, so the conn stays
// usable: unlike HTTP/1, an early close costs nothing but the one stream.
func (b *body) Close() error {
	b.finish()
	return nil
}

// finish closes x/net's body, which waits until x/net has forgotten the
// stream (unless the request context is already done; done then settles),
// and reports the end.
func (b *body) finish() {
	if b.end.Swap(true) {
		return
	}
	b.rc.Close()
	b.s.done()
}
