// Why no input can make p4qos die with a Go fatal error (the reasoning
// behind this package and its callers): the Go runtime's
// fatal errors ("fatal error: out of memory", "goroutine stack exceeds
// 1000000000-byte limit", "concurrent map writes") cannot be recovered,
// print every goroutine's stack and exit with status 2, the status this
// command reserves for invalid input with a message. So they must not be
// reachable from input, and the recover in cmd/p4qos's run is no help.
// What makes them unreachable:
//
//   - Memory. Every input file is read through internal/inputfile: regular
//     files only (a device like /dev/zero never ends; a FIFO may never
//     open) and a cap per kind (policy and topology 2 MB, allocation
//     problem 2 MB in YAML and 32 MB in JSON, P4Info 4 MB, config 1 MB;
//     docs/policy.md "Input limits").
//     Behind the cap, memory is proportional to the input: error lists stop
//     at yamlerr.MaxErrors, decoding allocates nothing for values of the
//     wrong kind, and compile and allocate set a soft memory limit
//     (inputfile.LimitMemory) so the heap does not double past the live data.
//     The worst file at each cap keeps under 600 MB resident, and
//     tests/hostile runs every command on hostile files under a 2 GB
//     address-space limit. (Under such a limit a cgo build reserves a
//     64 MB malloc arena per thread besides the Go runtime's 1.2 GB, which
//     scales with GOMAXPROCS rather than with the input; tests/hostile
//     builds with CGO_ENABLED=0, which p4qos does not need.)
//   - Stack. Parsers recurse per nesting level. gopkg.in/yaml.v3 (policy,
//     topology, problem) and go.yaml.in/yaml/v3 (viper) stop at a depth of
//     10,000 ("exceeded max depth"), encoding/json and protobuf at 10,000;
//     our own walks over decoded values follow the same depth, and 10,000
//     frames are a few megabytes of the 1 GB stack limit. go-toml v2
//     (viper's TOML, for --config) has no limit: a 1 MB config of nested
//     arrays or of one dotted key recursed 500,000 levels and died, so
//     config files pass inputfile.CheckNesting (1,000 levels) first.
//   - Time. Quadratic work on input (pairwise overlap checks, error
//     positioning) is bounded or indexed, and long loops check the signal
//     context, so SIGINT/SIGTERM end a run promptly (status 1).
package inputfile
