package compiler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
)

// ErrSchema is wrapped when the P4Info lacks a table, action, meter or
// profile of the pipeline contract (docs/pipeline.md).
var ErrSchema = errors.New("p4info does not provide the qos pipeline")

// Option tunes Compile.
type Option func(*config)

type config struct {
	logger     *slog.Logger
	allocation *allocator.Result
	demands    map[string]float64
	names      contract.Names
	ecnDepth   func(packets uint32) uint64
	loopOnly   bool
	phase      func(name string, took time.Duration)
	watchPorts bool
	// reservations are admitted reservations to police (WithReservations).
	reservations []admission.Reservation
	// routes are the route entities of an earlier compile (WithRouteCache).
	routes *RouteCache
}

// WithPhaseTimes makes Compile report how long each phase took, in order:
// resolve (classes' matches against the topology), overlaps (pairwise
// classifier checks), allocate (the allocator), classes (per-class
// entries and meters), routes (next hops, selector groups, LPM entries),
// finish (queues, default entries, ordering). For benchmarks and
// profiling (docs/performance.md).
func WithPhaseTimes(f func(name string, took time.Duration)) Option {
	return func(c *config) { c.phase = f }
}

// mark reports the phase that ends now.
func (c *compilation) mark(name string) {
	if c.cfg.phase == nil {
		return
	}
	now := time.Now()
	c.cfg.phase(name, now.Sub(c.phaseStart))
	c.phaseStart = now
}

// WithClosedLoopOnly makes Compile build only what the closed loop can
// change (Enforced): the routes, next hops and selector groups are left out
// unless the routing mode is wcmp, whose group weights follow the
// allocation. The controller recompiles with it every loop interval; the
// routes of a 200-switch fabric were most of that work.
func WithClosedLoopOnly() Option { return func(c *config) { c.loopOnly = true } }

// WithLogger makes Compile log what it decides at debug level.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAllocation makes Compile use r instead of running the allocator (the
// controller recompiles with the allocation of its control loop). r must
// have a result for every flow group of the policy.
func WithAllocation(r *allocator.Result) Option { return func(c *config) { c.allocation = r } }

// WithNames makes Compile address the pipeline by the target's names
// where they differ from the contract's (target.Driver.Names). Only the
// action profile may be renamed (the one difference a target has today,
// docs/targets.md); Compile rejects a mapping of any other name rather than
// ignore it.
func WithNames(n contract.Names) Option { return func(c *config) { c.names = n } }

// WithECNDepth makes Compile write ecn_threshold values in the target's
// queue-depth unit: f converts the policy's depth in packets
// (target.Driver.ECNDepth). Without it the value is the packet count, which
// is BMv2's unit.
func WithECNDepth(f func(packets uint32) uint64) Option { return func(c *config) { c.ecnDepth = f } }

// WithWatchPorts makes every member of an ECMP/WCMP group watch the port of
// its next hop (P4Runtime §9.2.3 watch_port, the port number as a byte
// string), so a target that supports it fails over in the data plane when
// the port goes down, before the controller reacts. Only for targets that
// act on it (the sim; docs/controller.md, "Link liveness").
func WithWatchPorts() Option { return func(c *config) { c.watchPorts = true } }

// WithDemands replaces flow groups' demands (bits/s by flow group name),
// e.g. with BwE demand estimates from counters.
func WithDemands(d map[string]float64) Option { return func(c *config) { c.demands = d } }

// Result is the compiled state.
type Result struct {
	// Switches maps a switch name to its entities in dependency order:
	// action profile members, groups, table entries (classifier, reservation,
	// color_action, phb, ipv4_lpm, ipv6_lpm, ecn_threshold), meter
	// entries, then default entries. Entities identical on several
	// switches may be the same pointer: treat them as read-only.
	Switches map[string][]*p4v1.Entity
	// SwitchOrder lists the switch names in topology order.
	SwitchOrder []string
	// DeviceIDs are the switches' P4Runtime device ids (for -o text, whose
	// WriteRequests carry them).
	DeviceIDs map[string]uint64
	Classes   []ClassInfo
	// Problem and Allocation are the allocator input and output (nil
	// without flow groups).
	Problem    *allocator.Problem
	Allocation *allocator.Result
	// QueueSettings are per-port queue rates and depths, which P4Runtime
	// cannot set; the controller applies them through each target's
	// queue interface (docs/controller.md, "Queues").
	QueueSettings []QueueSetting
}

