package inputfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	small := write(t, "p.yaml", []byte("classes: []\n"))
	atLimit := write(t, "at.yaml", bytes.Repeat([]byte{'#'}, int(Config.Limit())))
	over := write(t, "over.yaml", bytes.Repeat([]byte{'#'}, int(Config.Limit())+123_456))
	tests := []struct {
		name    string
		path    string
		kind    Kind
		wantLen int
		wantErr error
		wantMsg string
	}{
		{"small", small, Policy, 12, nil, ""},
		{"at the limit", atLimit, Config, int(Config.Limit()), nil, ""},
		{"over the limit", over, Config, 0, ErrTooLarge, "over.yaml is 1.1 MB; the limit for a config file is 1 MB"},
		{"directory", t.TempDir(), Policy, 0, ErrNotRegular, "is a directory; the policy must be a regular file"},
		{"missing", filepath.Join(t.TempDir(), "nope.yaml"), Policy, 0, os.ErrNotExist, "nope.yaml"},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, []struct {
			name    string
			path    string
			kind    Kind
			wantLen int
			wantErr error
			wantMsg string
		}{
			{"/dev/zero", "/dev/zero", Topology, 0, ErrNotRegular, "/dev/zero is a character device; the topology must be a regular file"},
			{"/dev/urandom", "/dev/urandom", Problem, 0, ErrNotRegular, "/dev/urandom is a character device"},
		}...)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Read(tc.path, tc.kind)
			if tc.wantErr == nil {
				if err != nil || len(data) != tc.wantLen {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(data), err, tc.wantLen)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("got %v; want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
		})
	}
}

func TestReadRefusesFIFOWithoutBlocking(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs")
	}
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(p, Policy); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe (FIFO)") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read blocked on a FIFO with no writer")
	}
}

// endless is an io.Reader that never ends, like /dev/zero behind a pipe.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

func TestReadFromCapsStreams(t *testing.T) {
	_, err := ReadFrom(endless{}, "<stdin>", Config)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "<stdin> is more than 1 MB; the limit for a config file is 1 MB") {
		t.Fatalf("got %v", err)
	}
	data, err := ReadArg(Stdin, strings.NewReader("a: 1\n"), Config)
	if err != nil || string(data) != "a: 1\n" {
		t.Fatalf("stdin: %q, %v", data, err)
	}
}

// A file that grows while it is read (its size at stat time was small) is
// still cut off at the limit.
func TestReadCapsGrowingInput(t *testing.T) {
	_, err := readCapped(io.MultiReader(strings.NewReader("ok"), endless{}), "grows.yaml", 2, Config)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1000: "1 KB", 512_000: "512 KB", 4 * MB: "4 MB", 12_345_678: "12.3 MB", 2_500 * MB: "2.5 GB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// A hostile path (from a config file) is not echoed in full.
func TestReadClipsLongPaths(t *testing.T) {
	long := strings.Repeat("x", 300_000)
	_, err := Read(long, Policy)
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "…(300000 bytes)") {
		t.Fatalf("got %.300v (%d bytes)", err, len(err.Error()))
	}
}

func TestCheckNesting(t *testing.T) {
	deep := func(open, close string, n int) []byte {
		return []byte("a = " + strings.Repeat(open, n) + strings.Repeat(close, n) + "\n")
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"flat", []byte("policy = \"p.yaml\"\n[section]\nx = [1, [2, 3]]\n"), true},
		{"at the limit", deep("[", "]", MaxNesting), true},
		{"arrays", deep("[", "]", MaxNesting+1), false},
		{"tables", deep("{b=", "}", MaxNesting+1), false},
		{"brackets in strings", []byte("a = \"" + strings.Repeat("[", 5000) + "\"\nb = '" + strings.Repeat("{", 5000) + "'\n"), true},
		{"escaped quote", []byte(`a = "\"` + strings.Repeat("[", 5000) + `"`), true},
		{"dotted key", []byte(strings.Repeat("a.", MaxNesting+1) + "b = 1\n"), false},
		{"dotted header", []byte("[" + strings.Repeat("a.", MaxNesting+1) + "b]\n"), false},
		{"dots in values", []byte("a = \"" + strings.Repeat("x.", 5000) + "\"\nb = " + strings.Repeat("1.", 5000) + "\n"), true},
	}
	for _, tc := range tests {
		err := CheckNesting("c.toml", tc.data)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTooDeep)) {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
