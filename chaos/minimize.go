package chaos

import "github.com/nimsync/nimsync/core"

// Minimize shrinks a failing plan: it drops the plan's markers (planted
// bugs included) and its tuned knobs (which then keep core's defaults) one
// at a time, keeping each removal after which the failure still shows,
// until no single marker or knob can go. Knobs tuned to their defaults go
// first, without a run. fails runs the code under test with a plan and
// reports whether it failed; since Go's scheduler is not seeded, a removal
// is kept if any of tries attempts fails. The result is 1-minimal: every
// marker and tuned knob left is needed (as far as tries attempts can
// tell). Minimize returns the plan unchanged if it does not fail in tries
// attempts to begin with, and reports how many runs it made.
func Minimize(p Plan, tries int, fails func(Plan) bool) (Plan, int) {
	runs := 0
	failsOnce := func(q Plan) bool {
		for range max(tries, 1) {
			runs++
			if fails(q) {
				return true
			}
		}
		return false
	}
	if !failsOnce(p) {
		return p, runs
	}
	p = p.clone()
	defaults := map[string]int{}
	for _, k := range core.Knobs() {
		defaults[k.Name] = k.Default
	}
	for name, v := range p.Tuning {
		if d, ok := defaults[name]; ok && v == d {
			delete(p.Tuning, name) // the same plan
		}
	}
	for changed := true; changed; {
		changed = false
		for _, section := range []*map[string]Action{&p.Points, &p.Bugs} {
			for _, name := range sortedKeys(*section) {
				q := p.clone()
				delete(*q.section(section == &p.Bugs), name)
				if failsOnce(q) {
					p, changed = q, true
				}
			}
		}
		for _, name := range sortedKeys(p.Tuning) {
			q := p.clone()
			delete(q.Tuning, name)
			if failsOnce(q) {
				p, changed = q, true
			}
		}
	}
	return p, runs
}

func (p Plan) clone() Plan {
	q := p
	q.Points = cloneMap(p.Points)
	q.Bugs = cloneMap(p.Bugs)
	q.Consts = cloneMap(p.Consts)
	q.Tuning = cloneMap(p.Tuning)
	return q
}

func (p *Plan) section(bugs bool) *map[string]Action {
	if bugs {
		return &p.Bugs
	}
	return &p.Points
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
