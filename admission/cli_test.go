package admission

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/topo"
)

func fabric(t *testing.T) *topo.Topology {
	t.Helper()
	data, err := os.ReadFile("../topo/examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := topo.Parse("fabric.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	fs := pflag.NewFlagSet("admit", pflag.ContinueOnError)
	BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Command(fabric(t), DefaultParams(), fs, fs.Args(), &out)
	return out.String(), err
}

func exitCode(err error) int {
	var c interface{ ExitCode() int }
	if err == nil {
		return 0
	}
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return -1
}

func TestCommand(t *testing.T) {
	base := []string{"request", "--dry-run", "--src", "h1", "--dst", "h3", "--burst", "10KB"}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		// Fabric: leaf1→spine 40Mbps (R 20Mbps, T 300µs, 1ms), leaf2→h3
		// 100Mbps: 4.3 + 4.73 + 2.0812 ms + 2ms propagation.
		{"admitted", append(base, "--rate", "2Mbps", "--max-delay", "20ms"), 0, []string{"ADMITTED g-h1-h3-", "bound 13.1112ms", "leaf1:3->spine1:1", "spine1:2->leaf2:3", "leaf2:1->h3"}},
		{"rejected delay", append(base, "--rate", "2Mbps", "--max-delay", "5ms"), 1, []string{"REJECTED", "resource: delay bound", "need:     13.1112ms", "limit:    5ms"}},
		{"rejected EF share", append(base, "--rate", "25Mbps"), 1, []string{"resource: EF share", "hop:      leaf1:3->spine1:1", "limit:    20Mbps"}},
		// Offline there is no measurement: the answer says the reserved
		// load was used instead.
		{"controlled load", append(base, "--rate", "25Mbps", "--service", "controlled-load"), 0, []string{"ADMITTED cl-h1-h3-", "reserved", "note: no load measurements (offline --dry-run"}},
		{"release offline", []string{"release", "--dry-run", "g-1"}, 2, nil},
		{"bad out of profile", append(base, "--out-of-profile", "police"), 2, nil},
		{"bad unit", append(base, "--rate", "2mbps"), 2, nil},
		{"unknown host", []string{"request", "--dry-run", "--src", "h1", "--dst", "h9", "--rate", "2Mbps", "--burst", "10KB"}, 2, nil},
		{"static set", []string{"request", "--dry-run", "--reservations", "testdata/reservations.yaml"}, 0, []string{"3 static reservation(s) admitted", "voice", "controlled-load"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runCLI(t, c.args...)
			if got := exitCode(err); got != c.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestParseReservationsPositioned(t *testing.T) {
	_, err := ParseReservations("r.yaml", []byte("reservations:\n  - {src: h1, dst: h3, rate: 2mbps, burst: 10KB}\n  - {src: h1, dst: h3, rate: 2Mbps, burst: 10KB, service: gold}\n"))
	var l yamlerr.List
	if !errors.As(err, &l) || len(l) != 2 || l[0].Line != 2 || l[1].Line != 3 || l[1].Path != "reservations[1].service" {
		t.Fatalf("got %#v", err)
	}
}
