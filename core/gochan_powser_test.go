package core_test

// Port of powser1.go (see gochan_test.go).

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/stretchr/testify/require"
)

// TestGoChanPowser ports powser1.go, Doug McIlroy's power series: a series is
// a demand channel (a request channel and a data channel) along which flow
// rational coefficients, each operator a goroutine; split replicates a series
// for two consumers that read at different rates, which multiplication and
// the feedback loop of Exp need.
//
// Adapted:
//   - Unbuffered channels become capacity 1. The global seqno sent with each
//     request (written racily by every goroutine in the original) is an
//     atomic counter; the channel names used only for printing are dropped.
//   - getn's select over two requests and two replies becomes a goroutine per
//     input: get2 reads its second input in a helper goroutine while reading
//     the first itself, then joins on a channel.
//   - dosplit's chain of goroutine generations with selects over out[0].req,
//     out[1].req and a release channel is restructured: both outputs of a
//     split share one request channel whose requests say which output asks,
//     a server goroutine keeps the terms one output has and the other has not
//     seen yet, and a fetcher goroutine reads the input on the server's
//     behalf and posts each term on the same channel, so the server waits on
//     one channel only and can serve one output while the input is being
//     read for the other (Exp's feedback loop needs that).
//   - The checks are the original's (Ones, Diff, Integ, Cmul, Mul, Exp,
//     ATan). The original passes count 0 for Add(Ones, Ones), Add(Ones, Twos)
//     and Sub(Ones, Twos), so it only builds them; this port reads 5 terms
//     of each. The print mode and the operators no check uses (Recip, Subst,
//     Binom, Mon, Monmul, Xmul, Shift, eval, evaln, printn) are omitted.
//   - Operator goroutines stop when the test cancels the group.
//
// Channels: every series has one consumer at a time, except Ones and Twos,
// which every operator reads (their request channel has many senders, their
// data channel many receivers), and the shared request channel of a split
// (three senders). Those get flavor.WithMultiSend() or flavor.WithMultiRecv(); all
// other channels have the flavor of the subtest, so all four flavors run.
func TestGoChanPowser(t *testing.T) {
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			p := &gcPowser{t: t, g: gcStart(t), flavor: f}
			p.Init()
			p.check(p.Ones, p.one, 5, "Ones")
			p.check(p.Add(p.Ones, p.Ones), psItor(2), 5, "Add Ones Ones") // 2 2 2 2 2
			p.check(p.Add(p.Ones, p.Twos), psItor(3), 5, "Add Ones Twos") // 3 3 3 3 3
			a := make([]psRat, psN)
			d := p.Diff(p.Ones)
			for i := 0; i < psN; i++ {
				a[i] = psItor(int64(i + 1))
			}
			p.checka(d, a, "Diff") // 1 2 3 4 5
			in := p.Integ(p.zero, p.Ones)
			a[0] = p.zero // integration constant
			for i := 1; i < psN; i++ {
				a[i] = psI2tor(1, int64(i))
			}
			p.checka(in, a, "Integ")                                       // 0 1 1/2 1/3 1/4 1/5
			p.check(p.Cmul(p.one.neg(), p.Twos), psItor(-2), 10, "CMul")   // -2 -2 -2 -2 -2
			p.check(p.Sub(p.Ones, p.Twos), psItor(-1), 5, "Sub Ones Twos") // -1 -1 -1 -1 -1
			m := p.Mul(p.Ones, p.Ones)
			for i := 0; i < psN; i++ {
				a[i] = psItor(int64(i + 1))
			}
			p.checka(m, a, "Mul") // 1 2 3 4 5
			e := p.Exp(p.Ones)
			a[0] = psItor(1)
			a[1] = psItor(1)
			a[2] = psI2tor(3, 2)
			a[3] = psI2tor(13, 6)
			a[4] = psI2tor(73, 24)
			a[5] = psI2tor(167, 40)
			a[6] = psI2tor(4051, 720)
			a[7] = psI2tor(37633, 5040)
			a[8] = psI2tor(43817, 4480)
			a[9] = psI2tor(4596553, 362880)
			p.checka(e, a, "Exp") // 1 1 3/2 13/6 73/24
			at := p.Integ(p.zero, p.MonSubst(p.Ones, p.one.neg(), 2))
			for c, i := 1, 0; i < psN; i++ {
				if i%2 == 0 {
					a[i] = p.zero
				} else {
					a[i] = psI2tor(int64(c), int64(i))
					c *= -1
				}
			}
			p.checka(at, a, "ATan") // 0 1 0 -1/3 0 1/5
		})
	}
}

