package main

import (
	"strconv"
	"strings"
	"time"
)

// dateSeed parses the date forms of a seed: "date" is now's UTC date and
// "date:YYYY-MM-DD" the date given, each as the integer YYYYMMDD
// (20261207), the seed scripts/nightly and the Kubernetes night use. ok is
// false for anything else.
func dateSeed(v string, now time.Time) (seed uint64, ok bool) {
	day := now.UTC()
	switch {
	case v == "date":
	case strings.HasPrefix(v, "date:"):
		d, err := time.Parse(time.DateOnly, strings.TrimPrefix(v, "date:"))
		if err != nil {
			return 0, false
		}
		day = d
	default:
		return 0, false
	}
	return seedOfDate(day), true
}

// seedOfDate is t's calendar date (in t's location) as the integer
// YYYYMMDD.
func seedOfDate(t time.Time) uint64 {
	n, _ := strconv.ParseUint(t.Format("20060102"), 10, 64) // eight digits: always parses
	return n
}
