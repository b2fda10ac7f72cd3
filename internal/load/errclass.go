package load

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
)

// Error classes tallied in Result.ErrorClasses.
const (
	ClassTimeout = "timeout"
	ClassRefused = "refused"
	ClassReset   = "reset"
	ClassEOF     = "EOF"
	ClassOther   = "other"
)

// ErrorClass names the kind of a failed request's error, looking through
// wrapping with errors.Is and errors.As; error strings are never read.
func ErrorClass(err error) string {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ClassTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED):
		return ClassReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ClassEOF
	case errors.As(err, &timeout) && timeout.Timeout():
		return ClassTimeout
	}
	return ClassOther
}
