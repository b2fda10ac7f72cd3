package pool

// Intrusive doubly linked lists over entries, so that moving a conn between
// idle and in-use allocates nothing (container/list allocates per element).

// Link slots: an entry is on at most one host list (idle or shared) and, when
// idle, on the pool's LRU.
const (
	hostSlot = iota // host.idle or host.shared
	lruSlot         // Pool.lru
	numSlots
)

type link[C Conn] struct{ prev, next *entry[C] }

// list is a doubly linked list threaded through entry.links[slot].
// Guarded by the owner's lock (Pool.mu).
type list[C Conn] struct {
	front, back *entry[C]
	n           int
	slot        uint8
}

func (l *list[C]) pushFront(e *entry[C]) {
	lk := &e.links[l.slot]
	lk.prev, lk.next = nil, l.front
	if l.front != nil {
		l.front.links[l.slot].prev = e
	} else {
		l.back = e
	}
	l.front = e
	l.n++
}

func (l *list[C]) remove(e *entry[C]) {
	lk := &e.links[l.slot]
	if lk.prev != nil {
		lk.prev.links[l.slot].next = lk.next
	} else {
		l.front = lk.next
	}
	if lk.next != nil {
		lk.next.links[l.slot].prev = lk.prev
	} else {
		l.back = lk.prev
	}
	lk.prev, lk.next = nil, nil
	l.n--
}

// prev returns the entry before e (towards the front), for walking back to front.
func (l *list[C]) prev(e *entry[C]) *entry[C] { return e.links[l.slot].prev }
