package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
	"github.com/p4qos/p4qos/target/bmv2"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/target/tofino"
	"github.com/p4qos/p4qos/topo"
)

// Fabric is everything loaded from files before anything is written: the
// topology, the managed switches, each target's driver and pipeline, and
// each switch's queue configurator. A Fabric is immutable; Reload returns a
// new one.
type Fabric struct {
	cfg *Config
	// topology is what is compiled: intent (the file) with the links that
	// liveness found down (failed) marked down.
	topology     *topo.Topology
	intent       *topo.Topology
	failed       map[string]bool
	topologyData []byte
	switches     []controlplane.SwitchConfig
	targets      map[string]topo.Target
	// formats are the switches' Tofino device-config formats.
	formats map[string]tofino.Format
	// drivers and pipelines are per driver kind (driverKind): one per
	// target and device-config format in use.
	drivers   map[string]target.Driver
	pipelines map[string]*controlplane.Pipeline
	// queues are kept across reloads: each remembers what it applied, so a
	// queue a new policy no longer sets goes back to the default.
	queues map[string]target.QueueConfigurator
	// routes keep each compile's route entities for the next one, per
	// compile of Fabric.compile (schema and watch ports), across reloads
	// and link changes: a link liveness takes down rebuilds the routes of
	// only the switches whose next hops it changes (compiler.RouteCache).
	routes *routeCaches
}

type routeCaches struct {
	mu sync.Mutex
	by map[compileKey]*compiler.RouteCache
}

// compileKey is one compile of Fabric.compile: the switches sharing a
// schema and whether their groups watch ports share one.
type compileKey struct {
	schema *tables.Schema
	watch  bool
}

func (r *routeCaches) get(k compileKey) *compiler.RouteCache {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by[k] == nil {
		r.by[k] = &compiler.RouteCache{}
	}
	return r.by[k]
}

// InputError marks an error in the user's input (files, settings): the
// command exits 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(err error) error {
	if err == nil {
		return nil
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return &InputError{Err: err}
}

// LoadFabric loads the topology and pipelines that cfg names.
func LoadFabric(cfg *Config) (*Fabric, error) { return loadFabric(cfg, nil) }

func loadFabric(cfg *Config, dial func(context.Context, string) (net.Conn, error)) (*Fabric, error) {
	data, err := inputfile.Read(cfg.Topology, inputfile.Topology)
	if err != nil {
		return nil, inputErr(err)
	}
	t, err := topo.Parse(cfg.Topology, data)
	if err != nil {
		return nil, inputErr(err)
	}
	f := &Fabric{cfg: cfg, topology: t, intent: t, topologyData: data, targets: map[string]topo.Target{},
		routes:  &routeCaches{by: map[compileKey]*compiler.RouteCache{}},
		formats: map[string]tofino.Format{}, drivers: map[string]target.Driver{}, pipelines: map[string]*controlplane.Pipeline{},
		queues: map[string]target.QueueConfigurator{}}
	thrift := map[string]string{}
	for _, sw := range t.Switches {
		f.switches = append(f.switches, controlplane.SwitchConfig{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID})
		f.targets[sw.Name] = sw.Target
	}
	for _, se := range cfg.Switches {
		i := f.index(se.Name)
		if i < 0 {
			return nil, inputErr(fmt.Errorf("switches: %s is not a switch of topology %s", yamlerr.Quote(se.Name), yamlerr.Path(cfg.Topology)))
		}
		if se.Address != "" {
			f.switches[i].Address = se.Address
		}
		if se.DeviceID != nil {
			f.switches[i].DeviceID = *se.DeviceID
		}
		if se.Target != "" {
			f.targets[se.Name] = topo.Target(se.Target)
		}
		if se.DeviceConfigFormat != "" {
			f.formats[se.Name] = tofino.Format(se.DeviceConfigFormat)
		}
		thrift[se.Name] = se.ThriftAddress
	}
	if len(f.switches) == 0 {
		return nil, inputErr(fmt.Errorf("topology %s has no switches", cfg.Topology))
	}
	for _, sw := range f.switches {
		if f.targets[sw.Name] == "" {
			f.targets[sw.Name] = topo.TargetSim
		}
		if sw.Address == "" {
			return nil, inputErr(fmt.Errorf("switch %s has no address: give one in the topology or the switches list", sw.Name))
		}
		if f.formats[sw.Name] == "" {
			f.formats[sw.Name] = tofino.Format(cfg.TofinoDeviceConfig)
		}
		drv, err := f.driver(sw.Name)
		if err != nil {
			return nil, inputErr(fmt.Errorf("switch %s: %w", sw.Name, err))
		}
		q := drv.Queues(target.Switch{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID, QueueAddress: thrift[sw.Name], Dial: dial})
		if q != nil {
			f.queues[sw.Name] = q
		}
	}
	return f, nil
}

func (f *Fabric) index(name string) int {
	for i, sw := range f.switches {
		if sw.Name == name {
			return i
		}
	}
	return -1
}

// driverKind names the driver a switch needs: its target, and for Tofino
// the device-config format.
func (f *Fabric) driverKind(sw string) string {
	if t := f.targets[sw]; t == topo.TargetTofino {
		return string(t) + "/" + string(f.formats[sw])
	}
	return string(f.targets[sw])
}

// driver loads (once per kind) a switch's driver and pipeline.
func (f *Fabric) driver(sw string) (target.Driver, error) {
	kind := f.driverKind(sw)
	if d := f.drivers[kind]; d != nil {
		return d, nil
	}
	d, err := loadDriver(f.cfg, f.targets[sw], f.formats[sw])
	if err != nil {
		return nil, err
	}
	p, err := controlplane.NewPipeline(d.Schema().P4Info(), d)
	if err != nil {
		return nil, err
	}
	f.drivers[kind], f.pipelines[kind] = d, p
	return d, nil
}

func loadSchema(path, what string) (*tables.Schema, error) {
	s, err := tables.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

func loadDriver(cfg *Config, t topo.Target, format tofino.Format) (target.Driver, error) {
	schema, err := loadSchema(cfg.P4Info, "p4info")
	if err != nil {
		return nil, err
	}
	switch t {
	case topo.TargetSim:
		return sim.NewDriver(schema)
	case topo.TargetBMv2:
		if cfg.BMv2JSON == "" {
			return nil, errors.New("target bmv2 needs bmv2-json")
		}
		js, err := inputfile.Read(cfg.BMv2JSON, inputfile.BMv2JSON)
		if err != nil {
			return nil, err
		}
		return bmv2.New(schema, js)
	case topo.TargetTofino:
		return loadTofino(cfg, schema, format)
	}
	return nil, fmt.Errorf("unknown target %s (bmv2, tofino or sim)", yamlerr.Quote(string(t)))
}

// loadTofino builds the Tofino driver. Without tofino-bin and
// tofino-context it uses the committed bf-p4c outputs of tofino-chip
// (p4src/build/CHIP/: binary, context.json, P4Info, bf-rt.json; the p4qos
// binary carries them, internal/assets), each replaceable by its key except
// the binary and context.json, which go together. With them, the P4Info is
// tofino-p4info, else p4info, and bf-rt.json is tofino-bfrt.
func loadTofino(cfg *Config, schema *tables.Schema, format tofino.Format) (target.Driver, error) {
	files, err := tofino.CommittedFiles(tofino.Chip(cfg.TofinoChip))
	if err != nil {
		return nil, err
	}
	binPath, ctxPath, infoPath, bfrtPath := cfg.TofinoBin, cfg.TofinoContext, cfg.TofinoP4Info, cfg.TofinoBfrt
	switch {
	case binPath == "" && ctxPath == "":
		binPath, ctxPath = files.Binary, files.Context
		infoPath, bfrtPath = cmp.Or(infoPath, files.P4Info), cmp.Or(bfrtPath, files.BfRt)
		if err := assets.Resolve(&binPath, &ctxPath, &infoPath, &bfrtPath); err != nil {
			return nil, err
		}
	case binPath == "" || ctxPath == "":
		return nil, errors.New("target tofino needs tofino-bin and tofino-context together (neither: the committed pipeline of tofino-chip)")
	}
	if infoPath != "" {
		if schema, err = loadSchema(infoPath, "tofino-p4info"); err != nil {
			return nil, err
		}
	}
	bin, err := inputfile.Read(binPath, inputfile.TofinoOutput)
	if err != nil {
		return nil, err
	}
	ctxJSON, err := inputfile.Read(ctxPath, inputfile.TofinoOutput)
	if err != nil {
		return nil, err
	}
	var opts []tofino.Option
	switch format {
	case tofino.FormatPI:
	case tofino.FormatStratumBfrt, tofino.FormatPIBfrt:
		if bfrtPath == "" {
			return nil, fmt.Errorf("the %s device config needs tofino-bfrt (bf-rt.json)", format)
		}
		bfrt, err := inputfile.Read(bfrtPath, inputfile.TofinoOutput)
		if err != nil {
			return nil, err
		}
		if format == tofino.FormatPIBfrt {
			opts = append(opts, tofino.WithPIBfrt(bfrt))
		} else {
			opts = append(opts, tofino.WithStratumBfrt(bfrt))
		}
	default:
		return nil, fmt.Errorf("unknown device-config format %s (pi, pi-bfrt or stratum-bfrt)", yamlerr.Quote(string(format)))
	}
	return tofino.New(schema, cfg.TofinoProgram, bin, ctxJSON, opts...)
}

// Topology is the fabric's topology.
func (f *Fabric) Topology() *topo.Topology { return f.topology }

// Switches lists the managed switches with where they are reached.
func (f *Fabric) Switches() []controlplane.SwitchConfig { return f.switches }

// Driver is the target driver of a switch.
func (f *Fabric) Driver(sw string) target.Driver { return f.drivers[f.driverKind(sw)] }

// Reload returns the fabric with the topology parsed from data. The
// sessions stay as they are, so the managed switches (name, address, device
// id, target) must not change; links, hosts and ports may.
func (f *Fabric) Reload(data []byte) (*Fabric, error) {
	t, err := topo.Parse(f.cfg.Topology, data)
	if err != nil {
		return nil, err
	}
	if len(t.Switches) != len(f.switches) {
		return nil, fmt.Errorf("the topology has %d switches, the running controller %d: a change of the switch set needs a restart", len(t.Switches), len(f.switches))
	}
	overridden := map[string]bool{}
	for _, se := range f.cfg.Switches {
		overridden[se.Name] = true
	}
	for _, sw := range t.Switches {
		i := f.index(sw.Name)
		if i < 0 {
			return nil, fmt.Errorf("switch %s is new: a change of the switch set needs a restart", sw.Name)
		}
		if overridden[sw.Name] {
			continue
		}
		cur := f.switches[i]
		if cur.Address != sw.Address || cur.DeviceID != sw.DeviceID {
			return nil, fmt.Errorf("switch %s: address or device id changed: needs a restart", sw.Name)
		}
		if sw.Target != f.targets[sw.Name] {
			return nil, fmt.Errorf("switch %s: target changed: needs a restart", sw.Name)
		}
	}
	nf := *f
	nf.topology, nf.intent, nf.topologyData = t, t, data
	return nf.withFailed(f.failed)
}

// withFailed returns the fabric whose compiled topology is the intent with
// the failed links (by Link.Name) marked down, as `down: true` in the file
// would; the intent and the file stay as they are. A failure that leaves
// hosts unable to reach each other is refused (the topology check).
func (f *Fabric) withFailed(failed map[string]bool) (*Fabric, error) {
	nf := *f
	nf.failed, nf.topology = map[string]bool{}, f.intent
	var doc yaml.Node
	if err := yaml.Unmarshal(f.topologyData, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("topology %s: %v", f.cfg.Topology, err)
	}
	var links *yaml.Node
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "links" {
			links = root.Content[i+1]
		}
	}
	marked := 0
	for i, l := range f.intent.Links {
		if !failed[l.Name()] || l.Down || links == nil || i >= len(links.Content) || links.Content[i].Kind != yaml.MappingNode {
			continue
		}
		nf.failed[l.Name()] = true
		m := links.Content[i]
		for k := 0; k+1 < len(m.Content); k += 2 {
			if m.Content[k].Value == "down" { // down: false
				m.Content = slices.Delete(m.Content, k, k+2)
				break
			}
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "down"}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		marked++
	}
	if marked == 0 {
		return &nf, nil
	}
	data, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	if nf.topology, err = topo.Parse(f.cfg.Topology, data); err != nil {
		return nil, err
	}
	return &nf, nil
}

