//go:build !unix

package lakelock

import "context"

// Dir is the folder of a lake's lock files.
const Dir = ".locks"

// Lake is a run's hold on a file lake; without flock(2) it locks nothing and sweeps nothing.
type Lake struct {
	// Swept is how many left-over temporary files were removed when the run started.
	Swept int
}

// Open does nothing on this system.
func Open(context.Context, string, string) (*Lake, error) { return &Lake{}, nil }

// Close does nothing.
func (l *Lake) Close() error { return nil }

// District does nothing on this system.
func (l *Lake) District(context.Context, string, string) (func(), error) { return func() {}, nil }
