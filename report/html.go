package report

import (
	"bytes"
	"fmt"
	"html/template"
)

// renderHTML renders report.html: the summary of report.md as HTML tables
// followed by the plots as inline SVG, with its style sheet inline, so the
// page needs nothing but itself. Safe for concurrent use.
func renderHTML(r *Report) ([]byte, error) {
	figs, err := figures(r)
	if err != nil {
		return nil, err
	}
	type shownFigure struct {
		Caption string
		SVG     template.HTML
	}
	page := struct {
		Tool    string
		Title   string
		S       summary
		Thru    []shownFigure
		Latency []shownFigure
		Runtime []shownFigure
	}{Tool: r.Tool, S: summarize(r)}
	if page.Tool == "" {
		page.Tool = "nimsync"
	}
	page.Title = page.Tool + " soak report: " + page.S.Verdict

	for _, f := range figs {
		svg, err := svgOf(f.Chart)
		if err != nil {
			return nil, fmt.Errorf("report: plot %s: %w", f.Name, err)
		}
		// The SVG comes from gonum/plot, whose SVG canvas escapes every
		// text it draws (html.EscapeString), so it is trusted markup.
		sf := shownFigure{f.Caption, template.HTML(svg)}
		switch {
		case f.Name == "throughput":
			page.Thru = append(page.Thru, sf)
		case f.Name == "goroutines" || f.Name == "heap":
			page.Runtime = append(page.Runtime, sf)
		default:
			page.Latency = append(page.Latency, sf)
		}
	}

	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("report: render %s: %w", HTMLFile, err)
	}
	return b.Bytes(), nil
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { margin-bottom: .2em; }
.verdict { display: inline-block; padding: .3em .8em; border-radius: .3em; font-weight: bold; color: #fff; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f3f3f3; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fdecea; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
.muted { color: #777; }
</style>
</head>
<body>
<h1>{{.Tool}} soak report</h1>
{{if .S.Passed}}<p><span class="verdict pass">PASS</span> {{.S.PassText}}</p>
{{else}}<p><span class="verdict fail">FAIL</span> {{range $i, $r := .S.Reasons}}{{if $i}}; {{end}}{{$r}}{{end}}.</p>
{{end}}
<table>
{{range .S.Facts}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>

<h2>Scenarios</h2>
{{if .S.Rows}}<p class="muted">Latency percentiles are over every sample of every run.</p>
<table>
<tr><th>scenario</th><th>runs</th><th>failures</th><th>ops</th><th>ops/s</th><th>P50</th><th>P95</th><th>P99</th><th>P99.9</th><th>max</th></tr>
{{range .S.Rows}}<tr{{if .Failed}} class="bad"{{end}}><td>{{.Name}}</td><td class="n">{{.Runs}}</td><td class="n">{{.Failures}}</td><td class="n">{{.Ops}}</td><td class="n">{{.OpsPerSec}}</td><td class="n">{{.P50}}</td><td class="n">{{.P95}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td><td class="n">{{.Max}}</td></tr>
{{end}}</table>
{{else}}<p>No scenario ran.</p>
{{end}}
{{if .S.Strategies}}<h2>Strategies</h2>
<p class="muted">A swarm: each run drew its strategy from its seed (free: free-running under its fault plan; random, pct:D: serialized).</p>
<table>
<tr><th>strategy</th><th>runs</th><th>failures</th><th>time</th><th>time/run</th><th>found</th></tr>
{{range .S.Strategies}}<tr{{if .Failed}} class="bad"{{end}}><td>{{.Name}}</td><td class="n">{{.Runs}}</td><td class="n">{{.Failures}}</td><td class="n">{{.Seconds}}</td><td class="n">{{.PerRun}}</td><td>{{.Found}}</td></tr>
{{end}}</table>
{{end}}
<h2>Leak check: <span class="verdict {{if .S.Leak.OK}}pass{{else}}fail{{end}}">{{.S.Leak.Verdict}}</span></h2>
<p class="muted">Least-squares slope of samples taken between runs, after a GC ({{.S.Leak.Samples}} samples).</p>
<table>
<tr><th></th><th>slope</th><th>tolerance</th><th></th></tr>
{{range .S.Leak.Rows}}<tr{{if .Over}} class="bad"{{end}}><th>{{.Metric}}</th><td class="n">{{.Slope}}</td><td class="n">{{.Tolerance}}</td><td>{{.Mark}}</td></tr>
{{end}}</table>
{{with .S.Leak.Note}}<p>Note: {{.}}</p>{{end}}

<h2>Failures ({{len .S.Fails}})</h2>
{{range $f := .S.Fails}}<h3>{{$f.N}}. {{$f.Scenario}}: {{$f.Kind}}</h3>
<table>
<tr><th>seed</th><td><code>{{$f.Seed}}</code></td></tr>
{{with $f.Strategy}}<tr><th>strategy</th><td><code>{{.}}</code></td></tr>
{{end}}
{{- with $f.Shard}}<tr><th>shard</th><td><code>{{.}}</code></td></tr>
{{end}}
<tr><th>artifact</th><td>{{if $f.Artifact}}<a href="{{$f.Artifact}}"><code>{{$f.Artifact}}</code></a>{{else}}—{{end}}</td></tr>
<tr><th>repro</th><td>{{if $f.Repro}}<code>{{$f.Repro}}</code>{{else}}—{{end}}</td></tr>
</table>
<pre>{{$f.Error}}</pre>
{{else}}<p>None.</p>
{{end}}
<h2>Throughput</h2>
{{range .Thru}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p class="muted">No throughput samples.</p>
{{end}}
<h2>Latency</h2>
{{range .Latency}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p class="muted">No latency samples.</p>
{{end}}
<h2>Runtime</h2>
{{range .Runtime}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p class="muted">No runtime samples.</p>
{{end}}
<p class="muted">The data is in report.json beside this page.</p>
</body>
</html>
`))
