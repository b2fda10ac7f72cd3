package spool

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
)

// tryH2 runs one attempt on an HTTP/2 conn. The adapter hands the stream's
// slot back to the pool itself (OnStreamDone), so only the bridge is left.
func (st *state) tryH2(req *http.Request, key pool.Key, c *h2.Conn, o *h1.Options) (*http.Response, error, bool) {
	out := req
	if o.AcceptEncoding != "" {
		// x/net writes the request's headers as they are: add ours to a copy.
		r2 := *req
		r2.Header = req.Header.Clone()
		r2.Header.Set("Accept-Encoding", o.AcceptEncoding)
		out = &r2
	}
	resp, err := c.RoundTrip(out)
	if err != nil {
		var nr *errs.NoResponseError
		retry := o.Reused && errors.As(err, &nr) && notSent(req, err)
		return nil, err, retry
	}
	resp.Request = req
	resp = st.trackH2(resp, key)
	st.decode(resp, o.AcceptEncoding != "")
	return resp, nil, false
}

// h2Body is an HTTP/2 response body as the caller holds it. A dropped one
// is reclaimed like an HTTP/1 body: its stream is reset (the conn lives on)
// and the leak counted. The caller gets a copy of x/net's Response: x/net
// keeps a pointer into its own (for trailers), which would otherwise keep
// a dropped body reachable forever.
type h2Body struct {
	rc      io.ReadCloser  // the adapter's body; ends the stream
	orig    *http.Response // x/net's, receives the trailers
	user    *http.Response // the caller's copy
	cleanup runtime.Cleanup
}

func (st *state) trackH2(resp *http.Response, key pool.Key) *http.Response {
	if resp.Body == nil || resp.Body == http.NoBody {
		return resp
	}
	user := *resp
	b := &h2Body{rc: resp.Body, orig: resp, user: &user}
	user.Body = b
	b.cleanup = runtime.AddCleanup(b, reclaimH2, h2Leak{st: st, key: key, rc: resp.Body, method: resp.Request.Method, url: resp.Request.URL})
	return &user
}

func (b *h2Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.cleanup.Stop()
		if err == io.EOF && b.user.Trailer == nil {
			b.user.Trailer = b.orig.Trailer
		}
	}
	return n, err
}

func (b *h2Body) Close() error {
	b.cleanup.Stop()
	return b.rc.Close()
}

type h2Leak struct {
	st     *state
	key    pool.Key
	rc     io.ReadCloser
	method string
	url    *url.URL
}

func reclaimH2(l h2Leak) {
	l.rc.Close() // resets the stream; the adapter hands its slot back
	l.st.pool.Count(l.key, countLeak)
	l.st.reportLeak(l.method, l.url)
}
