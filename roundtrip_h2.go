package spool

import (
	"errors"
	"net/http"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
)

// tryH2 runs one attempt on an HTTP/2 conn. The adapter hands the stream's
// slot back to the pool itself (OnStreamDone), so only the bridge is left.
func (st *state) tryH2(req *http.Request, c *h2.Conn, o *h1.Options) (*http.Response, error, bool) {
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
	st.decode(resp, o.AcceptEncoding != "")
	return resp, nil, false
}
