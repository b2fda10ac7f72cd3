package h2

import "net/http"

// Cancel fails the open stream that carries req on c with cause, as the
// end of its context would: RoundTrip returns cause (inside an *errs.Error)
// and the stream is reset. It reports whether such a stream was open. For
// the deprecated Transport.CancelRequest, a rare call: it scans the
// stream table rather than give every stream an index entry.
func (c *Conn) Cancel(req *http.Request, cause error) bool {
	c.mu.Lock()
	var s *stream
	for _, st := range c.streams {
		if st.req == req {
			s = st
			break
		}
	}
	c.mu.Unlock()
	if s == nil {
		return false
	}
	s.fail(cause, false)
	c.wakeWriters() // a body writer waiting for a window sees stop
	return true
}
