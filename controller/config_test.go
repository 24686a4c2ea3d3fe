package controller

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Finding 4 of the reliability issue: config values were silently
// converted (election-id: -1 became 2^64-1, .nan/1.9/true became integers,
// hysteresis .nan disabled the loop, 1ns intervals burned a core, switch
// addresses were never checked). Each is now a positioned error.
func TestReliability_ConfigValuesAreStrict(t *testing.T) {
	base := "topology: t.yaml\npolicy: p.yaml\np4info: i.txtpb\n"
	tests := []struct{ name, yaml, want string }{
		{"negative election id", "election-id: -1\n", "c.yaml:4:14: election-id: must not be negative"},
		{"nan election id", "election-id: .nan\n", "election-id: expected a non-negative integer"},
		{"fractional election id", "election-id: 1.9\n", "election-id: expected a non-negative integer"},
		{"boolean election id", "election-id: true\n", "election-id: expected a non-negative integer"},
		{"nan hysteresis", "hysteresis: .nan\n", "hysteresis: expected a finite number"},
		{"inf hysteresis", "hysteresis: .inf\n", "hysteresis: expected a finite number"},
		{"hysteresis out of range", "hysteresis: 1.5\n", "hysteresis: must be in [0, 1)"},
		{"nanosecond loop", "loop-interval: 1ns\n", "loop-interval: must be 0 (off) or at least 10ms"},
		{"bare number duration", "loop-interval: 5\n", "loop-interval: expected a duration with a unit"},
		{"tiny reconcile", "reconcile-interval: 1us\n", "reconcile-interval: must be at least 100ms"},
		{"batch size as string", "batch-size: lots\n", "batch-size: expected an integer"},
		{"bad switch address", "switches: [{name: s1, address: nowhere}]\n", "switches[0] (s1): address: expected host:port"},
		{"bad switch port", "switches: [{name: s1, address: \"127.0.0.1:99999\"}]\n", "is not a number from 0 to 65535"},
		{"unknown key with suggestion", "reconcile_interval: 1s\n", `unknown key "reconcile_interval"; did you mean "reconcile-interval"?`},
		{"null value", "role: ~\n", "role: has no value"},
		{"bad log level", "log-level: verbose\n", "log-level: must be debug, info, warn or error"},
		{"huge value echoed short", "role: [" + strings.Repeat("x", 5000) + "]\n", "role: expected a single string value"},
		{"cluster without scheme", "cluster: 127.0.0.1:2379\n", "cluster: expected etcd://host:port"},
		{"cluster with another scheme", "cluster: http://127.0.0.1:2379\n", `cluster: scheme "http": expected etcd:// or etcds://`},
		{"cluster endpoint without port", "cluster: etcd://a:1,b\n", `cluster: endpoint "b": expected host:port`},
		{"short lease", "cluster: etcd://a:1\ncluster-lease: 500ms\n", "cluster-lease: must be at least 1s"},
		{"cluster cert without key", "cluster: etcd://a:1\ncluster-tls-cert: c.pem\n", "cluster-tls-cert and cluster-tls-key go together"},
		{"once in cluster mode", "cluster: etcd://a:1\nonce: true\n", "once: not available in cluster mode"},
		{"cluster key misspelt", "cluster_lease: 5s\n", `did you mean "cluster-lease"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(base+tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(Sources{File: path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, tt.want)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes echoes the input", len(err.Error()))
			}
		})
	}
}

func TestConfigSourcesAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("topology: t.yaml\npolicy: p.yaml\np4info: /abs/i.txtpb\nbatch-size: 10\nloop-interval: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	BindFlags(fs)
	if err := fs.Parse([]string{"--loop-interval", "3s", "--policy", "cli.yaml"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(Sources{File: path, Env: []string{"P4QOS_BATCH_SIZE=20", "P4QOS_LOOP_INTERVAL=4s", "P4QOS_E2E=1", "HOME=/x"}, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Topology != filepath.Join(dir, "t.yaml") || cfg.P4Info != "/abs/i.txtpb" {
		t.Errorf("file paths not resolved against the file: %q %q", cfg.Topology, cfg.P4Info)
	}
	if cfg.Policy != "cli.yaml" || cfg.BatchSize != 20 || cfg.LoopInterval != 3*time.Second {
		t.Errorf("precedence: policy %q batch %d loop %v", cfg.Policy, cfg.BatchSize, cfg.LoopInterval)
	}
	for _, env := range [][]string{{"P4QOS_BACTH_SIZE=3"}, {"P4QOS_BATCH_SIZE=1.5"}, {"P4QOS_HYSTERESIS=NaN"}} {
		if _, err := Load(Sources{File: path, Env: env}); err == nil || !strings.Contains(err.Error(), strings.SplitN(env[0], "=", 2)[0]) {
			t.Errorf("%v: got %v, want an error naming the variable", env, err)
		}
	}
	fs2 := pflag.NewFlagSet("run", pflag.ContinueOnError)
	BindFlags(fs2)
	_ = fs2.Parse([]string{"--election-id", "-1"})
	if _, err := Load(Sources{File: path, Flags: fs2}); err == nil || !strings.Contains(err.Error(), "flag --election-id") {
		t.Errorf("--election-id -1: %v", err)
	}
}

// A Config written with MarshalYAML (as the lab writes its controller's)
// loads back the same.
func TestConfigRoundTrip(t *testing.T) {
	id := uint64(0)
	cfg := Default()
	cfg.Topology, cfg.Policy, cfg.P4Info, cfg.BMv2JSON = "/t.yaml", "/p.yaml", "/i.txtpb", "/q.json"
	cfg.ReconcileInterval, cfg.MetricsAddr = 5*time.Second, "127.0.0.1:9464"
	cfg.Switches = []SwitchEntry{{Name: "s1", DeviceID: &id, ThriftAddress: "127.0.0.1:9090"}}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := Load(Sources{File: path})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip\n got %+v\nwant %+v\n%s", back, cfg, out)
	}
}

// Finding 5 for the daemon: every input file goes through the bounded
// reader, so /dev/zero, a FIFO or a directory is refused with a message
// instead of exhausting memory or hanging.
func TestReliability_DaemonInputsAreBounded(t *testing.T) {
	if _, err := Load(Sources{File: "/dev/zero"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("config /dev/zero: %v", err)
	}
	_, entries := fabricSims(t)
	for _, bad := range []string{"/dev/zero", t.TempDir()} {
		cfg, _ := testConfig(t, entries)
		cfg.Policy = bad
		_, err := New(testCtx(t), cfg)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("policy %s: %v, want an input error", bad, err)
		}
	}
}

// run -c - reads the config from stdin; its relative paths are then the
// working directory's, and its problems are positioned in <stdin>.
func TestLoadConfigFromStdin(t *testing.T) {
	cfg, err := Load(Sources{File: "-", Stdin: strings.NewReader("topology: ../topo/examples/fabric.yaml\npolicy: ../topo/examples/fabric-policy.yaml\np4info: ../p4src/build/qos.p4info.txtpb\n")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Topology != filepath.Join("..", "topo/examples/fabric.yaml") && cfg.Topology != "../topo/examples/fabric.yaml" {
		t.Errorf("topology %q: want it relative to the working directory", cfg.Topology)
	}
	_, err = Load(Sources{File: "-", Stdin: strings.NewReader("topology: ../topo/examples/fabric.yaml\nbatch-sise: 3\n")})
	if err == nil || !strings.Contains(err.Error(), "<stdin>:2:1: unknown key") {
		t.Errorf("bad key on stdin: %v", err)
	}
}
