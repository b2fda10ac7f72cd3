package h2

// Flow control (RFC 9113 §5.2, §6.9).
//
// Receive side: a stream's window bounds what is buffered for it, so a
// slow reader of one stream holds at most its window and never stalls the
// others. Stream credit goes back (WINDOW_UPDATE) as the body is read, at
// half a window; connection credit goes back as DATA arrives, at half the
// conn window, since the stream windows already bound the memory (gRPC-go
// does the same). The windows grow from BDP estimates (bdp.go).
//
// Send side: a request body takes min(stream window, conn window, peer's
// max frame) per DATA frame and waits on Conn.cond when either is empty.
const (
	// initialWindow is every window's size before SETTINGS (§6.9.2).
	initialWindow = 65535
	// defaultStreamWindow is the stream receive window we advertise: large
	// enough that a download over a fast path is not held back before the
	// BDP estimate grows it.
	defaultStreamWindow = 1 << 20
	// defaultConnWindow is the conn receive window.
	defaultConnWindow = 4 << 20
	// maxAdaptiveWindow is where BDP growth stops (hyper's 16 MiB).
	maxAdaptiveWindow = 16 << 20
	// maxWindow is the largest legal window (§6.9.1).
	maxWindow = 1<<31 - 1
	// initialHeaderTable is the HPACK dynamic table size we allow the peer
	// (SETTINGS_HEADER_TABLE_SIZE default, §6.5.2).
	initialHeaderTable = 4096
)

// creditLocked records n bytes of a stream consumed by the body's reader
// and returns the WINDOW_UPDATE increment due now, or 0. No update once the
// peer ended the stream: it sends nothing more.
func (s *stream) creditLocked(n int) uint32 {
	if s.recvEnded {
		return 0
	}
	s.unacked += int32(n)
	if s.unacked < s.window/2 {
		return 0
	}
	inc := s.unacked
	s.unacked = 0
	s.recvAvail += inc
	return uint32(inc)
}
