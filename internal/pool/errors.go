package pool

import (
	"errors"

	"github.com/spoolhttp/spool/internal/errs"
)

// Sentinels; match with errors.Is. Get returns the first two wrapped in
// *errs.Error{Op: errs.OpPoolWait}.
var (
	// ErrWaitQueueFull: MaxWaitPerHost callers already wait for the key.
	ErrWaitQueueFull = errors.New("spool: too many callers waiting for a connection")
	// ErrPoolClosed: the pool was closed.
	ErrPoolClosed = errors.New("spool: connection pool closed")
	// ErrServerClosed may be wrapped by a conn's Err to say the server closed
	// the idle conn; it is counted ReasonServerClosed rather than ReasonBroken.
	ErrServerClosed = errors.New("spool: server closed idle connection")
)

func waitErr(err error) error {
	return &errs.Error{Op: errs.OpPoolWait, Err: err}
}

// reasonFor classifies a conn's Err.
func reasonFor(err error) CloseReason {
	if errors.Is(err, ErrServerClosed) {
		return ReasonServerClosed
	}
	return ReasonBroken
}
