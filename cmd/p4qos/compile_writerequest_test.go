package main

import (
	"context"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

// TestCompileTextIsAWriteRequest: `compile -o text --switch leaf1` is one
// p4.v1.WriteRequest that, sent as it is (plus the sender's election id,
// as p4runtime-shell adds it) to an empty switch, leaves exactly the
// compiled state there: read back and diffed against the intent, nothing
// is missing, extra or different.
func TestCompileTextIsAWriteRequest(t *testing.T) {
	pol, tp, info := compileFiles(t)
	code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info, "-o", "text", "--switch", "leaf1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var req p4v1.WriteRequest
	if err := prototext.Unmarshal([]byte(out), &req); err != nil {
		t.Fatalf("not a WriteRequest in text format: %v\n%.400s", err, out)
	}
	if req.DeviceId != 1 || len(req.Updates) != 135 {
		t.Fatalf("device_id %d, %d updates; want 1 and 135", req.DeviceId, len(req.Updates))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sw, addr, err := sim.Start(ctx, "127.0.0.1:0", sim.WithDeviceID(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	schema, err := tables.Load(info)
	if err != nil {
		t.Fatal(err)
	}
	driver, err := sim.NewDriver(schema)
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := controlplane.NewPipeline(schema.P4Info(), driver)
	if err != nil {
		t.Fatal(err)
	}
	s, err := controlplane.Dial(controlplane.SwitchConfig{Name: "leaf1", Address: addr, DeviceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsurePipeline(ctx, pipeline); err != nil {
		t.Fatal(err)
	}
	eid := s.ElectionID()
	req.ElectionId = &p4v1.Uint128{High: eid.High, Low: eid.Low}
	if _, err := s.Client().Write(ctx, &req); err != nil {
		t.Fatalf("the switch refused the WriteRequest: %v", err)
	}

	// The intent, as the json output gives it, against what the switch holds.
	code, jsonOut, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info, "-o", "json", "--switch", "leaf1")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errs)
	}
	var intent []*p4v1.Entity
	for _, raw := range compileJSON(t, jsonOut).Switches[0].Entities {
		e := &p4v1.Entity{}
		if err := protojson.Unmarshal(raw, e); err != nil {
			t.Fatal(err)
		}
		intent = append(intent, e)
	}
	_, plan, err := s.Compare(ctx, &controlplane.Intent{Schema: schema, Pipeline: pipeline, Entities: intent})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Len() != 0 {
		var b strings.Builder
		for _, u := range plan.Updates() {
			b.WriteString(u.GetType().String() + " " + schema.Describe(u.GetEntity()) + "\n")
		}
		t.Fatalf("after the WriteRequest the switch differs from the intent by %d updates:\n%s", plan.Len(), b.String())
	}
}
