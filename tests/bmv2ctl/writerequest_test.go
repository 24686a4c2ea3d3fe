package bmv2ctl

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controlplane"
)

// TestBMv2CompiledWriteRequest: `p4qos compile -o text` for leaf1 (the same
// Render the command calls) is one p4.v1.WriteRequest that BMv2 accepts as
// it is (with the sender's election id, and BMv2's device id in place of
// the topology's); read back, BMv2 then holds exactly the compiled intent.
func TestBMv2CompiledWriteRequest(t *testing.T) {
	schema, p, sw, s := primaryOnBMv2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := demoCompiled(t, schema)
	var text bytes.Buffer
	if err := compiler.Render(&text, schema, "text", res, []string{"leaf1"}, compiler.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var req p4v1.WriteRequest
	if err := prototext.Unmarshal(text.Bytes(), &req); err != nil {
		t.Fatalf("not a WriteRequest: %v", err)
	}
	if _, err := s.EnsurePipeline(ctx, p); err != nil {
		t.Fatalf("push pipeline: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	eid := s.ElectionID()
	req.DeviceId, req.ElectionId = sw.DeviceID(), &p4v1.Uint128{High: eid.High, Low: eid.Low}
	if _, err := s.Client().Write(ctx, &req); err != nil {
		t.Fatalf("BMv2 refused the WriteRequest: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	_, plan, err := s.Compare(ctx, &controlplane.Intent{Schema: schema, Pipeline: p, Entities: res.Switches["leaf1"]})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Len() != 0 {
		var b strings.Builder
		for _, u := range plan.Updates() {
			b.WriteString(u.GetType().String() + " " + schema.Describe(u.GetEntity()) + "\n")
		}
		t.Fatalf("after the WriteRequest BMv2 differs from the intent by %d updates:\n%s", plan.Len(), b.String())
	}
	t.Logf("%d updates written in one WriteRequest; read back equal", len(req.Updates))
}
