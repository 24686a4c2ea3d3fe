package compiler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
)

// parseAndCompile runs what p4qos compile runs on src for the demo fabric
// and returns the error; a panic fails the test through the runtime.
func parseAndCompile(t *testing.T, src string) error {
	t.Helper()
	p, err := ParsePolicy("p.yaml", []byte(src))
	if err != nil {
		return err
	}
	_, err = Compile(context.Background(), p, loadTopo(t, "fabric.yaml"), loadSchema(t))
	return err
}

// requireErrorAt fails unless err is a yamlerr.List with a positioned
// error at path whose message contains msg.
func requireErrorAt(t *testing.T, err error, path, msg string) {
	t.Helper()
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("want a positioned error at %s, got %v", path, err)
	}
	for _, e := range list {
		if e.Path == path && e.Line > 0 && strings.Contains(e.Msg, msg) {
			return
		}
	}
	t.Fatalf("no error at %s containing %q in:\n%v", path, msg, list)
}

func TestReliability_NilMeterCIRDoesNotPanic(t *testing.T) {
	err := parseAndCompile(t, "classes: [{name: x, phb: AF11, meter: {cir: null}}]\n")
	requireErrorAt(t, err, "classes[0].meter.cir", "expected a value, got null")
}

// Every pointer, list and map of the policy model, given as null: each is
// a positioned error, never a nil dereference and never a silent default.
// The same inputs are seeds of FuzzParsePolicy (testdata/fuzz/).
func TestReliability_NullValuesArePositionedErrors(t *testing.T) {
	tests := []struct {
		name, src, path string
	}{
		{"cir", "classes: [{name: x, phb: AF11, meter: {cir: null}}]", "classes[0].meter.cir"},
		{"pir", "classes: [{name: x, phb: AF11, meter: {cir: 1Mbps, pir: ~}}]", "classes[0].meter.pir"},
		{"cbs", "classes: [{name: x, phb: AF11, meter: {cir: 1Mbps, cbs: null}}]", "classes[0].meter.cbs"},
		{"meter", "classes: [{name: x, phb: AF11, meter: ~}]", "classes[0].meter"},
		{"colors", "classes: [{name: x, phb: AF11, meter: {cir: 1Mbps}, colors: null}]", "classes[0].colors"},
		{"color red", "classes: [{name: x, phb: AF11, meter: {cir: 1Mbps}, colors: {red: ~}}]", "classes[0].colors.red"},
		{"match", "classes: [{name: x, phb: AF11, match: null}]", "classes[0].match"},
		{"match item", "classes: [{name: x, phb: AF11, match: [{dscp: 1}, ~]}]", "classes[0].match[1]"},
		{"match src", "classes: [{name: x, phb: AF11, match: {src: null}}]", "classes[0].match[0].src"},
		{"match port", "classes: [{name: x, phb: AF11, match: {dst_port: ~}}]", "classes[0].match[0].dst_port"},
		{"ingress port", "classes: [{name: x, phb: AF11, match: {ingress_port: ~}}]", "classes[0].match[0].ingress_port"},
		{"protocol", "classes: [{name: x, phb: AF11, match: {protocol: ~}}]", "classes[0].match[0].protocol"},
		{"dscp", "classes: [{name: x, phb: AF11, match: {dscp: ~}}]", "classes[0].match[0].dscp"},
		{"class", "classes: [~]", "classes[0]"},
		{"classes", "classes: ~", "classes"},
		{"name", "classes: [{name: ~, phb: AF11}]", "classes[0].name"},
		{"phb", "classes: [{name: x, phb: ~}]", "classes[0].phb"},
		{"precedence", "classes: [{name: x, phb: EF, precedence: ~}]", "classes[0].precedence"},
		{"switches", "classes: [{name: x, phb: EF, switches: ~}]", "classes[0].switches"},
		{"switch item", "classes: [{name: x, phb: EF, switches: [~]}]", "classes[0].switches[0]"},
		{"queues", "queues: ~", "queues"},
		{"queues dscp", "queues: {dscp: ~}", "queues.dscp"},
		{"queues dscp value", "queues: {dscp: {EF: ~}}", "queues.dscp.EF"},
		{"queue port item", "queues: {ports: [~]}", "queues.ports[0]"},
		{"queue port rate", "queues: {ports: [{rate: ~}]}", "queues.ports[0].rate"},
		{"tenant", "tenants: [~]", "tenants[0]"},
		{"tenant weight", "tenants: [{name: t, weight: ~, flow_groups: [{name: f, src: h1, dst: h3}]}]", "tenants[0].weight"},
		{"tenant function", "tenants: [{name: t, function: ~, flow_groups: [{name: f, src: h1, dst: h3}]}]", "tenants[0].function"},
		{"tenant demand", "tenants: [{name: t, demand: null, flow_groups: [{name: f, src: h1, dst: h3}]}]", "tenants[0].demand"},
		{"children", "tenants: [{name: t, children: ~}]", "tenants[0].children"},
		{"flow group", "tenants: [{name: t, flow_groups: [~]}]", "tenants[0].flow_groups[0]"},
		{"flow group src", "tenants: [{name: t, flow_groups: [{name: f, src: ~, dst: h3}]}]", "tenants[0].flow_groups[0].src"},
		{"routing", "routing: ~", "routing"},
		{"version", "version: ~", "version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireErrorAt(t, parseAndCompile(t, tc.src+"\n"), tc.path, "got null")
		})
	}
}

// classesAtOnePrecedence is a policy of n classes that all match every
// packet at one precedence: every pair overlaps.
func classesAtOnePrecedence(n int) string {
	var b strings.Builder
	b.WriteString("classes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {name: c%d, phb: DF}\n", i)
	}
	return b.String()
}