const psN = 10

// psRat is a rational number; a denominator of zero marks the end of a
// series.
type psRat struct {
	num, den int64 // numerator, denominator
}

func (u psRat) String() string {
	if u.den == 1 {
		return fmt.Sprint(u.num)
	}
	return fmt.Sprintf("%d/%d", u.num, u.den)
}

// end is the end test: 1 for the end mark, else 0.
func (u psRat) end() int64 {
	if u.den == 0 {
		return 1
	}
	return 0
}

// Integer gcd; needed for rational arithmetic.
func psGCD(u, v int64) int64 {
	if u < 0 {
		return psGCD(-u, v)
	}
	if u == 0 {
		return v
	}
	return psGCD(v%u, u)
}

// Make a rational from two ints and from one int.
func psI2tor(u, v int64) psRat {
	g := psGCD(u, v)
	var r psRat
	if v > 0 {
		r.num = u / g
		r.den = v / g
	} else {
		r.num = -u / g
		r.den = -v / g
	}
	return r
}

func psItor(u int64) psRat { return psI2tor(u, 1) }

// Operations on rationals.

func (u psRat) add(v psRat) psRat {
	g := psGCD(u.den, v.den)
	return psI2tor(u.num*(v.den/g)+v.num*(u.den/g), u.den*(v.den/g))
}

func (u psRat) mul(v psRat) psRat {
	g1 := psGCD(u.num, v.den)
	g2 := psGCD(u.den, v.num)
	var r psRat
	r.num = (u.num / g1) * (v.num / g2)
	r.den = (u.den / g2) * (v.den / g1)
	return r
}

func (u psRat) neg() psRat { return psI2tor(-u.num, u.den) }

// psReq is what flows on a request channel: the original sends seqno. The
// outputs of a split share one request channel, so a request also says which
// output asks (out), and the split's fetcher posts the terms it read on the
// same channel (fetched, dat).
type psReq struct {
	seq     int64
	out     int
	fetched bool
	dat     psRat
}

// psDch is a demand channel: a consumer sends a request on req and receives
// the term on dat. out is the index of a split's output, else 0.
type psDch struct {
	req core.Chan[psReq]
	dat core.Chan[psRat]
	out int
}

type gcPowser struct {
	t      *testing.T
	g      *gcGroup
	flavor chantest.Flavor
	seqno  atomic.Int64 // incremented by every get

	zero, one, finis psRat
	Ones, Twos       *psDch
}

// mkdch makes a demand channel. A shared one (Ones, Twos) has many consumers.
func (p *gcPowser) mkdch(shared bool) *psDch {
	reqf, datf := p.flavor, p.flavor
	if shared {
		reqf = reqf.WithMultiSend()
		datf = datf.WithMultiRecv()
	}
	return &psDch{req: chantest.New[psReq](reqf, 1), dat: chantest.New[psRat](datf, 1)}
}

// mkdch2 makes the two outputs of a split, sharing one request channel, to
// which both consumers and the split's fetcher send.
func (p *gcPowser) mkdch2() *[2]*psDch {
	req := chantest.New[psReq](p.flavor.WithMultiSend(), 1)
	return &[2]*psDch{
		{req: req, dat: chantest.New[psRat](p.flavor, 1), out: 0},
		{req: req, dat: chantest.New[psRat](p.flavor, 1), out: 1},
	}
}

func (p *gcPowser) mkPS() *psDch { return p.mkdch(false) }

// spawn is the go statement for an operator: it ends when a channel
// operation fails, normally because the test canceled the group.
func (p *gcPowser) spawn(name string, f func()) {
	p.g.Go(name, func() error {
		f()
		return nil
	})
}

