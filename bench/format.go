package bench

import (
	"fmt"
	"strings"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// Figures are written in internal/reportkit's human units ("12.3M/s",
// "59.6 ns", "384 B", "3.10×"), the same in report.md, the README table,
// the plot axes and the soak's report.

// caseLabel names a row in tables: its name and placement
// ("…/place=near"), with the GOMAXPROCS it ran with when set and the name
// does not say it ("procs=N").
func caseLabel(r *Row) string {
	name := r.Name + placeLabel(r.Place)
	if r.Procs != 0 && !strings.Contains(r.Name, "procs=") {
		return fmt.Sprintf("%s, GOMAXPROCS=%d", name, r.Procs)
	}
	return name
}

// Line describes m on one line: "AMD EPYC 7B13, 2 cores, GOMAXPROCS 2,
// go1.26.8 linux/amd64, cache-line round trip 100 ns".
func (m Machine) Line() string {
	line := m.Machine.Line()
	if m.LineRTTNs > 0 {
		line += ", cache-line round trip " + reportkit.Nanos(m.LineRTTNs)
	}
	return line
}
