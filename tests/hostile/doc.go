// Package hostile runs every p4qos command that reads a file on generated
// hostile inputs and checks that p4qos never dies on input (issue #19).
//
// TestHostileInputs builds the CLI (CGO_ENABLED=0: under an address-space
// limit a cgo build reserves a 64 MB malloc arena per thread, so its
// headroom depends on GOMAXPROCS rather than on the input), generates
// inputs for each input slot (compile -p, -t, --p4info, --config; allocate
// -f, from a file and from standard input; sim --flows): truncated,
// oversized, at the size cap, densely packed at the cap, deeply nested,
// null-laden, NaN/Inf, huge numbers, wrong types, alias bombs, binary
// garbage, long values, and randomly mutated copies of the valid examples,
// plus FIFOs, devices, directories, missing files and long paths. Each run
// gets a 2,000,000 KB address-space limit (ulimit -v 2000000) and a
// timeout. It asserts that no output contains a Go stack trace or "fatal
// error:", that the exit status is 0, 1 or 2, that 1 and 2 come with a
// message, and that stderr stays small; and logs the counts per command
// and exit status.
//
// The default corpus keeps the test near a minute on a small machine;
// P4QOS_HOSTILE_N=50 makes 50 random mutations per slot instead of 3.
// Linux only (FIFOs, /dev/zero, ulimit -v).
package hostile