// ClassInfo describes a compiled class.
type ClassInfo struct {
	Name       string
	ID         int
	PHB        string
	DSCP       DSCP
	Queue      uint8
	Precedence int
	TrustDSCP  bool
	// Meter is the meter configuration (bytes/s, bytes), nil when the class
	// is not metered.
	Meter    *tables.MeterConfig
	Switches []string
}

// QueueSetting is a non-P4Runtime queue parameter.
type QueueSetting struct {
	Switch string
	Port   uint32
	Queue  int
	Rate   float64 // bits/s; 0 = unchanged
	Depth  uint32  // packets; 0 = unchanged
}

// MeterConfigFor converts rates in bits/s and optional bursts in bytes to a
// BYTES meter's P4Runtime configuration (bytes/s and bytes), with the
// allocator's enforcement rules (allocator.MeterConfigFor with
// allocator.DefaultMeterPolicy), so that fixed and allocated meters behave
// alike: rates are rounded down to whole bytes/s (never admit more than
// configured); an unset CBS is max(CIR × 10 ms, 3000 B); pir below cir is
// raised to cir; an unset PBS is max(PIR × 10 ms, CBS).
func MeterConfigFor(cir, pir float64, cbs, pbs *Bytes) *tables.MeterConfig {
	pir = math.Max(pir, cir)
	committed := allocator.MeterConfigFor(cir, allocator.DefaultMeterPolicy)
	peak := allocator.MeterConfigFor(pir, allocator.DefaultMeterPolicy)
	m := allocator.MeterConfig{CIR: committed.CIR, CBurst: committed.CBurst, PIR: peak.CIR, PBurst: peak.CBurst}
	if cbs != nil {
		m.CBurst = uint64(*cbs)
	}
	if pbs != nil {
		m.PBurst = uint64(*pbs)
	} else {
		m.PBurst = max(m.PBurst, m.CBurst)
	}
	c := &tables.MeterConfig{}
	c.CIR, c.CBurst, c.PIR, c.PBurst = m.P4Runtime()
	return c
}

// pipeline holds what Compile needs from the P4Info.
type pipeline struct {
	maxClassID   int
	maxGroupSize int
	selector     string // the P4Info name of the contract's ecmp_selector
	ecnMax       uint64
	sizes        map[string]int64 // table short name → size (0 = unknown)
}

var contractTables = contract.Tables