// Compiled is a policy compiled for the fabric.
type Compiled struct {
	Policy *compiler.Policy
	// Intents are the per-switch intents, queue settings included.
	Intents map[string]*controlplane.Intent
	// Queues are the per-switch queue settings of the policy.
	Queues map[string][]target.QueueSetting
	// Sources say where the closed loop measures each flow group.
	Sources []controlplane.DemandSource
	// Allocation is the policy's allocation at unbounded (or given) demand.
	Allocation *allocator.Result
	// Classes are the compiled classes, by id.
	Classes []compiler.ClassInfo
	// Reservations are the policy's static then the dynamic reservations,
	// in admission order, each admitted or broken (docs/admission.md);
	// ledger holds those admitted, against which new requests are checked.
	Reservations []AdmittedReservation
	ledger       *admission.Ledger
}

// ErrEmptyPolicy rejects a policy file with no document content: empty,
// only comments, or `~`. Applied, it would delete every class on every
// switch; a file caught half-written looks just like it.
var ErrEmptyPolicy = errors.New("the policy has no content (empty, only comments, or null): refusing to remove every class; write `classes: []` to mean that")

// CompileOption adds to what Fabric.Compile compiles beyond the policy.
type CompileOption func(*compileOptions)

type compileOptions struct {
	dynamic []admission.Request
	meas    admission.Measurements
}

