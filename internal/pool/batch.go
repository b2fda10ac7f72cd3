package pool

import "time"

// Events receives the pool's events: after Pool.mu is released, on the
// goroutine that caused them (a Get, a Put, a dial's goroutine, the idle
// timer). Each is recorded where the pool counts it in HostStats, so Stats
// and the events agree; Dialed is emitted as the dial ends, before its
// conn is tracked, so it comes before every other event of that conn. c is the conn (a Conn of the pool's type); key is
// its key. Config.Events nil records nothing.
type Events interface {
	// Dialed: a dial ended; err nil: conn c, numbered id, is tracked (and
	// counts as active until an Idle says otherwise). d is the dial's time.
	Dialed(key Key, c Conn, id uint64, d time.Duration, err error)
	// Closed: a conn left the pool (closed, or Detach: ReasonDetached).
	Closed(key Key, c Conn, ev CloseEvent)
	// Idle: conn id went idle (idle=true) or was taken from idle.
	Idle(key Key, c Conn, id uint64, idle bool)
}

// CloseEvent describes a conn leaving the pool.
type CloseEvent struct {
	ID       uint64
	Reason   CloseReason
	Idle     bool          // it was idle
	Lifetime time.Duration // since it was tracked
	Uses     int           // checkouts it served
}

type eventKind uint8

const (
	evClosed eventKind = iota
	evIdle
)

// event is one recorded event, emitted when its batch is flushed.
type event struct {
	kind  eventKind
	idle  bool
	key   Key
	c     Conn
	close CloseEvent // evClosed; its ID is the conn's for every kind
}

// closeBatch collects conns to close and events to emit once Pool.mu is
// released, without allocating for the usual handful.
type closeBatch[C Conn] struct {
	small [4]C
	n     int
	more  []C

	ev     Events // nil: no events recorded
	evs    [2]event
	nev    int
	evMore []event
}

func (b *closeBatch[C]) add(c C) {
	if b.n < len(b.small) {
		b.small[b.n] = c
		b.n++
		return
	}
	b.more = append(b.more, c)
}

// conns lists the batch's conns (for tests).
func (b *closeBatch[C]) conns() []C { return append(b.small[:b.n:b.n], b.more...) }

// record keeps ev for close; nothing when events are off.
func (b *closeBatch[C]) record(ev event) {
	if b.nev < len(b.evs) {
		b.evs[b.nev] = ev
		b.nev++
		return
	}
	b.evMore = append(b.evMore, ev)
}

// close closes the batch's conns, then emits its events in order.
func (b *closeBatch[C]) close() {
	for i := 0; i < b.n; i++ {
		b.small[i].Close()
	}
	for _, c := range b.more {
		c.Close()
	}
	if b.ev == nil {
		return
	}
	for i := 0; i < b.nev; i++ {
		b.emit(&b.evs[i])
	}
	for i := range b.evMore {
		b.emit(&b.evMore[i])
	}
}

func (b *closeBatch[C]) emit(e *event) {
	switch e.kind {
	case evClosed:
		b.ev.Closed(e.key, e.c, e.close)
	case evIdle:
		b.ev.Idle(e.key, e.c, e.close.ID, e.idle)
	}
}

// batch returns an empty batch, recording events if the pool has Events.
func (p *Pool[C]) batch() closeBatch[C] { return closeBatch[C]{ev: p.cfg.Events} }

// closedLocked counts e's close under why (unless it is ReasonDetached)
// and records the event: the one place a conn's end is booked.
func (p *Pool[C]) closedLocked(e *entry[C], why CloseReason, wasIdle bool, b *closeBatch[C]) {
	if why < NumReasons {
		e.h.rec.s.Closes[why]++
	}
	if b.ev != nil {
		b.record(event{kind: evClosed, key: e.h.key, c: e.c, close: CloseEvent{
			ID: e.id, Reason: why, Idle: wasIdle, Lifetime: time.Since(e.created), Uses: e.uses,
		}})
	}
}

// idleLocked records e going idle or being taken from idle.
func (p *Pool[C]) idleLocked(e *entry[C], idle bool, b *closeBatch[C]) {
	if b.ev != nil {
		b.record(event{kind: evIdle, key: e.h.key, c: e.c, idle: idle, close: CloseEvent{ID: e.id}})
	}
}
