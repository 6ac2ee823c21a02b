package mutation

import (
	_ "embed" // the default equivalents list
	"fmt"
	"strings"
)

// DefaultEquivalents is internal/mutation/equivalents.txt: the mutants of
// core known to be equivalent, each with the reason.
//
//go:embed equivalents.txt
var DefaultEquivalents string

// ParseEquivalents parses an equivalents list: one mutant a line, its key
// ([Mutant.Key]), a tab, and why no program can tell it from core. Blank
// lines and lines starting with # are comments. It returns the reasons by
// key.
func ParseEquivalents(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, why, ok := strings.Cut(line, "\t")
		key, why = strings.TrimSpace(key), strings.TrimSpace(why)
		if !ok || key == "" || why == "" {
			return nil, fmt.Errorf("equivalents line %d: want KEY<tab>REASON, got %q", i+1, line)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("equivalents line %d: %s listed twice", i+1, key)
		}
		out[key] = why
	}
	return out, nil
}