// WithDynamicReservations admits rs, the reservations admitted through
// the API (in admission order), after the policy's static ones.
func WithDynamicReservations(rs []admission.Request) CompileOption {
	return func(o *compileOptions) { o.dynamic = rs }
}

// WithLoadMeasurements gives the compiled ledger the measured queue loads
// that controlled-load requests are checked against (docs/admission.md);
// without it they are checked against the reserved rates. The
// reservations already admitted are re-admitted without measurements
// (admission.Ledger.SetMeasurements says why).
func WithLoadMeasurements(m admission.Measurements) CompileOption {
	return func(o *compileOptions) { o.meas = m }
}

// Compile compiles policy data (the file at cfg.Policy) for the fabric,
// with the policy's static reservations and the dynamic ones
// (WithDynamicReservations) admitted on the compiled topology and policed
// at their ingress edge. A panic in the compiler becomes an error: a bad
// policy must never take the running controller down.
func (f *Fabric) Compile(ctx context.Context, data []byte, opts ...CompileOption) (c *Compiled, err error) {
	var o compileOptions
	for _, opt := range opts {
		opt(&o)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("internal error compiling %s (please report this): %v", f.cfg.Policy, r)
		}
	}()
	if !hasContent(data) {
		return nil, fmt.Errorf("%s: %w", f.cfg.Policy, ErrEmptyPolicy)
	}
	pol, err := compiler.ParsePolicy(f.cfg.Policy, data)
	if err != nil {
		return nil, err
	}
	ledger, reservations := f.admit(pol.AdmissionParams(), pol.Requests(), o.dynamic)
	ledger.SetMeasurements(o.meas)
	ents, res, err := f.compile(ctx, pol, compiler.WithReservations(installable(reservations)))
	if err != nil {
		return nil, err
	}
	c = &Compiled{Policy: pol, Intents: map[string]*controlplane.Intent{}, Queues: map[string][]target.QueueSetting{},
		Allocation: res.Allocation, Classes: res.Classes, Reservations: reservations, ledger: ledger}
	for _, q := range res.QueueSettings {
		c.Queues[q.Switch] = append(c.Queues[q.Switch], target.QueueSetting{Port: q.Port, Queue: uint8(q.Queue), Rate: q.Rate, Depth: q.Depth})
	}
	for _, sw := range f.switches {
		in := &controlplane.Intent{Schema: f.Driver(sw.Name).Schema(), Pipeline: f.pipelines[f.driverKind(sw.Name)], Entities: ents[sw.Name]}
		if q := f.queues[sw.Name]; q != nil {
			in.Side = &queueSide{conf: q, settings: c.Queues[sw.Name]}
		}
		c.Intents[sw.Name] = in
	}
	for _, s := range compiler.DemandSources(pol, f.topology) {
		c.Sources = append(c.Sources, controlplane.DemandSource{FlowGroup: s.FlowGroup, Switch: s.Switch, Counter: s.Counter, Index: s.Index})
	}
	return c, nil
}

