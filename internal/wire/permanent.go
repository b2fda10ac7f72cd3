package wire

// Permanent marks protocol violations as never worth retrying: the same
// server will send the same bytes again (retry middleware checks this).
func (e *ProtocolError) Permanent() bool { return true }

// Permanent: a head over the limit will be over it again.
func (e *HeaderLimitError) Permanent() bool { return true }
