// Package perf holds whole-process benchmarks: the p4qos binary run as a
// user runs it, measured beside a reference floor in the same run (see
// docs/performance.md). It has benchmarks only; `make bench` runs them.
package perf
