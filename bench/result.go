package bench

import (
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// SchemaVersion is the version of the bench report.json schema. Version 2
// split the rows by placement (Row.Place, Report.Placement): a version 1
// row mixed the rounds of both placements, and is not comparable.
const SchemaVersion = 2

// Report is the result of one `nimsync bench`.
type Report struct {
	Schema  int       `json:"schema"`
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Quick   bool      `json:"quick"`
	Rounds  int       `json:"rounds"`
	// Placement is how the rounds were classed near or far; nil when
	// no round trip was measured (GOMAXPROCS 1).
	Placement *Placement `json:"placement,omitempty"`
	Rows      []Row      `json:"rows"`
}

// Machine is where the report was measured: reportkit's description (its
// fields are promoted, and stand at the top level of the JSON object) and
// the cache-line round trip.
type Machine struct {
	reportkit.Machine
	// LineRTTNs is the measured round trip of a cache line between two
	// goroutines, at the start of the run: on a VM whose vCPUs the host
	// places near or far apart, it tells where they were then (the rows
	// are classed round by round: Row.Place).
	LineRTTNs float64 `json:"line_rtt_ns"`
}

// Row is one case's result.
type Row struct {
	Group  string `json:"group"`
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Higher bool   `json:"higher_is_better"`
	Procs  int    `json:"procs,omitempty"`
	// Place is the placement of the vCPUs in the rounds of this row
	// (PlaceNear, PlaceFar, PlaceMixed, PlaceUnknown; "" when not
	// measured): a case gives one row per placement it was measured at.
	Place string `json:"place,omitempty"`
	// LineRTTNs are the cache-line round trips of the row's rounds, in
	// round order: the lesser of those measured before and after the
	// round (0 when neither was).
	LineRTTNs []float64 `json:"line_rtt_ns,omitempty"`
	// Impls[0] is nimsync; Impls[1], if any, the primary peer. Their
	// samples are those of the row's rounds.
	Impls []Result `json:"impls"`
	// Ratios are nimsync's advantage over the primary peer, one per
	// round (paired within the round), oriented so that > 1 means nimsync
	// is better: peer/ours for lower-is-better metrics, ours/peer
	// otherwise. Empty when the case has no peer.
	Ratios []float64 `json:"ratios,omitempty"`
	// Ratio is the median of Ratios (0 without a peer).
	Ratio float64 `json:"ratio,omitempty"`
	// Claim is the seed report's claim, if any, and ClaimMet whether
	// nimsync's median meets it.
	Claim    *Claim `json:"claim,omitempty"`
	ClaimMet *bool  `json:"claim_met,omitempty"`
}

// Result is one implementation's samples (one per round) and their
// median.
type Result struct {
	Name    string    `json:"name"`
	Median  float64   `json:"median"`
	Samples []float64 `json:"samples"`
}