// await is <-Z.req, send is Z.dat <- v.
func (p *gcPowser) await(Z *psDch)          { gcRecv(p.g, Z.req) }
func (p *gcPowser) send(Z *psDch, v psRat)  { gcSend(p.g, Z.dat, v) }
func (p *gcPowser) request(in *psDch) psReq { return psReq{seq: p.seqno.Add(1), out: in.out} }

func (p *gcPowser) put(dat psRat, out *psDch) {
	p.await(out)
	p.send(out, dat)
}

func (p *gcPowser) get(in *psDch) psRat {
	gcSend(p.g, in.req, p.request(in))
	return gcRecv(p.g, in.dat)
}

// tryGet is get for the test goroutine.
func (p *gcPowser) tryGet(in *psDch) (psRat, error) {
	if err := in.req.Send(p.g.ctx, p.request(in)); err != nil {
		return psRat{}, err
	}
	return in.dat.Recv(p.g.ctx)
}

// get2 gets one rat from each of 2 demand channels, concurrently, as getn's
// select does: in1 is read by a helper goroutine.
func (p *gcPowser) get2(in0, in1 *psDch) [2]psRat {
	res := chantest.New[psRat](p.flavor, 1)
	p.spawn("getn", func() { gcSend(p.g, res, p.get(in1)) })
	var out [2]psRat
	out[0] = p.get(in0)
	out[1] = gcRecv(p.g, res)
	return out
}

func (p *gcPowser) copy(in, out *psDch) {
	for {
		p.await(out)
		p.send(out, p.get(in))
	}
}

func (p *gcPowser) repeat(dat psRat, out *psDch) {
	for {
		p.put(dat, out)
	}
}

// split reads a single demand channel and replicates its output onto two,
// which may be read at different rates. See TestGoChanPowser for how it
// replaces the original's generations of dosplit.
func (p *gcPowser) split(in *psDch, out *[2]*psDch) {
	events := out[0].req // shared with out[1]
	fetch := chantest.New[struct{}](p.flavor, 1)
	p.spawn("split fetcher", func() {
		for {
			gcRecv(p.g, fetch)
			gcSend(p.g, events, psReq{fetched: true, dat: p.get(in)})
		}
	})
	p.spawn("split", func() {
		var pending [2][]psRat // terms read from in, not yet sent to out[k]
		var waiting [2]bool    // out[k] asked and was not served yet
		fetching := false      // the fetcher is reading in
		for {
			e := gcRecv(p.g, events)
			if e.fetched {
				fetching = false
				pending[0] = append(pending[0], e.dat)
				pending[1] = append(pending[1], e.dat)
			} else {
				waiting[e.out] = true
			}
			need := false
			for k := range out {
				switch {
				case !waiting[k]:
				case len(pending[k]) == 0:
					need = true
				default:
					p.send(out[k], pending[k][0])
					pending[k] = pending[k][1:]
					waiting[k] = false
				}
			}
			if need && !fetching {
				gcSend(p.g, fetch, struct{}{})
				fetching = true
			}
		}
	})
}

// Power-series constructors return channels on which power series flow. They
// start an encapsulated generator that puts the terms of the series on the
// channel.

// Split makes a pair of power series identical to a given power series.
func (p *gcPowser) Split(U *psDch) *[2]*psDch {
	UU := p.mkdch2()
	p.split(U, UU)
	return UU
}

// Add two power series.
func (p *gcPowser) Add(U, V *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Add", func() {
		for {
			p.await(Z)
			uv := p.get2(U, V)
			switch uv[0].end() + 2*uv[1].end() {
			case 0:
				p.send(Z, uv[0].add(uv[1]))
			case 1:
				p.send(Z, uv[1])
				p.copy(V, Z)
			case 2:
				p.send(Z, uv[0])
				p.copy(U, Z)
			case 3:
				p.send(Z, p.finis)
			}
		}
	})
	return Z
}