// hasContent reports whether a YAML file has a document that is not null.
func hasContent(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return true // the parser reports the syntax error with its position
	}
	if len(doc.Content) == 0 {
		return false
	}
	root := doc.Content[0]
	return !(root.Kind == yaml.ScalarNode && root.Tag == "!!null")
}

// compile compiles pol against each distinct schema in use (the pipeline
// contract is by name, so v1model and TNA switches get the same policy with
// their own P4Info ids, and the names their drivers rename) and keeps for each switch its own schema's
// entities. The allocation does not depend on the schema.
func (f *Fabric) compile(ctx context.Context, pol *compiler.Policy, opts ...compiler.Option) (map[string][]*p4v1.Entity, *compiler.Result, error) {
	out := map[string][]*p4v1.Entity{}
	var last *compiler.Result
	done := map[compileKey]*compiler.Result{}
	for _, sw := range f.switches {
		drv := f.Driver(sw.Name)
		schema := drv.Schema()
		// The sim acts on watch_port (its data plane skips a member whose
		// port is down); other targets get none (docs/controller.md).
		k := compileKey{schema, drv.Name() == string(topo.TargetSim)}
		res, ok := done[k]
		if !ok {
			var err error
			o := append(slices.Clip(opts), compiler.WithNames(drv.Names()), compiler.WithECNDepth(drv.ECNDepth), compiler.WithRouteCache(f.routes.get(k)))
			if k.watch {
				o = append(o, compiler.WithWatchPorts())
			}
			if res, err = compiler.Compile(ctx, pol, f.topology, schema, o...); err != nil {
				return nil, nil, err
			}
			done[k] = res
			last = res
		}
		out[sw.Name] = res.Switches[sw.Name]
	}
	return out, last, nil
}

// queueSide applies a switch's queue settings as the reconciler's side
// config: after the entities, on every reconcile, only while primary.
type queueSide struct {
	conf     target.QueueConfigurator
	settings []target.QueueSetting
}

// SameSide: the same queue interface with the same settings, so that a
// recompilation that leaves a switch's queues alone does not count as a
// change of its intent (controlplane.SameIntent).
func (q *queueSide) SameSide(o controlplane.SideConfig) bool {
	p, ok := o.(*queueSide)
	return ok && p.conf == q.conf && slices.Equal(p.settings, q.settings)
}

func (q *queueSide) Apply(ctx context.Context) (int, int, error) {
	st, err := q.conf.Apply(ctx, q.settings)
	return st.Written, st.Drift, err
}

// loopModel is the closed-loop model of a compiled policy: demand is
// measured on class counters, and enforcement is a recompilation with the
// estimated demands, of which the meters and WCMP groups are kept.
type loopModel struct {
	f       *Fabric
	policy  *compiler.Policy
	sources []controlplane.DemandSource
	// onResult, when set, gets every allocation (the status API shows its
	// bottlenecks).
	onResult func(*allocator.Result)
}

func (m *loopModel) Sources() []controlplane.DemandSource { return m.sources }

func (m *loopModel) Enforce(ctx context.Context, demand map[string]float64) (controlplane.Enforcement, error) {
	switches, res, err := m.f.compile(ctx, m.policy, compiler.WithDemands(demand), compiler.WithClosedLoopOnly())
	if err != nil {
		return controlplane.Enforcement{}, err
	}
	enf := controlplane.Enforcement{Entities: map[string][]*p4v1.Entity{}, Allocation: map[string]float64{}}
	for sw, ents := range switches {
		if kept := compiler.Enforced(ents); len(kept) > 0 {
			enf.Entities[sw] = kept
		}
	}
	if res != nil && res.Allocation != nil {
		if m.onResult != nil {
			m.onResult(res.Allocation)
		}
		for _, fg := range res.Allocation.FlowGroups {
			enf.Allocation[fg.Name] = fg.Rate
		}
	}
	return enf, nil
}

// model is the loop model of c (one that measures nothing when the policy
// meters no class from the allocator).
func (f *Fabric) model(c *Compiled, onResult func(*allocator.Result)) controlplane.Model {
	return &loopModel{f: f, policy: c.Policy, sources: c.Sources, onResult: onResult}
}
