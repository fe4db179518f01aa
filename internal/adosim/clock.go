package adosim

import "time"

// Clock returns the current time. The Org reads time only through it, so it can run under a
// virtual clock.
type Clock interface {
	Now() time.Time
}

// RealClock is wall-clock time in UTC.
type RealClock struct{}

// Now returns time.Now in UTC.
func (RealClock) Now() time.Time { return time.Now().UTC() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }
