package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/tables"
)

// tempFile writes content to a new file name in a temporary directory.
func tempFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every input slot refuses what is not a regular file, and files above
// their limit, as invalid input (exit 2) with a message naming the path
// and what it is; nothing is read from a device or waited on.
func TestReliability_NonRegularAndHugeInputsAreInvalidInput(t *testing.T) {
	pol, tp, info := compileFiles(t)
	dir := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(huge, []byte("#"+strings.Repeat(" ", 3_000_000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hugeJSON := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(hugeJSON, []byte("{"+strings.Repeat(" ", 32_999_998)+"}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"allocate directory", []string{"allocate", "-f", dir}, "is a directory; the allocation problem must be a regular file"},
		{"allocate FIFO", []string{"allocate", "-f", fifo}, "is a named pipe (FIFO)"},
		{"allocate huge YAML", []string{"allocate", "-f", huge}, "huge.yaml: line 2: column 1: not a valid problem here (near the end of the input); a YAML problem over 2 MB is read by the fast reader only"},
		{"allocate huge JSON", []string{"allocate", "-f", hugeJSON}, "huge.json is 33 MB; the limit for an allocation problem is 32 MB"},
		{"policy device", []string{"compile", "-p", "/dev/zero", "-t", tp, "--p4info", info}, "/dev/zero is a character device; the policy must be a regular file"},
		{"topology FIFO", []string{"compile", "-p", pol, "-t", fifo, "--p4info", info}, "is a named pipe (FIFO); the topology must be a regular file"},
		{"p4info directory", []string{"compile", "-p", pol, "-t", tp, "--p4info", dir}, "is a directory; the P4Info must be a regular file"},
		{"config device", []string{"compile", "--config", "/dev/urandom"}, "/dev/urandom is a character device; the config file must be a regular file"},
		{"policy huge", []string{"compile", "-p", huge, "-t", tp, "--p4info", info}, "huge.yaml is 3 MB; the limit for a policy is 2 MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var code int
			var stderr string
			go func() {
				defer close(done)
				code, _, stderr = runCompileCLI(t, tc.args...)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the command did not return within 20 s")
			}
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %.300q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// A value from the input is quoted cut short: a config of 300 KB values
// once printed 303 KB to stderr.
func TestReliability_HostileValuesAreTruncated(t *testing.T) {
	pol, tp, info := compileFiles(t)
	long := strings.Repeat("x", 300_000)
	tests := []struct {
		name string
		args []string
	}{
		{"config path values", []string{"compile", "--config", tempFile(t, "c.yaml", "policy: "+long+"\ntopology: "+long+"\n")}},
		{"config output", []string{"compile", "--config", tempFile(t, "c.yaml", fmt.Sprintf("policy: %s\ntopology: %s\np4info: %s\noutput: %s\n", pol, tp, info, long))}},
		{"switch flag", []string{"compile", "-p", pol, "-t", tp, "--p4info", info, "--switch", long}},
		{"policy value", []string{"compile", "-p", tempFile(t, "p.yaml", "classes: [{name: x, phb: "+long+"}]\n"), "-t", tp, "--p4info", info}},
		{"policy unknown switch", []string{"compile", "-p", tempFile(t, "p.yaml", "classes: [{name: x, phb: EF, switches: ["+long+"]}]\n"), "-t", tp, "--p4info", info}},
		{"problem value", []string{"allocate", "-f", tempFile(t, "a.yaml", "mode: "+long+"\nlinks: []\n")}},
		{"problem rate", []string{"allocate", "-f", tempFile(t, "a.yaml", "links: [{name: l, capacity: 1"+long+"}]\n")}},
		{"TOML config line", []string{"compile", "--config", tempFile(t, "c.toml", "policy = ["+long+"\n")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCompileCLI(t, tc.args...)
			if code != 2 || len(stderr) > 2000 {
				t.Fatalf("exit %d with %d bytes of stderr (want 2 and at most 2000): %.300q", code, len(stderr), stderr)
			}
		})
	}
}

// A P4Info that declares a 100,000-bit field is refused when loaded, with
// the field and the width, not with "host bits set" from the first route.
func TestReliability_AbsurdP4InfoWidthIsInvalidInput(t *testing.T) {
	pol, tp, info := compileFiles(t)
	s, err := tables.Load(info)
	if err != nil {
		t.Fatal(err)
	}
	p4i := proto.Clone(s.P4Info()).(*p4configv1.P4Info)
	for _, tb := range p4i.Tables {
		for _, f := range tb.MatchFields {
			if f.Name == "ipv4_dst" {
				f.Bitwidth = 100_000
			}
		}
	}
	text, err := prototext.Marshal(p4i)
	if err != nil {
		t.Fatal(err)
	}
	bad := tempFile(t, "wide.txtpb", string(text))
	code, _, stderr := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", bad)
	if code != 2 || !strings.Contains(stderr, `match field "ipv4_dst" has bitwidth 100000`) || strings.Contains(stderr, "host bits") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
}

// go-toml has no depth limit: a 1 MB config of nested arrays or one long
// dotted key recursed 500,000 levels deep.
func TestReliability_DeeplyNestedConfigIsRefused(t *testing.T) {
	for name, content := range map[string]string{
		"arrays.toml": "a = " + strings.Repeat("[", 400_000) + strings.Repeat("]", 400_000) + "\n",
		"dotted.toml": strings.Repeat("a.", 400_000) + "b = 1\n",
	} {
		code, _, stderr := runCompileCLI(t, "compile", "--config", tempFile(t, name, content))
		if code != 2 || !strings.Contains(stderr, "more than 1000") {
			t.Errorf("%s: exit %d, stderr %.300s", name, code, stderr)
		}
	}
}

// TestMain lets the reliability tests run this test binary as p4qos
// (P4QOS_TEST_MAIN=1), to send it signals.
func TestMain(m *testing.M) {
	if os.Getenv("P4QOS_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// p4qos compile stops promptly on SIGTERM, also in the middle of the
// pairwise overlap checks of a large policy, and says it was interrupted.
func TestReliability_CompileStopsOnSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM")
	}
	_, tp, info := compileFiles(t)
	// 30,000 classes need a P4Info with wider class ids than the
	// pipeline's 8 bits; the overlap checks of classes that all match
	// every packet at distinct precedences compare every pair.
	s, err := tables.Load(info)
	if err != nil {
		t.Fatal(err)
	}
	p4i := proto.Clone(s.P4Info()).(*p4configv1.P4Info)
	for _, a := range p4i.Actions {
		for _, p := range a.Params {
			if p.Name == "class_id" {
				p.Bitwidth = 32
			}
		}
	}
	for _, tb := range p4i.Tables {
		tb.Size = 1 << 24
		for _, f := range tb.MatchFields {
			if f.Name == "class_id" {
				f.Bitwidth = 32
			}
		}
	}
	for _, m := range p4i.Meters {
		m.Size = 1 << 24
	}
	text, err := prototext.Marshal(p4i)
	if err != nil {
		t.Fatal(err)
	}
	wide := tempFile(t, "wide.txtpb", string(text))
	var b strings.Builder
	b.WriteString("classify_at: all\nclasses:\n")
	for i := 0; i < 30_000; i++ {
		fmt.Fprintf(&b, "- {name: c%d, phb: DF, precedence: %d, match: {dscp: %d}}\n", i, i+1, i%64)
	}
	pol := tempFile(t, "big.yaml", b.String())

	cmd := exec.Command(os.Args[0], "compile", "-p", pol, "-t", tp, "--p4info", wide)
	cmd.Env = append(os.Environ(), "P4QOS_TEST_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(1500 * time.Millisecond) // parsing takes about half a second
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-done
		t.Fatalf("signal: %v (the compile ended first: stderr %.300s)", err, stderr.String())
	}
	select {
	case err := <-done:
		code := cmd.ProcessState.ExitCode()
		if code != 1 || !strings.Contains(stderr.String(), "p4qos: interrupted") {
			t.Fatalf("exit %d (%v), stderr %.300s; want exit 1 and \"interrupted\"", code, err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("p4qos compile did not stop within 10 s of SIGTERM")
	}
}
