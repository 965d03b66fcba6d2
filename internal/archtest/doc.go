// Package archtest holds tests of the import graph: the data side of districtlake (what a
// Job and a local run execute) imports no Kubernetes package, so that it builds, tests
// and runs without one. It has no code of its own.
package archtest
