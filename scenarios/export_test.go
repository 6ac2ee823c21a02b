package scenarios

// CheckStream runs the exactly-once and order checkers of the channel
// scenarios over what one receiver got, as (sender, seq) pairs, from
// senders senders that sent values [0, sent) each, and returns their
// verdict: nil or a *Violation of a scenario called "test".
func CheckStream(senders, sent int, got [][2]int) error {
	f := newFaults("test")
	l := newLedger(f, senders, sent)
	cur := l.cursor("receiver 0")
	for _, v := range got {
		cur.take(v[0], v[1])
	}
	l.verify(all(sent))
	return f.err()
}
