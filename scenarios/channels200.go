package scenarios

import (
	"context"
	"fmt"

	"github.com/nimsync/nimsync/internal/chantest"
)

// channels200 runs 200 to 250 channels (at scale 1) at once under heavy
// load: each of a seed-chosen flavor and capacity, with as many senders (1
// to 3) and receivers (1 to 3) as its flavor allows, about 1M values in all
// per round, two rounds.
//
// Invariants: every value of every sender of every channel is received
// exactly once ("no loss", "no duplicate"), and each receiver sees each
// sender's values in the order sent ("per-sender order").
func channels200(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "channels-200", cfg)
	r := rng(cfg.Seed)
	total := cfg.scaled(1<<20, 4000)
	for round := range 2 {
		if err := ctx.Err(); err != nil {
			return err
		}
		nch := cfg.scaled(200, 16)
		nch += r.IntN(nch/4 + 1)
		flows := make([]flow, nch)
		sources := 0
		for i := range flows {
			f := drawFlavor(r)
			senders, receivers := 1, 1
			if f.MultiSend() {
				senders = 1 + r.IntN(3)
			}
			if f.MultiRecv() {
				receivers = 1 + r.IntN(3)
			}
			capacity := drawCap(r)
			flows[i] = flow{
				label: fmt.Sprintf("round %d, channel %d (%v, %d senders, %d receivers, cap %d)", round, i, f.Type(), senders, receivers, capacity),
				c:     chantest.New[item](f, capacity), senders: senders, receivers: receivers, src0: sources,
			}
			sources += senders
		}
		per := max(total/sources, 1)
		l := newLedger(e.f, sources, per)
		var c crew
		for _, fl := range flows {
			fl.per = per
			e.start(&c, fl, l, r)
		}
		e.join(&c)
		l.verify(l.sentBy) // flow.go, invariant 5
		if err := e.f.err(); err != nil {
			return err
		}
	}
	return nil
}
