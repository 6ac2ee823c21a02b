package main

// Flag parsing shared by the commands: one-line errors that say what a flag
// wants, range checks that name their flag, and --chaos, which means the
// same in every command.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// parse parses args with fs, letting positional arguments and flags mix
// (`run SCENARIO --seed 3`), and returns the positional ones. A flag error
// is a usage error of one line (the flag, what it got, what it wants) and
// the flag list is not printed; --help prints the flags and returns
// flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	help := fs.Usage
	fs.Usage = func() {} // an error prints no flag list; --help calls help below
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = help }()
	args = joinChaos(fs, args)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stderr)
				help()
				return nil, err
			}
			return nil, flagError(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

var (
	// The flag package's error texts (flag.FlagSet.failf), stable since
	// Go 1.0.
	reInvalid  = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-(\S+): (.*)$`)
	reUndef    = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	reNeedsArg = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError turns an error of fs.Parse into one line: `bad --duration
// "soon": want a duration such as 30s or 1h30m` (main adds where the help
// is).
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if m := reInvalid.FindStringSubmatch(msg); m != nil {
		val, name, why := m[1], m[2], m[3]
		if f := fs.Lookup(name); f != nil {
			if want := wants(f.Value); want != "" {
				why = want
			}
		}
		return usagef("bad --%s %q: %s", name, val, why)
	}
	if m := reUndef.FindStringSubmatch(msg); m != nil {
		return usagef("unknown flag --%s", m[1])
	}
	if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		return usagef("flag --%s needs a value", m[1])
	}
	return usageError{msg}
}

// wants says what a flag of v's kind takes, "" when the Value's own error
// says it (seedFlag, chaosFlag).
func wants(v flag.Value) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration such as 30s or 1h30m"
	case int, int64:
		return "want an integer"
	case uint, uint64:
		return "want a non-negative integer"
	case float64:
		return "want a number such as 0.1"
	case bool:
		return "want true or false (or the flag alone)"
	}
	return ""
}

// check is one range check of a flag's value: ok, or bad --name: want.
type check struct {
	ok   bool
	name string
	val  any
	want string
}

// checkFlags returns a usage error naming the first flag whose check
// failed: "bad --stall 0s: want a positive duration".
func checkFlags(checks ...check) error {
	for _, c := range checks {
		if !c.ok {
			return usagef("bad --%s %v: %s", c.name, c.val, c.want)
		}
	}
	return nil
}

// chaosFlag is --chaos in every command: "swarm" (a fault plan per run,
// from its seed) or "off"; the flag alone means swarm, and true and false
// are accepted for swarm and off.
type chaosFlag struct{ on bool }

func (c *chaosFlag) String() string {
	if c != nil && c.on {
		return "swarm"
	}
	return "off"
}

func (c *chaosFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "swarm", "true", "on":
		c.on = true
	case "off", "false":
		c.on = false
	default:
		return fmt.Errorf("want swarm or off")
	}
	return nil
}

// IsBoolFlag lets --chaos stand alone (flag.boolFlag).
func (c *chaosFlag) IsBoolFlag() bool { return true }

// joinChaos rewrites "--chaos off" as "--chaos=off" (and so for swarm, on,
// true, false): a flag that may stand alone takes no separate value in the
// flag package, and `--chaos off` would leave "off" as an argument.
func joinChaos(fs *flag.FlagSet, args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if f := fs.Lookup(name); f != nil && strings.HasPrefix(a, "-") && i+1 < len(args) {
			if _, ok := f.Value.(*chaosFlag); ok {
				switch strings.ToLower(args[i+1]) {
				case "swarm", "off", "on", "true", "false":
					out = append(out, a+"="+args[i+1])
					i++
					continue
				}
			}
		}
		out = append(out, a)
	}
	return out
}
