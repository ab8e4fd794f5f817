package sla

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
)

// Every holiday code the policy loader accepts must build a calendar, or a
// policy that passes `policy check` would fail in the worker.
func TestEveryPolicyHolidayCodeBuildsACalendar(t *testing.T) {
	for _, code := range policy.HolidayCalendars {
		bh := policy.BusinessHours{Days: []time.Weekday{time.Monday}, Start: 9 * 60, End: 17 * 60, Holidays: code}
		if _, err := NewCalendar(bh, time.UTC); err != nil {
			t.Errorf("holidays %s: %v", code, err)
		}
	}
}
