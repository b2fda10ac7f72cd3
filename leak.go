package spool

import (
	"log/slog"
	"net/http"
	"net/url"
	"runtime"

	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/pool"
)

// A response body that is never closed and becomes unreachable would pin
// its connection forever in net/http. Here a runtime cleanup reclaims it:
// the conn is closed, its pool slot freed, the leak counted in Stats and
// reported (DESIGN decision 4). The cleanup holds the conn, never the body.
type leak struct {
	st     *state
	r      *route
	c      *h1.Conn
	gen    uint64
	method string
	url    *url.URL
}

func (st *state) track(b *body, req *http.Request) {
	b.cleanup = runtime.AddCleanup(b, reclaim, leak{st: st, r: b.r, c: b.c, gen: b.gen, method: req.Method, url: req.URL})
}

func reclaim(l leak) {
	if !l.c.Reclaim(l.gen) {
		return // the exchange ended normally after all
	}
	l.st.pool.Remove(l.r.key, l.c, pool.ReasonLeaked)
	l.st.pool.Count(l.r.key, countLeak)
	l.st.reportLeak(l.method, l.url)
}

// reportLeak calls OnLeakedBody, or logs a warning naming the request.
func (st *state) reportLeak(method string, u *url.URL) {
	if method == "" {
		method = http.MethodGet
	}
	if h := st.t.OnLeakedBody; h != nil {
		h(method, u.Redacted())
		return
	}
	slog.Warn("spool: response body was not closed; it was reclaimed after GC (close resp.Body)",
		"method", method, "url", u.Redacted())
}

func countLeak(h *pool.HostStats) { h.LeakedBodies++ }
