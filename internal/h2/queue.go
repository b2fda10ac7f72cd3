package h2

import (
	"golang.org/x/net/http2"
)

// Frames queued outside a stream's HEADERS/DATA path. reader=true: the
// reader goroutine queues it (it never flushes itself, and a peer that
// floods frames needing answers without reading them fails the conn).

func (c *Conn) queueRST(id uint32, code http2.ErrCode, reader bool) error {
	_, err := c.queueRSTMark(id, code, reader)
	return err
}

// queueRSTMark is queueRST that also returns the write queue mark after
// the frame (see writeQueue.waitFor).
func (c *Conn) queueRSTMark(id uint32, code http2.ErrCode, reader bool) (uint64, error) {
	c.ctr.resets.Add(1)
	q := &c.wq
	q.mu.Lock()
	if err := c.backlogLocked(reader); err != nil {
		return 0, err
	}
	q.buf = appendRST(q.buf, id, code)
	mark := q.markLocked()
	q.flushLocked(reader)
	return mark, nil
}

func (c *Conn) queueWindowUpdate(id uint32, inc uint32, reader bool) error {
	q := &c.wq
	q.mu.Lock()
	if err := c.backlogLocked(reader); err != nil {
		return err
	}
	q.buf = appendWindowUpdate(q.buf, id, inc)
	q.flushLocked(reader)
	return nil
}

func (c *Conn) queuePing(ack bool, data [8]byte, reader bool) error {
	q := &c.wq
	q.mu.Lock()
	if err := c.backlogLocked(reader); err != nil {
		return err
	}
	q.buf = appendPing(q.buf, ack, data)
	q.flushLocked(reader)
	return nil
}

// backlogLocked checks, with wq.mu held, that a frame may be queued; on
// error it has released wq.mu. A failed queue is no error here: the conn
// is going and the frame would not matter.
func (c *Conn) backlogLocked(reader bool) error {
	q := &c.wq
	if err := q.err; err != nil {
		q.mu.Unlock()
		return err
	}
	if reader && len(q.buf)+q.inflight > maxControlBacklog { // the write in progress counts: it is not taken either
		q.mu.Unlock()
		return connError(http2.ErrCodeEnhanceYourCalm, errControlBacklog.Error())
	}
	return nil
}
