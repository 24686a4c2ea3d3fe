// Command p4qos turns bandwidth and QoS policy into running P4 switch state.
//
// Exit status: 0 on success, 2 for invalid input (bad flags, files, policy,
// problems), 1 for internal or runtime failures. Never a Go stack trace.
//
// No input can make it die with a Go fatal error (out of memory, stack
// exhaustion): why, and what bounds each, is in internal/inputfile's doc.go.
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
