package reportkit_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nimsync/nimsync/internal/reportkit"
)

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		metric string
		v      float64
		want   string
	}{
		{"items/s", 12.34e6, "12.3M/s"},
		{"items/s", 950, "950/s"},
		{"ops/s", 1.5e9, "1.5G/s"},
		{"ns/op", 59.6, "59.6 ns"},
		{"ns/task", 2100, "2.1 µs"},
		{"p99-ns", 8.7e6, "8.7 ms"},
		{"ns/op", 0.24, "0.24 ns"},
		{"B/channel", 384, "384 B"},
		{"B/op", 1536, "1.5 KiB"},
		{"bytes", 9.4e6, "8.96 MiB"},
		{"allocs/op", 2, "2 allocs/op"},
		{"s/run", 1.234, "1.23 s"},
		{"s/run", 0.85, "850 ms"},
		{"stack-B/task", 8192, "8 KiB"},
		{"MiB", 14.1, "14.1 MiB"},
		{"peak-heap-MiB", 0.75, "768 KiB"},
		{"tasks/s", 5e5, "500k/s"},
		{"p99.9-ns", 36.6e6, "36.6 ms"},
		{"goroutines", 4868, "4.87k goroutines"},
		{"ns/op", math.NaN(), "—"},
	} {
		assert.Equal(t, tc.want, reportkit.Value(tc.metric, tc.v), "%s %v", tc.metric, tc.v)
	}
}

func TestUnits(t *testing.T) {
	assert.Equal(t, "0 ns", reportkit.Nanos(0))
	assert.Equal(t, "1 s", reportkit.Nanos(1e9))
	assert.Equal(t, "-1.5 KiB", reportkit.Bytes(-1536))
	assert.Equal(t, "+12 B", reportkit.Signed(12, reportkit.Bytes))
	assert.Equal(t, "-3.4 KiB", reportkit.Signed(-3.4*1024, reportkit.Bytes))
	assert.Equal(t, "1.2k/s", reportkit.Rate(1200))
	assert.Equal(t, "0.0123", reportkit.Sig(0.0123))
	assert.Equal(t, "3.10×", reportkit.Ratio(3.1))
	assert.Equal(t, "124×", reportkit.Ratio(124.4))
	assert.Equal(t, "—", reportkit.Ratio(0))
	assert.Equal(t, "+12.3%", reportkit.Percent(1.123))
	assert.Equal(t, "—", reportkit.Percent(math.Inf(1)))
	assert.Equal(t, "1h2m3s", reportkit.Elapsed(3723.4))
	assert.Equal(t, "4.5s", reportkit.Elapsed(4.49))
	assert.Equal(t, "120ms", reportkit.Elapsed(0.1204))
	assert.True(t, reportkit.IsSize("stack-B/task"))
	assert.False(t, reportkit.IsSize("items/s"))
}