func readPipeline(s *tables.Schema, names contract.Names) (*pipeline, error) {
	for from := range names {
		if from != contract.ECMPSelector {
			return nil, fmt.Errorf("compile: the target renames %s, which the compiler cannot address by another name", from)
		}
	}
	pl := &pipeline{sizes: map[string]int64{}, selector: names.Of(contract.ECMPSelector)}
	var missing []string
	for _, n := range contractTables {
		t, err := s.Table(n)
		if err != nil {
			missing = append(missing, "table "+n)
			continue
		}
		pl.sizes[n] = t.Size
	}
	for _, a := range []string{contract.SetClass, contract.TrustDSCP, contract.SetDefaultClass, contract.RemarkDSCP, contract.Drop, contract.SetQueue, contract.SetNextHop, contract.SetECNThreshold} {
		if _, err := s.Action(a); err != nil {
			missing = append(missing, "action "+a)
		}
	}
	width := func(action, param string) int32 {
		p, err := s.ActionParam(action, param)
		if err != nil {
			missing = append(missing, "parameter "+action+"."+param)
			return 0
		}
		return p.Bitwidth
	}
	// Class ids are written into set_class, trust_dscp and color_action's
	// key: the narrowest bounds them.
	w := width(contract.SetClass, contract.ParamClassID)
	if p, err := s.ActionParam(contract.TrustDSCP, contract.ParamClassID); err == nil {
		w = min(w, p.Bitwidth)
	}
	if f, err := s.MatchField(contract.ColorAction, contract.KeyClassID); err == nil {
		w = min(w, f.Bitwidth)
	}
	pl.maxClassID = int(min(uint64(1)<<min(max(w, 0), 31)-1, math.MaxInt32))
	m, err := s.Meter(contract.ClassMeter)
	if err != nil {
		missing = append(missing, "meter class_meter")
	} else {
		if m.Size > 0 && int64(pl.maxClassID) > m.Size-1 {
			pl.maxClassID = int(m.Size - 1)
		}
		if m.Spec != nil && m.Spec.Unit != p4configv1.MeterSpec_BYTES {
			return nil, fmt.Errorf("%w: class_meter must count BYTES, has %s", ErrSchema, m.Spec.Unit)
		}
	}
	ap, err := s.ActionProfile(pl.selector)
	if err != nil {
		missing = append(missing, "action profile "+pl.selector)
	} else {
		pl.maxGroupSize = int(ap.MaxGroupSize)
	}
	if pl.maxGroupSize <= 0 {
		pl.maxGroupSize = 64
	}
	ew := width(contract.SetECNThreshold, contract.ParamThreshold)
	pl.ecnMax = uint64(1)<<min(ew, 63) - 1
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing %s", ErrSchema, strings.Join(missing, ", "))
	}
	if problems := checkContract(s, pl.selector); len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSchema, strings.Join(problems, "; "))
	}
	return pl, nil
}

type compilation struct {
	p      *Policy
	t      *topo.Topology
	s      *tables.Schema
	cfg    config
	pl     *pipeline
	errs   Errors
	swIdx  map[string]int
	sets   []switchSet // per class
	broken []bool      // per class: a match did not resolve
	terms  []term
	edge   switchSet
	res    *Result
	fgRate map[string]float64
	tRate  map[string]float64
	// wcmp[switch][host][port] = allocated rate
	wcmp map[string]map[string]map[uint32]float64
	// masks[0|1][bits] caches ternary masks for IPv4 and IPv6 prefixes.
	masks [2][129][]byte
	// phaseStart is when the current phase began (WithPhaseTimes).
	phaseStart time.Time
	// full is the first switch whose reservation table the reservations
	// overfill (TableFullError).
	full *TableFullError
}

func (c *compilation) bad(path, format string, args ...any) {
	if len(c.errs) <= yamlerr.MaxErrors { // a full list takes no more: skip positioning
		c.errs.Add(c.p.errorf(path, format, args...))
	}
}

// cancelEvery is how many iterations of a long loop run between checks of
// the context, so that SIGINT/SIGTERM stop a compile promptly.
const cancelEvery = 1 << 12

