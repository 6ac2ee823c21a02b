package mutation

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// LineRange is a range of lines [Lo, Hi] of File (of every file if File is
// empty).
type LineRange struct {
	File   string
	Lo, Hi int
}

// ParseLines parses a comma-separated list of line ranges: LO-HI, a single
// line N, or either prefixed with FILE: (a path relative to the module
// root).
func ParseLines(s string) ([]LineRange, error) {
	var out []LineRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var r LineRange
		if i := strings.LastIndexByte(part, ':'); i >= 0 {
			r.File, part = part[:i], part[i+1:]
		}
		lo, hi, isRange := strings.Cut(part, "-")
		var err1, err2 error
		r.Lo, err1 = strconv.Atoi(lo)
		r.Hi = r.Lo
		if isRange {
			r.Hi, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || r.Lo < 1 || r.Hi < r.Lo {
			return nil, fmt.Errorf("bad line range %q: want LO-HI, N, FILE:LO-HI or FILE:N", part)
		}
		out = append(out, r)
	}
	return out, nil
}

// Selection picks the mutants a lane runs out of those Find returned.
type Selection struct {
	Lines  []LineRange // only mutants on these lines (none: every line)
	Max    int         // a sample of at most Max mutants (0: all)
	Seed   uint64      // the sample's seed
	Shard  int         // with Shards > 1, only the mutants i with i mod Shards == Shard
	Shards int
}

// Apply returns the selected mutants in source order (file, then offset):
// those on the lines, then a seeded sample of Max of them (the same seed
// and mutants give the same sample), then the shard's share of the sample.
func (s Selection) Apply(ms []Mutant) []Mutant {
	var out []Mutant
	for _, m := range ms {
		if s.onLines(m) {
			out = append(out, m)
		}
	}
	sortMutants(out)
	if s.Max > 0 && len(out) > s.Max {
		r := rand.New(rand.NewPCG(s.Seed, 0x6d7574616e74)) // "mutant"
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:s.Max]
		sortMutants(out)
	}
	if s.Shards > 1 {
		var mine []Mutant
		for i, m := range out {
			if i%s.Shards == s.Shard {
				mine = append(mine, m)
			}
		}
		out = mine
	}
	return out
}

func (s Selection) onLines(m Mutant) bool {
	if len(s.Lines) == 0 {
		return true
	}
	for _, r := range s.Lines {
		if (r.File == "" || r.File == m.File) && r.Lo <= m.Line && m.Line <= r.Hi {
			return true
		}
	}
	return false
}

func sortMutants(ms []Mutant) {
	slices.SortStableFunc(ms, func(a, b Mutant) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return slices.Index(Operators, a.Op) - slices.Index(Operators, b.Op)
	})
}
