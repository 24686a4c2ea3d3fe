package inspect

import (
	"context"
	"errors"
	"fmt"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
)

// reader reads one switch through a read-only session: no StreamChannel,
// so it never takes part in arbitration, never becomes primary and
// cannot write (controlplane.WithReadOnly).
type reader struct {
	t       Target
	sess    *controlplane.Session
	dec     decoder
	timeout time.Duration
	// cookie is the running pipeline's; running is false when the switch
	// has none.
	cookie  uint64
	running bool
}

// open dials t and checks, within the RPC timeout, that the switch
// answers for the device id; it notes the running pipeline's cookie.
func open(ctx context.Context, t Target, timeout time.Duration, opts []controlplane.SessionOption) (*reader, error) {
	sess, err := controlplane.Dial(controlplane.SwitchConfig{Name: t.Name, Address: t.Address, DeviceID: t.DeviceID}, opts...)
	if err != nil {
		return nil, usage(err)
	}
	r := &reader{t: t, sess: sess, dec: decoder{t.Schema}, timeout: timeout}
	if err := r.probe(ctx); err != nil {
		sess.Close()
		return nil, err
	}
	return r, nil
}

// probe asks for the running pipeline's cookie. Unlike the reconciler
// (RunningCookie), it takes NOT_FOUND for what the sim and PI answer to an
// unknown device id, not for "no pipeline" (FAILED_PRECONDITION, or an
// unset config).
func (r *reader) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.sess.Client().GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{
		DeviceId: r.t.DeviceID, ResponseType: p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY})
	switch {
	case status.Code(err) == codes.FailedPrecondition:
		return nil
	case err != nil:
		return r.explain(err)
	}
	if c := resp.GetConfig().GetCookie(); c != nil {
		r.cookie, r.running = c.GetCookie(), true
	}
	return nil
}

// needPipeline is the error for reads of a switch without a pipeline.
func (r *reader) needPipeline() error {
	if r.running {
		return nil
	}
	return fmt.Errorf("switch %s (%s, device %d) runs no pipeline yet", r.t.Name, r.t.Address, r.t.DeviceID)
}

func (r *reader) close() { r.sess.Close() }

