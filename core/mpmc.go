package core

// MPMC is a bounded channel for any number of concurrent senders and
// receivers; Close, Len and Cap may be called from any goroutine. It is
// Vyukov's bounded queue (ring.go): senders and receivers each claim slots
// with one CAS, and a slot's sequence number hands it over between them. A
// send or a receive costs two atomic writes and allocates nothing; when
// several goroutines of one side run at once, they contend on one index.
//
// Create it with [NewMPMC]; the zero value is not usable. An MPMC must not be
// copied after first use.
type MPMC[T any] struct{ ring[T] }

// NewMPMC returns an MPMC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewMPMC[T any](capacity int) *MPMC[T] {
	c := new(MPMC[T])
	c.init("NewMPMC", capacity)
	return c
}
