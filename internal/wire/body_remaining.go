package wire

// Remaining is the number of body bytes still expected for a Length body
// (the early-Close drain uses it to skip a drain that cannot fit its
// bound); -1 when unknown (chunked, until close).
func (r *BodyReader) Remaining() int64 {
	if r.kind == Length {
		return r.n
	}
	if r.kind == NoBody {
		return 0
	}
	return -1
}
