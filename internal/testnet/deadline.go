package testnet

import (
	"sync"
	"time"
)

// deadline is one read or write deadline of a Conn. Its cancel channel is
// closed when the deadline passes, so a blocked Read can select on it next
// to the data channel. The timer is a time.AfterFunc, which inside a
// synctest bubble fires at the exact fake instant.
//
// The channel is kept (not replaced) when a deadline is moved before it
// fires, so a Read already waiting on it sees the new deadline.
type deadline struct {
	mu     sync.Mutex
	at     time.Time     // guarded by mu; zero for none
	timer  *time.Timer   // guarded by mu; nil when no deadline is pending
	cancel chan struct{} // guarded by mu; closed once the deadline has passed
}

func newDeadline() *deadline { return &deadline{cancel: make(chan struct{})} }

// set moves the deadline to t; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the callback is running: wait for it to close cancel
	}
	d.timer = nil
	d.at = t
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		cancel := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(cancel) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// wait returns the channel that is closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

// expired also compares the clock: at the deadline instant the timer's
// callback may not have run yet, and an operation then must still fail.
func (d *deadline) expired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return isClosed(d.cancel) || (!d.at.IsZero() && !time.Now().Before(d.at))
}

// stop drops a pending timer so a closed conn leaves nothing scheduled.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
