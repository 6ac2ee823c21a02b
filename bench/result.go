package bench

import (
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// SchemaVersion is the version of the bench report.json schema.
const SchemaVersion = 1

// Report is the result of one `nimsync bench`.
type Report struct {
	Schema  int       `json:"schema"`
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Quick   bool      `json:"quick"`
	Rounds  int       `json:"rounds"`
	Rows    []Row     `json:"rows"`
}

// Machine is where the report was measured: reportkit's description (its
// fields are promoted, and stand at the top level of the JSON object) and
// the cache-line round trip.
type Machine struct {
	reportkit.Machine
	// LineRTTNs is the measured round trip of a cache line between two
	// goroutines, at the start of the run: on a VM whose vCPUs the host
	// places near or far apart, it tells which machine the numbers come
	// from.
	LineRTTNs float64 `json:"line_rtt_ns"`
}

// Row is one case's result.
type Row struct {
	Group  string `json:"group"`
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Higher bool   `json:"higher_is_better"`
	Procs  int    `json:"procs,omitempty"`
	// Impls[0] is nimsync; Impls[1], if any, the primary peer.
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
