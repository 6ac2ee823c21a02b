package soak

import (
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exported returns the names of the metrics the nimsync command exports
// (NewRegistry: the soak's, the Go runtime's and the process's), from their
// descriptors, with the series names of histograms and summaries
// (_bucket, _sum, _count).
func exported(t *testing.T) map[string]bool {
	t.Helper()
	reg, m := NewRegistry()
	got := map[string]bool{}
	// Vectors have no series until used: their names come from their
	// descriptors.
	descs := make(chan *prometheus.Desc)
	go func() {
		for _, c := range []prometheus.Collector{m.runs, m.strategies, m.failures, m.ops, m.opsRate, m.latency, m.running} {
			c.Describe(descs)
		}
		close(descs)
	}()
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		m := name.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		got[m[1]] = true
	}
	mfs, err := reg.Gather() // every other metric, the Go and process collectors' too
	require.NoError(t, err)
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for n := range got {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			got[n+suffix] = true
		}
	}
	return got
}

// metricsOf returns the metric names an expression selects.
func metricsOf(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	require.NoError(t, err, expr)
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// TestAlertRulesLoad: deploy/prometheus's rules load with Prometheus's own
// rule parser, and every metric they query is one the soak exports.
func TestAlertRulesLoad(t *testing.T) {
	data, err := os.ReadFile("../deploy/prometheus/nimsync-alerts.yml")
	require.NoError(t, err)
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	have := exported(t)
	var alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			names := metricsOf(t, r.Expr)
			require.NotEmpty(t, names, r.Alert)
			for _, n := range names {
				assert.True(t, have[n], "alert %s queries %s, which the soak does not export", r.Alert, n)
			}
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
		}
	}
	// A soak that failed, a night that did not run, a regression.
	for _, want := range []string{"NimsyncSoakFoundFailure", "NimsyncNightlyDidNotPass", "NimsyncLatencyRegressed", "NimsyncThroughputRegressed"} {
		assert.Contains(t, alerts, want)
	}
}

// TestDashboardQueriesExist: every query of deploy/grafana's dashboard
// parses as PromQL (Grafana's variables replaced) and names only metrics
// the soak exports; its scenario variable lists a metric's scenarios.
func TestDashboardQueriesExist(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/nimsync-soak.json")
	require.NoError(t, err)
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(data, &d))
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Panels)
	have := exported(t)
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$scenario", ".*")
	var queried []string
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			for _, n := range metricsOf(t, grafana.Replace(tg.Expr)) {
				assert.True(t, have[n], "panel %q queries %s, which the soak does not export", p.Title, n)
				queried = append(queried, n)
			}
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		if v.Definition == "" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		require.NotNil(t, m, "variable %s: %s", v.Name, v.Definition)
		assert.True(t, have[m[1]], "variable %s lists values of %s, which the soak does not export", v.Name, m[1])
	}
	// The dashboard shows the soak's own metrics, not only the runtime's.
	for _, want := range []string{"nimsync_soak_ops_total", "nimsync_soak_latency_seconds_bucket", "nimsync_soak_failures_total", "nimsync_soak_last_success_timestamp_seconds", "nimsync_build_info"} {
		assert.True(t, slices.Contains(queried, want), "the dashboard shows %s", want)
	}
}
