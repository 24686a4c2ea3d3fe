package compiler

import (
	"errors"
	"fmt"
	"io"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/topo"
)

// ErrBothStdin is LoadInputs' answer when both inputs are standard input.
var ErrBothStdin = errors.New("-p and -t cannot both be - (standard input): give one of them as a file")

// LoadInputs reads the topology and the policy; either path may be
// inputfile.Stdin ("-": read from stdin, named <stdin> in messages), not
// both. The positioned problems of both come back in one yamlerr.List, so
// that one run lists them all; any other error (a missing file) alone.
func LoadInputs(policyPath, topoPath string, stdin io.Reader) (*Policy, *topo.Topology, error) {
	if policyPath == inputfile.Stdin && topoPath == inputfile.Stdin {
		return nil, nil, ErrBothStdin
	}
	var all yamlerr.List
	tp, err := parseArg(topoPath, "topology", inputfile.Topology, stdin, topo.Parse)
	if err != nil {
		if !errors.As(err, new(yamlerr.List)) {
			return nil, nil, err
		}
		all.Append(err)
	}
	pol, err := parseArg(policyPath, "policy", inputfile.Policy, stdin, ParsePolicy)
	if err != nil {
		if !errors.As(err, new(yamlerr.List)) {
			return nil, nil, err
		}
		all.Append(err)
	}
	if err := all.Err(); err != nil {
		return nil, nil, err
	}
	return pol, tp, nil
}

func parseArg[T any](path, what string, k inputfile.Kind, stdin io.Reader, parse func(string, []byte) (T, error)) (T, error) {
	data, err := inputfile.ReadArg(path, stdin, k)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %w", what, err)
	}
	if path == inputfile.Stdin {
		path = "<stdin>"
	}
	return parse(path, data)
}