// explain turns an RPC failure into a sentence naming the switch.
func (r *reader) explain(err error) error {
	where := fmt.Sprintf("switch %s (%s, device %d)", r.t.Name, r.t.Address, r.t.DeviceID)
	if r.t.Name == r.t.Address {
		where = fmt.Sprintf("switch %s (device %d)", r.t.Address, r.t.DeviceID)
	}
	st := status.Convert(err)
	why := &rpcError{err: err, text: st.Code().String() + ": " + st.Message()}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("%s is unreachable (%w)", where, why)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s did not answer within --timeout %v (%w)", where, r.timeout, why)
	case codes.NotFound:
		return fmt.Errorf("%s: wrong --device-id? (%w)", where, why)
	case codes.PermissionDenied, codes.InvalidArgument:
		return fmt.Errorf("%s refused the request: wrong --role or --device-id? (%w)", where, why)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s did not answer within --timeout %v (%w)", where, r.timeout, why)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// rpcError is a gRPC error said briefly (code: message), still wrapping
// the original for errors.Is and status.Code.
type rpcError struct {
	err  error
	text string
}

func (e *rpcError) Error() string { return e.text }
func (e *rpcError) Unwrap() error { return e.err }

func (r *reader) read(ctx context.Context, q ...*p4v1.Entity) ([]*p4v1.Entity, error) {
	got, err := r.sess.Read(ctx, q...)
	if err != nil {
		return nil, r.explain(err)
	}
	return got, nil
}

// entries reads the table entries (and each table's default entry) of
// every table, or of the one named.
func (r *reader) entries(ctx context.Context, table string) ([]*p4v1.Entity, error) {
	info := r.t.Schema.P4Info()
	var ids []uint32
	if table != "" {
		t, err := r.t.Schema.Table(table)
		if err != nil {
			return nil, usagef("--table: %v", err)
		}
		ids = []uint32{t.GetPreamble().GetId()}
	} else {
		for _, t := range info.GetTables() {
			ids = append(ids, t.GetPreamble().GetId())
		}
	}
	var out []*p4v1.Entity
	for _, id := range ids {
		got, err := r.read(ctx, tables.EntityOf(&p4v1.TableEntry{TableId: id}))
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		// Not every target reads default entries (§9.1.3 allows it):
		// a refusal leaves them out.
		if def, err := r.sess.Read(ctx, tables.EntityOf(&p4v1.TableEntry{TableId: id, IsDefaultAction: true})); err == nil {
			out = append(out, def...)
		}
	}
	return out, nil
}

// counters reads every indirect counter's cells that counted something.
func (r *reader) counters(ctx context.Context) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for _, c := range r.t.Schema.P4Info().GetCounters() {
		got, err := r.read(ctx, tables.EntityOf(&p4v1.CounterEntry{CounterId: c.GetPreamble().GetId()}))
		if err != nil {
			return nil, err
		}
		for _, e := range got {
			if d := e.GetCounterEntry().GetData(); d.GetPacketCount() != 0 || d.GetByteCount() != 0 {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// meters reads every indirect meter's configured cells, with per-color
// counters where the target reports them. A target that cannot read a
// meter by wildcard (BMv2 for unconfigured cells) is read cell by cell.
func (r *reader) meters(ctx context.Context) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for _, m := range r.t.Schema.P4Info().GetMeters() {
		id := m.GetPreamble().GetId()
		got, err := r.sess.Read(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: id, CounterData: &p4v1.MeterCounterData{}}))
		if err != nil {
			got, err = r.sess.Read(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: id}))
		}
		if err != nil && cellUnreadable(err) {
			got, err = r.cellByCell(ctx, id, m.GetSize())
		}
		if err != nil {
			return nil, r.explain(err)
		}
		for _, e := range got {
			if c := e.GetMeterEntry().GetConfig(); c != nil && !proto.Equal(c, &p4v1.MeterConfig{}) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (r *reader) cellByCell(ctx context.Context, id uint32, size int64) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for i := range size {
		got, err := r.sess.Read(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: id, Index: &p4v1.Index{Index: i}}))
		if err != nil {
			if cellUnreadable(err) {
				continue
			}
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// cellUnreadable: "this meter cell has no config" (BMv2), as the
// reconciler treats it.
func cellUnreadable(err error) bool {
	c := status.Code(err)
	return c == codes.Unknown || c == codes.NotFound
}

// groups reads every action profile's members and groups.
func (r *reader) groups(ctx context.Context) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for _, p := range r.t.Schema.P4Info().GetActionProfiles() {
		id := p.GetPreamble().GetId()
		got, err := r.read(ctx, tables.EntityOf(&p4v1.ActionProfileMember{ActionProfileId: id}), tables.EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: id}))
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// Pipeline is what a switch runs.
type Pipeline struct {
	// Cookie is the running pipeline's cookie (hex).
	Cookie string `json:"cookie"`
	// SameP4Info says the switch's P4Info is the one output is decoded
	// with; false means names may be wrong (--p4info).
	SameP4Info bool `json:"same_p4info"`
	// Tables, Meters, Counters and ActionProfiles list the P4Info's
	// objects with their size and how many entries or cells are in use.
	Tables         []Object `json:"tables"`
	ActionProfiles []Object `json:"action_profiles"`
	Meters         []Object `json:"meters"`
	Counters       []Object `json:"counters"`
}

// Object is one P4Info object with its use.
type Object struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Used int    `json:"used"`
}

// pipeline reads the running pipeline and how full each object is.
func (r *reader) pipeline(ctx context.Context) (*Pipeline, error) {
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.sess.Client().GetForwardingPipelineConfig(rctx, &p4v1.GetForwardingPipelineConfigRequest{
		DeviceId: r.t.DeviceID, ResponseType: p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE})
	if err != nil {
		return nil, r.explain(err)
	}
	p := &Pipeline{Cookie: fmt.Sprintf("%#016x", resp.GetConfig().GetCookie().GetCookie()),
		SameP4Info: proto.Equal(resp.GetConfig().GetP4Info(), r.t.Schema.P4Info())}
	used := map[string]int{}
	count := func(es []*p4v1.Entity) {
		for _, e := range es {
			if d := r.dec.entity(e); d.Kind != "default_entry" {
				used[d.Object]++
			}
		}
	}
	for _, f := range []func(context.Context) ([]*p4v1.Entity, error){
		func(ctx context.Context) ([]*p4v1.Entity, error) { return r.entries(ctx, "") }, r.groups, r.meters, r.counters} {
		es, err := f(ctx)
		if err != nil {
			return nil, err
		}
		count(es)
	}
	info := r.t.Schema.P4Info()
	for _, t := range info.GetTables() {
		p.Tables = append(p.Tables, Object{t.GetPreamble().GetName(), t.GetSize(), used[t.GetPreamble().GetName()]})
	}
	for _, a := range info.GetActionProfiles() {
		p.ActionProfiles = append(p.ActionProfiles, Object{a.GetPreamble().GetName(), a.GetSize(), used[a.GetPreamble().GetName()]})
	}
	for _, m := range info.GetMeters() {
		p.Meters = append(p.Meters, Object{m.GetPreamble().GetName(), m.GetSize(), used[m.GetPreamble().GetName()]})
	}
	for _, c := range info.GetCounters() {
		p.Counters = append(p.Counters, Object{c.GetPreamble().GetName(), c.GetSize(), used[c.GetPreamble().GetName()]})
	}
	return p, nil
}
