package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

// repoFile is a path from the repository root, as seen from this package.
func repoFile(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return p
}

var fabricSwitches = []string{"leaf1", "leaf2", "spine1", "spine2"}

// fabricSims starts one sim per switch of the demo fabric on loopback
// ports of its own and returns them with the config's switches entries.
func fabricSims(t testing.TB, opts ...sim.Option) (map[string]*sim.Switch, []SwitchEntry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sims := map[string]*sim.Switch{}
	var entries []SwitchEntry
	for i, name := range fabricSwitches {
		sw, addr, err := sim.Start(ctx, "127.0.0.1:0", append([]sim.Option{sim.WithDeviceID(uint64(i + 1))}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sw.Close)
		sims[name] = sw
		id := uint64(i + 1)
		entries = append(entries, SwitchEntry{Name: name, Address: addr, DeviceID: &id})
	}
	return sims, entries
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig is a config for the demo fabric on sims, with a copy of the
// demo policy and topology in a temp dir (so tests can rewrite them), no
// metrics server, no periodic reconcile and no closed loop.
func testConfig(t testing.TB, entries []SwitchEntry) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := Default()
	cfg.Topology = writeFile(t, dir, "topology.yaml", string(must(os.ReadFile(repoFile(t, "topo/examples/fabric.yaml")))))
	cfg.Policy = writeFile(t, dir, "policy.yaml", string(must(os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml")))))
	cfg.P4Info = repoFile(t, "p4src/build/qos.p4info.txtpb")
	cfg.Switches = entries
	cfg.MetricsAddr, cfg.ReconcileInterval, cfg.LoopInterval, cfg.PolicyPoll = "off", time.Hour, 0, 20*time.Millisecond
	return cfg, dir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// events collects a controller's events for tests.
type events struct {
	mu   sync.Mutex
	all  []Event
	more chan struct{}
}

func newEvents() *events { return &events{more: make(chan struct{}, 1)} }

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.more <- struct{}{}:
	default:
	}
}

// wait returns the first event from index from on for which match holds,
// and the index after it.
func (e *events) wait(t testing.TB, ctx context.Context, from int, what string, match func(Event) bool) (Event, int) {
	t.Helper()
	for {
		e.mu.Lock()
		for i := from; i < len(e.all); i++ {
			if match(e.all[i]) {
				ev := e.all[i]
				e.mu.Unlock()
				return ev, i + 1
			}
		}
		e.mu.Unlock()
		select {
		case <-e.more:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; events: %v", what, e.kinds())
		}
	}
}

func (e *events) kinds() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		s := string(ev.Kind)
		if ev.Switch != "" {
			s += "(" + ev.Switch + ")"
		}
		out = append(out, s)
	}
	if len(out) > 30 {
		out = append([]string{"…"}, out[len(out)-30:]...)
	}
	return out
}

// waitConverged waits until every fabric switch converged once after from.
func (e *events) waitConverged(t testing.TB, ctx context.Context, from int) int {
	t.Helper()
	next := from
	for _, sw := range fabricSwitches {
		_, n := e.wait(t, ctx, from, sw+" converged", func(ev Event) bool { return ev.Kind == SwitchConverged && ev.Switch == sw })
		next = max(next, n)
	}
	return next
}

// start runs c until the test ends.
func start(t testing.TB, c *Controller) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				err = fmt.Errorf("controller did not stop within 10s of cancel; goroutines:\n%s", buf)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// observer reads a switch through a session of its own role, so that it
// never competes with the controller for primary.
func observer(t testing.TB, addr string, device uint64) *controlplane.Session {
	t.Helper()
	s, err := controlplane.Dial(controlplane.SwitchConfig{Name: "observer", Address: addr, DeviceID: device},
		controlplane.WithRole("observer", nil), controlplane.WithElectionID(controlplane.ElectionID{Low: 7}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func countEntries(ctx context.Context, s *controlplane.Session, schema *tables.Schema, table string) int {
	tb, err := schema.Table(table)
	if err != nil {
		return -1
	}
	ents, err := s.Read(ctx, tables.EntityOf(&p4v1.TableEntry{TableId: tb.GetPreamble().GetId()}))
	if err != nil {
		return -1
	}
	return len(ents)
}

func classifierCount(ctx context.Context, s *controlplane.Session, schema *tables.Schema) int {
	return countEntries(ctx, s, schema, contract.Classifier)
}

// withExtraClass returns the policy with one more class appended to its
// classes (edited as YAML, so that it does not depend on the file's text).
func withExtraClass(t testing.TB, policy []byte) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(policy, &doc); err != nil {
		t.Fatal(err)
	}
	var extra yaml.Node
	if err := yaml.Unmarshal([]byte("{name: extra-test-class, precedence: 150, match: {protocol: udp, dst_port: 9999}, phb: AF31}"), &extra); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "classes" {
			root.Content[i+1].Content = append(root.Content[i+1].Content, extra.Content[0])
			return must(yaml.Marshal(&doc))
		}
	}
	t.Fatal("test fixture: the demo policy has no classes")
	return nil
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// running starts a controller with cfg, records its events, and waits
// until every switch has converged once. next is the index of the first
// event after that.
func running(t testing.TB, ctx context.Context, cfg Config, opts ...Option) (c *Controller, ev *events, next int, stop func() error) {
	t.Helper()
	ev = newEvents()
	c, err := New(ctx, cfg, append([]Option{WithEvents(ev.add)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	stop = start(t, c)
	return c, ev, ev.waitConverged(t, ctx, 0), stop
}