// Cmul multiplies a power series by a constant.
func (p *gcPowser) Cmul(c psRat, U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Cmul", func() {
		done := false
		for !done {
			p.await(Z)
			u := p.get(U)
			if u.end() != 0 {
				done = true
			} else {
				p.send(Z, c.mul(u))
			}
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Sub subtracts.
func (p *gcPowser) Sub(U, V *psDch) *psDch {
	return p.Add(U, p.Cmul(p.one.neg(), V))
}

// Rep is c, c, c, ...
func (p *gcPowser) Rep(c psRat) *psDch {
	Z := p.mkdch(true) // Ones and Twos are read by every operator
	p.spawn("Rep", func() { p.repeat(c, Z) })
	return Z
}

// Mul multiplies. The algorithm is
//
//	let U = u + x*UU
//	let V = v + x*VV
//	then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV
func (p *gcPowser) Mul(U, V *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Mul", func() {
		p.await(Z)
		uv := p.get2(U, V)
		if uv[0].end() != 0 || uv[1].end() != 0 {
			p.send(Z, p.finis)
		} else {
			p.send(Z, uv[0].mul(uv[1]))
			UU := p.Split(U)
			VV := p.Split(V)
			W := p.Add(p.Cmul(uv[0], VV[0]), p.Cmul(uv[1], UU[0]))
			p.await(Z)
			p.send(Z, p.get(W))
			p.copy(p.Add(W, p.Mul(UU[1], VV[1])), Z)
		}
	})
	return Z
}

// Diff differentiates.
func (p *gcPowser) Diff(U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Diff", func() {
		p.await(Z)
		u := p.get(U)
		if u.end() == 0 {
			done := false
			for i := 1; !done; i++ {
				u = p.get(U)
				if u.end() != 0 {
					done = true
				} else {
					p.send(Z, psItor(int64(i)).mul(u))
					p.await(Z)
				}
			}
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Integ integrates, with const of integration.
func (p *gcPowser) Integ(c psRat, U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Integ", func() {
		p.put(c, Z)
		done := false
		for i := 1; !done; i++ {
			p.await(Z)
			u := p.get(U)
			if u.end() != 0 {
				done = true
			}
			p.send(Z, psI2tor(1, int64(i)).mul(u))
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Exp is the exponential of a power series with constant term 0 (nonzero
// constant term would make nonrational coefficients); bug: the constant term
// is simply ignored.
//
//	Z = exp(U)
//	DZ = Z*DU
//	integrate to get Z
func (p *gcPowser) Exp(U *psDch) *psDch {
	ZZ := p.mkdch2()
	p.split(p.Integ(p.one, p.Mul(ZZ[0], p.Diff(U))), ZZ)
	return ZZ[1]
}

// MonSubst is monomial substitution: U(c x^n). Each Ui is multiplied by c^i
// and followed by n-1 zeros.
func (p *gcPowser) MonSubst(U *psDch, c0 psRat, n int) *psDch {
	Z := p.mkPS()
	p.spawn("MonSubst", func() {
		c := p.one
		for {
			p.await(Z)
			u := p.get(U)
			p.send(Z, u.mul(c))
			c = c.mul(c0)
			if u.end() != 0 {
				p.send(Z, p.finis)
				break
			}
			for i := 1; i < n; i++ {
				p.await(Z)
				p.send(Z, p.zero)
			}
		}
	})
	return Z
}

func (p *gcPowser) Init() {
	p.zero = psItor(0)
	p.one = psItor(1)
	p.finis = psI2tor(1, 0)
	p.Ones = p.Rep(p.one)
	p.Twos = p.Rep(psItor(2))
}

func (p *gcPowser) check(U *psDch, c psRat, count int, str string) {
	p.t.Helper()
	for i := 0; i < count; i++ {
		r, err := p.tryGet(U)
		require.NoError(p.t, err, "%s: term %d", str, i)
		require.Equal(p.t, c, r, "%s: term %d: got %v, should get %v", str, i, r, c)
	}
}

func (p *gcPowser) checka(U *psDch, a []psRat, str string) {
	p.t.Helper()
	for i := 0; i < psN; i++ {
		p.check(U, a[i], 1, fmt.Sprintf("%s[%d]", str, i))
	}
}
