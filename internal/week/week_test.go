package week_test

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/week"
)

func TestReported(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// Monday 2026-11-23 08:00 New York: last week is 11-16 .. 11-23 there.
	s, err := week.Reported("America/New_York", "", time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC))
	if err != nil || !s.From.Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, ny)) || !s.To.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, ny)) {
		t.Errorf("Reported = %v..%v, %v", s.From, s.To, err)
	}
	// Sunday late in UTC is still the current week.
	s, _ = week.Reported("", "", time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC))
	if !s.From.Equal(time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Reported(Sunday) from %v", s.From)
	}
	// A given Monday is that week, in the time zone.
	s, err = week.Reported("Europe/Berlin", "2026-11-16", time.Now())
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if err != nil || !s.From.Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, berlin)) || !s.To.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, berlin)) {
		t.Errorf("Reported(2026-11-16) = %v..%v, %v", s.From, s.To, err)
	}
	if _, err := week.Reported("", "2026-11-17", time.Now()); err == nil {
		t.Error("a Tuesday accepted as a week")
	}
	if _, err := week.Reported("Mars/Olympus", "", time.Now()); err == nil {
		t.Error("an unknown time zone accepted")
	}
}
