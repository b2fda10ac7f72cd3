package pool

// maxQuietKeys bounds the records kept for keys with no conns, dials or
// waiters: Stats.Hosts shows every live key and this many of the most
// recently quiet ones. A quiet record costs about 500 bytes.
const maxQuietKeys = 1024

// quietList is an intrusive list of quiet records, front = most recently
// quiet. Guarded by Pool.mu.
type quietList[C Conn] struct {
	front, back *record[C]
	n           int
}

func (l *quietList[C]) pushFront(r *record[C]) {
	r.prev, r.next = nil, l.front
	if l.front != nil {
		l.front.prev = r
	} else {
		l.back = r
	}
	l.front = r
	l.n++
}

// remove unlinks r; a record not on the list is left alone.
func (l *quietList[C]) remove(r *record[C]) {
	if r.prev == nil && l.front != r {
		return
	}
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		l.front = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		l.back = r.prev
	}
	r.prev, r.next = nil, nil
	l.n--
}