// Compile turns a policy into per-switch P4Runtime entities for the
// topology, addressing the pipeline by name through schema. Invalid input
// yields Errors listing every problem; a P4Info without the pipeline's
// objects yields an error wrapping ErrSchema; ctx bounds the allocation.
func Compile(ctx context.Context, p *Policy, t *topo.Topology, s *tables.Schema, opts ...Option) (*Result, error) {
	c := &compilation{p: p, t: t, s: s, cfg: config{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, phaseStart: time.Now()}
	for _, o := range opts {
		o(&c.cfg)
	}
	if p == nil || t == nil || s == nil {
		return nil, errors.New("compile: policy, topology and schema are required")
	}
	pl, err := readPipeline(s, c.cfg.names)
	if err != nil {
		return nil, err
	}
	c.pl = pl
	c.res = &Result{Switches: map[string][]*p4v1.Entity{}}
	c.swIdx = map[string]int{}
	c.edge = newSwitchSet(len(t.Switches))
	for i, sw := range t.Switches {
		c.swIdx[sw.Name] = i
		c.res.SwitchOrder = append(c.res.SwitchOrder, sw.Name)
		if c.res.DeviceIDs == nil {
			c.res.DeviceIDs = map[string]uint64{}
		}
		c.res.DeviceIDs[sw.Name] = sw.DeviceID
		for _, e := range t.Edges(sw.Name) {
			if e.ToHost {
				c.edge.add(i)
			}
		}
	}
	// The class-id limit comes from the P4Info alone: checking it before
	// any per-class work rejects a policy of 100,000 classes at once
	// instead of after the pairwise overlap checks.
	if len(p.Classes) > c.pl.maxClassID {
		c.bad("classes", "%d classes, but the pipeline's class ids go up to %d (class 0 is the default class)", len(p.Classes), c.pl.maxClassID)
		return nil, c.errs.Err()
	}
	if err := c.resolveClasses(ctx); err != nil {
		return nil, err
	}
	c.mark("resolve")
	c.checkTenants()
	// The overlap checks compare classifier entries pairwise; entries that
	// cannot fit in the classifier table are reported without them.
	if c.checkClassifierSize() {
		if err := c.checkOverlaps(ctx); err != nil {
			return nil, err
		}
	}
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mark("overlaps")
	if err := c.allocate(ctx); err != nil {
		return nil, err
	}
	c.mark("allocate")
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	if err := c.build(); err != nil {
		return nil, err
	}
	c.mark("finish")
	if err := c.errs.Err(); err != nil {
		if c.full != nil {
			c.full.Errors = c.errs
			return nil, c.full
		}
		return nil, err
	}
	return c.res, nil
}

func (c *compilation) resolveClasses(ctx context.Context) error {
	p, t := c.p, c.t
	nMatch := 0
	for _, cl := range p.Classes {
		nMatch += len(cl.Match)
	}
	c.terms = make([]term, 0, nMatch)
	c.sets = make([]switchSet, len(p.Classes))
	c.broken = make([]bool, len(p.Classes))
	cabled := make([]portSet, len(t.Switches))
	for i, sw := range t.Switches {
		for _, port := range t.Ports(sw.Name) {
			cabled[i].add(port)
		}
	}
	for ci, cl := range p.Classes {
		path := yamlerr.Index("classes", ci)
		set := newSwitchSet(len(t.Switches))
		switch {
		case len(cl.Switches) > 0:
			for j, name := range cl.Switches {
				i, ok := c.swIdx[name]
				if !ok {
					c.bad(yamlerr.Index(path+".switches", j), "unknown switch %s", yamlerr.Quote(name))
					continue
				}
				set.add(i)
			}
		case p.ClassifyAt == "all":
			for i := range t.Switches {
				set.add(i)
			}
		default:
			copy(set, c.edge)
		}
		c.sets[ci] = set
		if set.empty() && len(cl.Switches) == 0 {
			c.bad(path, "class %s is installed nowhere: no switch has hosts (set switches or classify_at: all)", yamlerr.Quote(cl.Name))
		}
		for mi, m := range cl.Match {
			if mi%cancelEvery == cancelEvery-1 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			mp := func() string { return yamlerr.Index(path+".match", mi) }
			before := len(c.terms)
			c.addTerms(int32(ci), int32(mi), m, mp)
			if len(c.terms) == before && !c.broken[ci] {
				c.bad(mp(), "the match can never hit: its src and dst have no IP version in common")
			}
			if m.IngressPort != nil && !c.cabledOn(set, cabled, *m.IngressPort) {
				c.bad(mp()+".ingress_port", "port %d is not cabled on any switch the class is installed on, so the match can never hit", *m.IngressPort)
			}
		}
	}
	return nil
}

// portSet is a bitset of the ports 0..topo.MaxPort.
type portSet [(topo.MaxPort + 64) / 64]uint64

func (s *portSet) add(p uint32) {
	if p <= topo.MaxPort {
		s[p/64] |= 1 << (p % 64)
	}
}

func (s *portSet) has(p uint32) bool { return p <= topo.MaxPort && s[p/64]&(1<<(p%64)) != 0 }

// cabledOn reports whether port is cabled on a switch of set.
func (c *compilation) cabledOn(set switchSet, cabled []portSet, port uint32) bool {
	for i := range cabled {
		if set.has(i) && cabled[i].has(port) {
			return true
		}
	}
	return false
}

// checkClassifierSize reports switches whose classifier entries (one per
// term of each class installed there, plus the fabric-port trust entries)
// exceed the classifier table, and returns whether all fit. build checks
// the final count again; checking here bounds the terms the pairwise
// overlap checks see by the table sizes.
func (c *compilation) checkClassifierSize() bool {
	size := c.pl.sizes[contract.Classifier]
	if size <= 0 {
		return true
	}
	perClass := make([]int64, len(c.p.Classes))
	for i := range c.terms {
		perClass[c.terms[i].class]++
	}
	ok := true
	for si, sw := range c.t.Switches {
		var n int64
		if c.p.ClassifyAt == "edge" && c.edge.has(si) {
			for _, e := range c.t.Edges(sw.Name) {
				if !e.ToHost {
					n++
				}
			}
		}
		for ci, k := range perClass {
			if c.sets[ci].has(si) {
				n += k
			}
		}
		if n > size {
			c.bad("classes", "switch %s needs %d classifier entries, but the table holds %d", yamlerr.Quote(sw.Name), n, size)
			ok = false
		}
	}
	return ok
}

// resolve turns an Address into at most two prefixes (a host's IPv4 and
// IPv6 address); an invalid prefix means "any".
func (c *compilation) resolve(a *Address, path func() string) ([2]netip.Prefix, int, bool) {
	var out [2]netip.Prefix
	if a == nil {
		return out, 1, true
	}
	if !a.IsHost() {
		out[0] = a.Prefix
		return out, 1, true
	}
	h, ok := c.t.Host(a.Raw)
	if !ok {
		c.bad(path(), "unknown host %s (expected a prefix, an address, or a host of the topology)", yamlerr.Quote(a.Raw))
		return out, 0, false
	}
	n := 0
	for _, ifc := range h.Addrs() {
		out[n] = netip.PrefixFrom(ifc.Addr(), ifc.Addr().BitLen())
		n++
	}
	return out, n, true
}

func version(p netip.Prefix) uint8 {
	switch {
	case !p.IsValid():
		return 0
	case p.Addr().Is4():
		return 4
	}
	return 6
}

func (c *compilation) addTerms(ci, mi int32, m *Match, path func() string) {
	srcArr, ns, ok1 := c.resolve(m.Src, func() string { return path() + ".src" })
	dstArr, nd, ok2 := c.resolve(m.Dst, func() string { return path() + ".dst" })
	srcs, dsts := srcArr[:ns], dstArr[:nd]
	if !ok1 || !ok2 {
		c.broken[ci] = true
		return
	}
	base := term{class: ci, match: mi, proto: -1, dscp: -1, port: -1, sport: fullRange, dport: fullRange}
	if m.Protocol != nil {
		base.proto = int16(*m.Protocol)
	}
	if m.DSCP != nil {
		base.dscp = int16(*m.DSCP)
	}
	if m.IngressPort != nil {
		base.port = int16(*m.IngressPort)
	}
	if m.SrcPort != nil {
		base.sport = *m.SrcPort
	}
	if m.DstPort != nil {
		base.dport = *m.DstPort
	}
	for _, s := range srcs {
		for _, d := range dsts {
			vs, vd := version(s), version(d)
			if vs != 0 && vd != 0 && vs != vd {
				continue
			}
			v := max(vs, vd)
			if m.IPVersion != 0 {
				if v != 0 && int(v) != m.IPVersion {
					continue
				}
				v = uint8(m.IPVersion)
			}
			t := base
			t.ver, t.src, t.dst = v, s, d
			c.terms = append(c.terms, t)
		}
	}
}

func (c *compilation) checkOverlaps(ctx context.Context) error {
	prec := make([]int, len(c.p.Classes))
	for i, cl := range c.p.Classes {
		prec[i] = cl.Precedence
	}
	an, err := analyse(ctx, c.terms, prec, c.sets)
	if err != nil {
		return err
	}
	for _, cf := range an.conflicts {
		a, b := c.p.Classes[cf.a], c.p.Classes[cf.b]
		c.bad(yamlerr.Index("classes", int(cf.b))+".precedence",
			"class %s overlaps class %s (%s) at equal precedence %d: some packet matches both, so which wins is undefined; give one a higher precedence or narrow a match",
			yamlerr.Quote(b.Name), yamlerr.Quote(a.Name), yamlerr.Index("classes", int(cf.a)), b.Precedence)
	}
	if an.truncated {
		c.bad("classes", "more than %d overlapping class pairs; fix these first", maxConflicts)
	}
	for ci, by := range an.shadowedBy {
		if by < 0 || c.broken[ci] {
			continue
		}
		cl, other := c.p.Classes[ci], c.p.Classes[by]
		c.bad(yamlerr.Index("classes", ci)+".match",
			"class %s can never hit: its match is covered by higher-precedence classes such as %s (precedence %d > %d)",
			yamlerr.Quote(cl.Name), yamlerr.Quote(other.Name), other.Precedence, cl.Precedence)
	}
	return nil
}

func (c *compilation) checkTenants() {
	var walk func(ts []*Tenant, path string)
	walk = func(ts []*Tenant, path string) {
		for i, tn := range ts {
			tp := yamlerr.Index(path, i)
			for j, fg := range tn.FlowGroups {
				fp := yamlerr.Index(tp+".flow_groups", j)
				if _, ok := c.t.Host(fg.Src); !ok && fg.Src != "" {
					c.bad(fp+".src", "unknown host %s", yamlerr.Quote(fg.Src))
				}
				if _, ok := c.t.Host(fg.Dst); !ok && fg.Dst != "" {
					c.bad(fp+".dst", "unknown host %s", yamlerr.Quote(fg.Dst))
				}
			}
			walk(tn.Children, tp+".children")
		}
	}
	walk(c.p.Tenants, "tenants")
	for i, pq := range c.p.Queues.Ports {
		path := yamlerr.Index("queues.ports", i)
		if pq.Switch != "" {
			if _, ok := c.t.Switch(pq.Switch); !ok {
				c.bad(path+".switch", "unknown switch %s", yamlerr.Quote(pq.Switch))
				continue
			}
		}
		if pq.Port != nil && len(c.portTargets(pq)) == 0 {
			c.bad(path+".port", "port %d is not cabled on %s", *pq.Port, orAll(pq.Switch))
		}
		if pq.ECNThreshold != nil && c.ecnDepth(*pq.ECNThreshold) > c.pl.ecnMax {
			maxPackets := c.pl.ecnMax / max(c.ecnDepth(1), 1) // the target's unit per packet
			c.bad(path+".ecn_threshold", "expected a threshold 0..%d packets (the pipeline's width), got %d", maxPackets, *pq.ECNThreshold)
		}
	}
}

// ecnDepth is the ecn_threshold value for a depth in packets.
func (c *compilation) ecnDepth(packets uint32) uint64 {
	if c.cfg.ecnDepth == nil {
		return uint64(packets)
	}
	return c.cfg.ecnDepth(packets)
}

func orAll(sw string) string {
	if sw == "" {
		return "any switch"
	}
	return "switch " + yamlerr.Quote(sw)
}

type portRef struct {
	sw   string
	port uint32
}

// portTargets lists the (switch, port) pairs a queue setting applies to.
func (c *compilation) portTargets(pq *PortQueue) []portRef {
	var out []portRef
	for _, sw := range c.t.Switches {
		if pq.Switch != "" && pq.Switch != sw.Name {
			continue
		}
		for _, port := range c.t.Ports(sw.Name) {
			if pq.Port == nil || *pq.Port == port {
				out = append(out, portRef{sw.Name, port})
			}
		}
	}
	return out
}

// allocate runs the allocator over the tenants' flow groups (or takes the
// given allocation) and records rates per flow group and tenant, and the
// per-switch next-hop rates for WCMP.
func (c *compilation) allocate(ctx context.Context) error {
	flat := flatten(c.p.Tenants, c.cfg.demands)
	if len(flat) == 0 {
		return nil
	}
	bound := 0.0
	for _, sw := range c.t.Switches {
		for _, e := range c.t.Edges(sw.Name) {
			bound += e.Capacity
		}
	}
	groups := make([]ProblemFlowGroup, len(flat))
	for i, fg := range flat {
		groups[i] = ProblemFlowGroup{Name: fg.def.Name, Src: fg.def.Src, Dst: fg.def.Dst, Function: fg.fn.toAllocator(bound), Demand: fg.demand}
	}
	popts := []ProblemOption{ProblemK(c.p.Routing.MaxPaths)}
	if c.p.Routing.Mode == "wcmp" {
		popts = append(popts, ProblemMode(allocator.Preferred), ProblemEqualCostOnly())
	}
	prob, err := AllocatorProblem(c.t, groups, popts...)
	if err != nil {
		c.bad("tenants", "cannot build the allocator problem: %v", err)
		return nil
	}
	if c.p.Allocation.Objective != "" {
		prob.Objective, prob.Alpha = allocator.Objective(c.p.Allocation.Objective), c.p.Allocation.Alpha
	}
	c.res.Problem = prob
	alloc := c.cfg.allocation
	if alloc == nil {
		alloc, err = allocator.Allocate(ctx, prob, allocator.WithLogger(c.cfg.logger))
		var verr *allocator.ValidationError
		if errors.As(err, &verr) {
			c.bad("tenants", "the allocator rejects the problem built from the tenants: %v", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("allocate: %w", err)
		}
	}
	c.res.Allocation = alloc
	byName := map[string]*allocator.FlowGroupResult{}
	for i := range alloc.FlowGroups {
		byName[alloc.FlowGroups[i].Name] = &alloc.FlowGroups[i]
	}
	edges := map[string]topo.Edge{}
	for _, sw := range c.t.Switches {
		for _, e := range c.t.Edges(sw.Name) {
			edges[e.Name()] = e
		}
	}
	c.fgRate = map[string]float64{}
	c.tRate = map[string]float64{}
	c.wcmp = map[string]map[string]map[uint32]float64{}
	for _, fg := range flat {
		r, ok := byName[fg.def.Name]
		if !ok {
			return fmt.Errorf("allocation has no result for flow group %s", yamlerr.Quote(fg.def.Name))
		}
		c.fgRate[fg.def.Name] = r.Rate
		for _, tn := range fg.tenant {
			c.tRate[tn.Name] += r.Rate
		}
		c.cfg.logger.Debug("allocated", "flow_group", fg.def.Name, "rate", r.Rate)
		for _, pr := range r.Paths {
			for _, ln := range pr.Links {
				e, ok := edges[ln]
				if !ok || e.FromHost {
					continue
				}
				byHost := c.wcmp[e.From]
				if byHost == nil {
					byHost = map[string]map[uint32]float64{}
					c.wcmp[e.From] = byHost
				}
				if byHost[fg.def.Dst] == nil {
					byHost[fg.def.Dst] = map[uint32]float64{}
				}
				byHost[fg.def.Dst][e.FromPort] += pr.Rate
			}
		}
	}
	return nil
}
