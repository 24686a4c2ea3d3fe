// Package inputfile reads the files p4qos takes as input (policies,
// topologies, P4Infos, allocation problems, configs) with a size cap per
// kind, and only from regular files or standard input.
//
// Why: os.ReadFile on an arbitrary path is not safe input handling. A
// device such as /dev/zero or /dev/urandom never ends, so the read grows
// until the Go runtime dies with "fatal error: out of memory", which
// cannot be recovered and exits with status 2 (the status p4qos reserves
// for invalid input, with a message). Opening a FIFO blocks until a writer
// appears, possibly forever. And the parsers' memory grows with the input
// (a YAML node tree costs about a hundred times its text), so even a
// regular file needs a cap for memory use to stay bounded. Read turns all
// of these into an ordinary error that names the file.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Kind is one kind of input file; it sets the size cap and names the kind
// in messages ("the limit for a policy is 2 MB").
type Kind int

// The kinds of input and their caps (Kind.Limit). The caps are far above
// real inputs (the example policy is 4 KB, the pipeline's P4Info 5 KB) and
// keep the worst case of each parser well inside 2 GB of address space;
// docs/policy.md ("Input limits") lists them with the measured cost of a
// file at the cap.
const (
	// Policy is a policy file (docs/policy.md): 2 MB.
	Policy Kind = iota
	// Topology is a topology file (docs/topology.md): 2 MB.
	Topology
	// P4Info is a P4Info in text, binary or JSON form: 4 MB.
	P4Info
	// Problem is an allocation problem for p4qos allocate: 32 MB, for JSON
	// (the allocator reads YAML only up to 2 MB: YAMLProblemLimit).
	Problem
	// Config is a p4qos config file (compile --config, run -c): 1 MB.
	Config
	// BMv2JSON is a BMv2 pipeline JSON from p4c-bm2-ss: 16 MB.
	BMv2JSON
	// Flows is a flow file for the embedded switch (sim --flows): 2 MB.
	Flows
	// TofinoOutput is one of bf-p4c's outputs the controller pushes
	// (tofino.bin, context.json, bf-rt.json): 64 MB. Large programs' context
	// files run to tens of MB; they are not parsed, only sent.
	TofinoOutput
)

// MB is the unit limits are written and reported in (decimal, like every
// size p4qos prints).
const MB = 1000 * 1000

var kinds = [...]struct {
	name, article string
	limit         int64
}{
	Policy:       {"policy", "a", 2 * MB},
	Topology:     {"topology", "a", 2 * MB},
	P4Info:       {"P4Info", "a", 4 * MB},
	Problem:      {"allocation problem", "an", 32 * MB},
	Config:       {"config file", "a", 1 * MB},
	BMv2JSON:     {"BMv2 JSON file", "a", 16 * MB},
	Flows:        {"flow file", "a", 2 * MB},
	TofinoOutput: {"Tofino compiler output", "a", 64 * MB},
}

// String names the kind ("policy", "allocation problem").
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kinds) {
		return "input"
	}
	return kinds[k].name
}

func (k Kind) article() string {
	if k < 0 || int(k) >= len(kinds) {
		return "an"
	}
	return kinds[k].article
}

// Limit is the largest file of this kind Read accepts, in bytes.
func (k Kind) Limit() int64 {
	if k < 0 || int(k) >= len(kinds) {
		return 1 * MB
	}
	return kinds[k].limit
}

// ErrTooLarge is wrapped by the error for a file above its kind's limit.
var ErrTooLarge = errors.New("input too large")

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (a directory, FIFO, device or socket).
var ErrNotRegular = errors.New("not a regular file")

// Stdin is the path that ReadArg reads from standard input.
const Stdin = "-"

// Read returns the contents of the regular file at path, at most
// k.Limit() bytes. Directories, FIFOs, devices and sockets are refused
// without reading (a FIFO is opened non-blocking, so Read never waits for a
// writer); a file above the limit is refused with its size, and a file
// that grows past the limit while being read is cut off and refused too.
// Every error names path (cut short if it is long: yamlerr.Path).
func Read(path string, k Kind) ([]byte, error) {
	// Stat before opening: opening a device can have effects of its own
	// (a tape rewinds, a watchdog starts), so such paths are never opened.
	name := yamlerr.Path(path) // the path is input too: never echoed in full
	fi, err := os.Stat(path)
	if err != nil {
		return nil, pathError(name, err)
	}
	if err := checkRegular(name, fi, k); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, pathError(name, err)
	}
	defer f.Close()
	// Again on what was opened: the path may have been replaced since.
	if fi, err = f.Stat(); err != nil {
		return nil, pathError(name, err)
	}
	if err := checkRegular(name, fi, k); err != nil {
		return nil, err
	}
	// Size the buffer from the file so that reading does not double it;
	// files under /proc report 0 and grow the buffer as they are read.
	return readCapped(f, name, fi.Size(), k)
}

// pathError is "NAME: no such file or directory", keeping the cause for
// errors.Is (fs.ErrNotExist, fs.ErrPermission) but not the full path that
// *fs.PathError would print.
func pathError(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", name, err)
}

func checkRegular(name string, fi fs.FileInfo, k Kind) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s; the %s must be a regular file: %w", name, describeMode(fi.Mode()), k, ErrNotRegular)
	}
	if size := fi.Size(); size > k.Limit() {
		return tooLarge(name, size, k)
	}
	return nil
}

// ReadFrom reads r (standard input, a pipe) up to k.Limit() bytes; name is
// used in errors ("<stdin>").
// A reader that knows its length (bytes.Reader, strings.Reader) is read
// into a buffer of that size, with no growing copies.
func ReadFrom(r io.Reader, name string, k Kind) ([]byte, error) {
	var hint int64
	if l, ok := r.(interface{ Len() int }); ok {
		hint = int64(l.Len())
	}
	return readCapped(r, yamlerr.Path(name), hint, k)
}

// ReadArg reads path, or stdin when path is "-" (for commands that accept
// "-f -").
func ReadArg(path string, stdin io.Reader, k Kind) ([]byte, error) {
	if path == Stdin {
		if stdin == nil {
			return nil, fmt.Errorf("%s: no standard input", path)
		}
		return ReadFrom(stdin, "<stdin>", k)
	}
	return Read(path, k)
}

// readCapped reads r to its end or to one byte past k's limit (which tells
// a file at the limit from one above it). sizeHint sizes the buffer, so a
// file whose size is known is read without reallocation.
func readCapped(r io.Reader, name string, sizeHint int64, k Kind) ([]byte, error) {
	limit := k.Limit()
	buf := make([]byte, 0, max(min(sizeHint, limit)+1, 512))
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow as append does
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if int64(len(buf)) > limit {
		return nil, tooLarge(name, -1, k)
	}
	return buf, nil
}

func tooLarge(name string, size int64, k Kind) error {
	is := "is more than " + FormatSize(k.Limit())
	if size >= 0 {
		is = "is " + FormatSize(size)
	}
	return fmt.Errorf("%s %s; the limit for %s %s is %s: %w", name, is, k.article(), k, FormatSize(k.Limit()), ErrTooLarge)
}

// FormatSize renders a byte count for people: "12.3 MB", "4 MB", "512 KB",
// "17 bytes" (decimal units, at most one decimal).
func FormatSize(n int64) string {
	switch {
	case n >= 1000*MB:
		return trimFloat(float64(n)/(1000*MB)) + " GB"
	case n >= MB:
		return trimFloat(float64(n)/MB) + " MB"
	case n >= 1000:
		return trimFloat(float64(n)/1000) + " KB"
	case n == 1:
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}
