package spool

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spoolhttp/spool/internal/pool"
)

// Limits of the debug page.
const (
	// waitLogSize is how many recent waits for a conn are kept to pick the
	// slowest from: enough to span a burst, small enough to copy per
	// refresh.
	waitLogSize = 256
	// slowWaitsShown is how many of them the page shows.
	slowWaitsShown = 20
	// maxDebugRows bounds the HTML host table (the JSON has all of Stats,
	// itself bounded): a browser redrawing thousands of rows every second
	// helps nobody; the busiest hosts come first.
	maxDebugRows = 100
)

// DebugHandler returns a handler serving a live page of tr's pool, in the
// manner of net/http/pprof: totals, a table per host (active, idle,
// dialing, waiting, dials, reuses, closes by reason, leaked bodies,
// HTTP/2 conns and streams) and the slowest recent waits for a conn. The
// page refreshes itself every second from the same URL with
// ?format=json, which serves a DebugSnapshot. It needs no Observer, uses
// no external script or style, and calling it more than once for the same
// Transport is fine. It counts as tr's first use (tr's fields must be set
// before). Mount it where only operators reach it:
//
//	mux.Handle("/debug/spool", spool.DebugHandler(tr))
func DebugHandler(tr *Transport) http.Handler {
	st := tr.state()
	st.waits.CompareAndSwap(nil, &waitLog{})
	return &debugHandler{tr: tr, log: st.waits.Load()}
}

// DebugSnapshot is the JSON that DebugHandler serves for ?format=json:
// Stats' fields ("total", "hosts", see Stats) with the time of the
// snapshot and the slowest recent waits, slowest first. The names are
// stable.
type DebugSnapshot struct {
	Time time.Time `json:"time"`
	Stats
	SlowWaits []SlowWait `json:"slow_waits"`
}

// SlowWait is a request that waited for a conn (for a dial or for a conn
// to be freed), as GotConnEvent reports it.
type SlowWait struct {
	At     time.Time     `json:"at"`   // when it got its conn
	Host   string        `json:"host"` // the pool key
	Wait   time.Duration `json:"wait_ns"`
	Conn   uint64        `json:"conn"`   // the conn it got (see GotConnEvent.Conn)
	Reused bool          `json:"reused"` // the conn had served before (freed by another request)
}

// waitLog is a ring of the last waitLogSize waits. It exists once
// DebugHandler was called; a request that got a conn without waiting
// never touches it.
type waitLog struct {
	mu   sync.Mutex
	ring [waitLogSize]SlowWait // guarded by mu
	n    int                   // guarded by mu; entries filled
	next int                   // guarded by mu; where the next one goes
}

func (l *waitLog) add(w SlowWait) {
	l.mu.Lock()
	l.ring[l.next] = w
	l.next = (l.next + 1) % waitLogSize
	l.n = min(l.n+1, waitLogSize)
	l.mu.Unlock()
}

// slowest returns the k slowest waits kept, slowest first.
func (l *waitLog) slowest(k int) []SlowWait {
	l.mu.Lock()
	ws := slices.Clone(l.ring[:l.n])
	l.mu.Unlock()
	slices.SortFunc(ws, func(a, b SlowWait) int { return int(b.Wait - a.Wait) })
	return ws[:min(k, len(ws))]
}

// noteWait feeds the debug page's slowest waits from what GotConn
// reports; nothing unless DebugHandler was called.
func (st *state) noteWait(r *route, info pool.GetInfo) {
	if l := st.waits.Load(); l != nil {
		l.add(SlowWait{At: time.Now(), Host: string(r.key), Wait: info.Waited, Conn: info.Conn, Reused: info.Reused})
	}
}

type debugHandler struct {
	tr  *Transport
	log *waitLog
}

func (h *debugHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap := DebugSnapshot{Time: time.Now(), Stats: h.tr.Stats(), SlowWaits: h.log.slowest(slowWaitsShown)}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(snap)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := debugPage.Execute(w, newDebugView(snap)); err != nil {
		return // the client went away mid-page; nothing to tell it
	}
}

// debugView is what the page's template renders; the script renders the
// same from the JSON.
type debugView struct {
	Snap    DebugSnapshot
	Rows    []debugRow
	More    int // hosts not shown
	Waits   []SlowWait
	MaxRows int // for the script
}

type debugRow struct {
	Key string
	S   HostStats
}

func newDebugView(s DebugSnapshot) debugView {
	v := debugView{Snap: s, Waits: s.SlowWaits, MaxRows: maxDebugRows}
	for k, h := range s.Hosts {
		v.Rows = append(v.Rows, debugRow{k, h})
	}
	slices.SortFunc(v.Rows, func(a, b debugRow) int {
		if d := live(b.S) - live(a.S); d != 0 {
			return d
		}
		if a.S.Requests != b.S.Requests {
			return int(b.S.Requests - a.S.Requests)
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(v.Rows) > maxDebugRows {
		v.More = len(v.Rows) - maxDebugRows
		v.Rows = v.Rows[:maxDebugRows]
	}
	return v
}

// live is how much is going on at a host now: the page's sort order.
func live(h HostStats) int { return h.Active + h.Idle + h.Dialing + h.Waiting }

// closesText is the closes column: the non-zero reasons in CloseCounts'
// order, "reason n" joined by ", ", or "-". The page's script writes the
// same.
func closesText(c CloseCounts) string {
	var parts []string
	for i, n := range []int64{c.IdleTimeout, c.Evicted, c.ServerClosed, c.Broken, c.Lifetime, c.MaxRequests, c.Leaked, c.EarlyClose, c.NotReusable} {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", CloseReason(i), n))
		}
	}
	if parts == nil {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// ms formats a duration as the page does: milliseconds, one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func avgWait(h HostStats) string {
	if h.WaitCount == 0 {
		return "-"
	}
	return ms(h.WaitDuration / time.Duration(h.WaitCount))
}

//go:embed debug.html
var debugHTML string

var debugPage = template.Must(template.New("debug").Funcs(template.FuncMap{
	"closes": closesText,
	"ms":     ms,
	"avg":    avgWait,
	"clock":  func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
	"live":   live,
}).Parse(debugHTML))
