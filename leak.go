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
// reported (DESIGN decision 4). The cleanup's argument is the conn, never
// the body; the conn's Owner leads back to the route. A pointer argument
// costs AddCleanup one allocation, a struct two.
func (st *state) track(b *body) {
	b.cleanup = runtime.AddCleanup(b, reclaim, b.c)
}

// reclaim runs on the runtime's one cleanup goroutine: the closing I/O
// (a TLS close_notify, waiting for a body writer) goes to its own.
func reclaim(c *h1.Conn) { go reclaimNow(c) }

func reclaimNow(c *h1.Conn) {
	r := routeOf(c)
	req := c.Reclaim()
	if req == nil {
		return // the exchange ended normally after all
	}
	r.st.endFlightOn(c)
	r.st.pool.Remove(r.key, c, pool.ReasonLeaked)
	r.st.pool.Count(r.key, countLeak)
	if ob, ok := c.Owner.(*exchObs); ok {
		r.st.bodyDone(ob, BodyLeaked, nil)
	}
	r.st.reportLeak(req.Method, req.URL)
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
