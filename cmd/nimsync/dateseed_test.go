package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateSeed(t *testing.T) {
	// 23:30 on Dec 7 in UTC-5 is Dec 8 in UTC: the seed follows UTC.
	now := time.Date(2026, 12, 7, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"date", 20261208, true},
		{"date:2026-01-31", 20260131, true},
		{"date:2026-02-30", 0, false},
		{"date:", 0, false},
		{"dates", 0, false},
		{"20261207", 0, false}, // integers are seedFlag's own
	} {
		got, ok := dateSeed(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestSeedFlagDate(t *testing.T) {
	var s seedFlag
	require.NoError(t, s.Set("date:2025-03-04"))
	require.True(t, s.set)
	require.Equal(t, uint64(20250304), s.orClock())
	before := seedOfDate(time.Now().UTC())
	require.NoError(t, s.Set("date"))
	after := seedOfDate(time.Now().UTC())
	require.Contains(t, []uint64{before, after}, s.v, "today's UTC date")
	require.NoError(t, s.Set("42"))
	require.Equal(t, uint64(42), s.v)
	err := s.Set("date:yesterday")
	require.ErrorContains(t, err, `malformed seed "date:yesterday"`)
	require.ErrorContains(t, err, "date:YYYY-MM-DD")
}
