// Command p4qos turns bandwidth and QoS policy into running P4 switch state.
//
// Exit status: 0 on success, 2 for invalid input (bad flags, files, policy,
// problems), 1 for internal or runtime failures. Never a Go stack trace.
//
// Why no input can make p4qos die with a Go fatal error: the Go runtime's
// fatal errors ("fatal error: out of memory", "goroutine stack exceeds
// 1000000000-byte limit", "concurrent map writes") cannot be recovered,
// print every goroutine's stack and exit with status 2, the status this
// command reserves for invalid input with a message. So they must not be
// reachable from input, and the recover in run is no help. What makes them
// unreachable:
//
//   - Memory. Every input file is read through internal/inputfile: regular
//     files only (a device like /dev/zero never ends; a FIFO may never
//     open) and a cap per kind (policy, topology and allocation problem
//     2 MB, P4Info 4 MB, config 1 MB; docs/policy.md "Input limits").
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
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI with the given arguments and streams; it returns the
// process exit status. Tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels ctx; a second one kills the process the
	// default way, should anything not watch ctx.
	context.AfterFunc(ctx, stop)
	defer func() {
		// A panic is a bug, but the user still deserves a clear line and the
		// documented exit status rather than a stack trace.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "p4qos: internal error: %v (please report this)\n", r)
			code = 1
		}
	}()
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "p4qos: interrupted")
		return 1
	}
	fmt.Fprintf(stderr, "p4qos: %v\n", err)
	return exitCode(err)
}

// invalidInputError marks an error caused by the user's input (exit 2).
type invalidInputError struct{ err error }

func (e *invalidInputError) Error() string { return e.err.Error() }
func (e *invalidInputError) Unwrap() error { return e.err }

// invalidInput wraps err so that the process exits with status 2.
func invalidInput(err error) error {
	if err == nil {
		return nil
	}
	return &invalidInputError{err: err}
}

// invalidInputf is invalidInput(fmt.Errorf(format, args...)).
func invalidInputf(format string, args ...any) error {
	return invalidInput(fmt.Errorf(format, args...))
}

func exitCode(err error) int {
	var inv *invalidInputError
	var coded interface{ ExitCode() int } // inspect's errors (diff exits 1 or 3)
	switch {
	case errors.As(err, &inv):
		return 2
	case errors.As(err, &coded):
		return coded.ExitCode()
	}
	return 1
}
