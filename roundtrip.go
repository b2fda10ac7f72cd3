package spool

import (
	"errors"
	"net/http"
)

type state struct{}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, errors.New("spool: not implemented yet")
}

// Stats returns a snapshot of the pool.
func (t *Transport) Stats() Stats { return Stats{} }

// CloseIdleConnections closes idle connections.
func (t *Transport) CloseIdleConnections() {}