// A policy over the pipeline's 255 classes is rejected for that alone,
// before the pairwise overlap checks (which cost a comparison per pair of
// classes: 45 s at 70,000 classes).
func TestReliability_ClassLimitCheckedBeforeOverlaps(t *testing.T) {
	err := parseAndCompile(t, classesAtOnePrecedence(300))
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	if len(list) != 1 || !strings.Contains(list[0].Msg, "300 classes, but the pipeline's class ids go up to 255") {
		t.Fatalf("want only the class-limit error, got %d errors:\n%v", len(list), list)
	}
}

// Compile stops when its context is cancelled (p4qos compile on SIGINT or
// SIGTERM), also in the middle of the overlap checks.
func TestReliability_CompileStopsWhenCancelled(t *testing.T) {
	// 40,000 classes at distinct precedences that match every packet: no
	// conflicts, so the shadowing check compares every pair (the widened
	// P4Info allows that many class ids).
	var b strings.Builder
	b.WriteString("classify_at: all\nclasses:\n")
	for i := 0; i < 40_000; i++ {
		fmt.Fprintf(&b, "  - {name: c%d, phb: DF, precedence: %d, match: {dscp: %d}}\n", i, i+1, i%64)
	}
	p, err := ParsePolicy("p.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	schema, tp := scaledSchema(t), loadTopo(t, "single.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Compile(ctx, p, tp, schema)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Compile returned %v after cancel, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Compile did not stop within 10 s of cancel")
	}
}

// Positioning an error per key of a huge mapping is linear: a policy with
// 150,000 bad DSCP names (a 1.7 MB file) used to take minutes.
func TestReliability_ManyBadKeysRejectedQuickly(t *testing.T) {
	var b strings.Builder
	b.WriteString("queues:\n  dscp: {")
	for i := 0; i < 150_000; i++ {
		fmt.Fprintf(&b, "x%d: 1, ", i)
	}
	b.WriteString("}\n")
	if int64(b.Len()) > inputfile.Policy.Limit() {
		t.Fatalf("test policy of %d bytes is above the policy limit", b.Len())
	}
	done := make(chan error, 1)
	go func() { _, err := ParsePolicy("p.yaml", []byte(b.String())); done <- err }()
	select {
	case err := <-done:
		var list yamlerr.List
		if !errors.As(err, &list) || len(list) != yamlerr.MaxErrors+1 {
			t.Fatalf("want %d errors (the cap and one saying so), got %v", yamlerr.MaxErrors+1, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ParsePolicy took more than 20 s")
	}
}

// A P4Info that names every object of the contract but differs in what
// Compile writes (a parameter missing, a key of another kind or width, an
// action a table lacks, routes without the selector) is a schema error
// (exit 2), not an internal error from building the first entry (exit 1).
func TestReliability_P4InfoContractMismatchIsASchemaError(t *testing.T) {
	field := func(info *p4configv1.P4Info, table, name string) *p4configv1.MatchField {
		for _, tb := range info.Tables {
			if strings.HasSuffix(tb.Preamble.Name, "."+table) {
				for _, f := range tb.MatchFields {
					if f.Name == name {
						return f
					}
				}
			}
		}
		t.Fatalf("no %s.%s", table, name)
		return nil
	}
	action := func(info *p4configv1.P4Info, name string) *p4configv1.Action {
		for _, a := range info.Actions {
			if strings.HasSuffix(a.Preamble.Name, "."+name) {
				return a
			}
		}
		t.Fatalf("no action %s", name)
		return nil
	}
	table := func(info *p4configv1.P4Info, name string) *p4configv1.Table {
		for _, tb := range info.Tables {
			if strings.HasSuffix(tb.Preamble.Name, "."+name) {
				return tb
			}
		}
		t.Fatalf("no table %s", name)
		return nil
	}
	tests := []struct {
		name string
		edit func(*p4configv1.P4Info)
		want string
	}{
		{"parameter missing", func(info *p4configv1.P4Info) {
			a := action(info, "set_next_hop")
			a.Params = a.Params[:1]
		}, "no parameter set_next_hop.smac"},
		{"parameter renamed", func(info *p4configv1.P4Info) { action(info, "set_queue").Params[0].Name = "q" }, "no parameter set_queue.queue"},
		{"key of another kind", func(info *p4configv1.P4Info) {
			field(info, "classifier", "dscp").Match = &p4configv1.MatchField_MatchType_{MatchType: p4configv1.MatchField_EXACT}
		}, "match field classifier.dscp is EXACT, not TERNARY"},
		{"address of another width", func(info *p4configv1.P4Info) { field(info, "ipv4_lpm", "ipv4_dst").Bitwidth = 64 }, "match field ipv4_lpm.ipv4_dst has 64 bits, not 32"},
		{"key too narrow", func(info *p4configv1.P4Info) { field(info, "classifier", "ingress_port").Bitwidth = 8 }, "classifier.ingress_port has 8 bits, fewer than 9"},
		{"action missing from table", func(info *p4configv1.P4Info) { table(info, "phb").ActionRefs = nil }, "table phb lacks action set_queue"},
		{"routes without selector", func(info *p4configv1.P4Info) { table(info, "ipv6_lpm").ImplementationId = 0 }, "table ipv6_lpm is not implemented by ecmp_selector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := proto.Clone(loadSchema(t).P4Info()).(*p4configv1.P4Info)
			tc.edit(info)
			s, err := tables.New(info)
			if err != nil {
				t.Fatal(err)
			}
			p, err := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Compile(context.Background(), p, loadTopo(t, "fabric.yaml"), s)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want ErrSchema with %q", err, tc.want)
			}
		})
	}
}
