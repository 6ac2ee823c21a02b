package chaos

// Minimize shrinks a failing plan: it drops the plan's markers (planted
// bugs included) one at a time, keeping each removal after which the
// failure still shows, until no single marker can go. fails runs the code
// under test with a plan and reports whether it failed; since Go's
// scheduler is not seeded, a removal is kept if any of tries attempts
// fails. The result is 1-minimal: every marker left is needed (as far as
// tries attempts can tell). Minimize returns the plan unchanged if it does
// not fail in tries attempts to begin with, and reports how many runs it
// made.
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
	}
	return p, runs
}

func (p Plan) clone() Plan {
	q := p
	q.Points = cloneMap(p.Points)
	q.Bugs = cloneMap(p.Bugs)
	q.Consts = cloneMap(p.Consts)
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
