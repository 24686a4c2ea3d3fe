package compiler

import (
	"fmt"
	"maps"
	"time"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/topo"
)

// Errors is the list of positioned problems a policy has; it is what
// ParsePolicy and Compile return for invalid input (errors.As works).
type Errors = yamlerr.List

// Limits on the numbers users write.
const (
	// MaxPrecedence is the largest class precedence. Compile-generated
	// entries that must beat every class (trusting DSCP on fabric ports)
	// use MaxPrecedence+1 as their P4Runtime priority.
	MaxPrecedence = 1_000_000
	// DefaultPrecedence applies when a class gives none.
	DefaultPrecedence = 100
)

// Policy is a parsed policy file. The YAML keys are documented in
// docs/policy.md.
type Policy struct {
	// Version is the language version; only 1 exists (default 1).
	Version int `yaml:"version"`
	// ClassifyAt is "edge" (default) or "all"; see docs/policy.md.
	ClassifyAt string    `yaml:"classify_at"`
	Classes    []*Class  `yaml:"classes"`
	Queues     Queues    `yaml:"queues"`
	Tenants    []*Tenant `yaml:"tenants"`
	Routing    Routing   `yaml:"routing"`
	// Allocation chooses the allocator's objective for the tenants' flow
	// groups (default max-min).
	Allocation Allocation `yaml:"allocation"`
	// Reservations are static admission-control reservations
	// (docs/admission.md): intent like the classes, admitted by the
	// controller's ledger and compiled with WithReservations.
	Reservations []*admission.Entry `yaml:"reservations"`
	// Admission sets the admission-control parameters the daemon's ledger
	// uses (default admission.DefaultParams).
	Admission Admission `yaml:"admission"`

	// requests are Reservations checked (Requests).
	requests []admission.Request
	doc      *yamlerr.Document
}

// Requests are the policy's static reservations, checked, in file order.
func (p *Policy) Requests() []admission.Request { return p.requests }

// Class is a traffic class.
type Class struct {
	Name string `yaml:"name"`
	// Precedence orders overlapping classes: the higher wins. 1..1000000,
	// default 100. It is the classifier entries' P4Runtime priority.
	Precedence int `yaml:"precedence"`
	// Match is one match or a list of matches (any of them).
	Match []*Match `yaml:"match,single"`
	// Switches limits the class to these switches (default: see
	// ClassifyAt).
	Switches  []string `yaml:"switches"`
	PHB       PHB      `yaml:"phb"`
	TrustDSCP bool     `yaml:"trust_dscp"`
	Meter     *Meter   `yaml:"meter"`
	Colors    *Colors  `yaml:"colors"`

	// ID is the class id: its position in the file, from 1 (0 is the
	// default class). Set by ParsePolicy.
	ID int `yaml:"-"`
}

// Match is one set of header conditions; every field left out matches
// anything.
type Match struct {
	Src         *Address   `yaml:"src"`
	Dst         *Address   `yaml:"dst"`
	IPVersion   int        `yaml:"ip_version"`
	Protocol    *Protocol  `yaml:"protocol"`
	SrcPort     *PortRange `yaml:"src_port"`
	DstPort     *PortRange `yaml:"dst_port"`
	DSCP        *DSCP      `yaml:"dscp"`
	IngressPort *uint32    `yaml:"ingress_port"`
}

// Meter configures a class's two-rate three-color meter (RFC 2698).
type Meter struct {
	CIR *topo.Bitrate `yaml:"cir"`
	CBS *Bytes        `yaml:"cbs"`
	PIR *topo.Bitrate `yaml:"pir"`
	PBS *Bytes        `yaml:"pbs"`
	// From "allocator" takes the CIR from the allocation of FlowGroup or
	// of Tenant (the sum of its flow groups).
	From      string `yaml:"from"`
	FlowGroup string `yaml:"flow_group"`
	Tenant    string `yaml:"tenant"`
}

// Colors overrides the PHB's default treatment of yellow and red packets.
type Colors struct {
	Yellow *ColorAction `yaml:"yellow"`
	Red    *ColorAction `yaml:"red"`
}

// Queues configures DSCP→queue mapping and per-port queue settings.
type Queues struct {
	// DSCP overrides entries of DefaultQueue: codepoint (name or number)
	// → queue 0..7.
	DSCP  map[string]int `yaml:"dscp"`
	Ports []*PortQueue   `yaml:"ports"`
}

// PortQueue sets one queue (or all) of one port (or all) of one switch
// (or all).
type PortQueue struct {
	Switch string  `yaml:"switch"`
	Port   *uint32 `yaml:"port"`
	Queue  *int    `yaml:"queue"`
	// ECNThreshold is the queue depth, in packets, from which ECN-capable
	// packets are marked CE (the ecn_threshold table).
	ECNThreshold *uint32 `yaml:"ecn_threshold"`
	// Rate and Depth are not P4Runtime state; Compile passes them on in
	// Result.QueueSettings for the lab to apply (simple_switch_CLI
	// set_queue_rate / set_queue_depth).
	Rate  *topo.Bitrate `yaml:"rate"`
	Depth *uint32       `yaml:"depth"`
}

// Tenant is a node of the sharing hierarchy.
type Tenant struct {
	Name       string          `yaml:"name"`
	Weight     *float64        `yaml:"weight"`
	Function   Function        `yaml:"function"`
	Demand     *topo.Bitrate   `yaml:"demand"`
	Children   []*Tenant       `yaml:"children"`
	FlowGroups []*FlowGroupDef `yaml:"flow_groups"`
}

// FlowGroupDef is traffic between two hosts that belongs to a tenant.
type FlowGroupDef struct {
	Name     string        `yaml:"name"`
	Src      string        `yaml:"src"`
	Dst      string        `yaml:"dst"`
	Weight   *float64      `yaml:"weight"`
	Function Function      `yaml:"function"`
	Demand   *topo.Bitrate `yaml:"demand"`
}

// Admission is the policy's admission: section (docs/admission.md,
// "Parameters and defaults").
type Admission struct {
	// EFShare is admission.Params.EFShare: 0 < share ≤ 1 (default 0.5).
	EFShare float64 `yaml:"ef_share"`
	// SwitchLatency overrides the per-hop switch latency term of targets
	// (bmv2, tofino, sim): measured on the machine, see docs/labs.
	SwitchLatency map[string]topo.Duration `yaml:"switch_latency"`
	// CLTarget is admission.Params.CLTarget: the controlled-load target
	// utilisation, 0 < target ≤ 1 (default 0.9).
	CLTarget float64 `yaml:"cl_target"`
	// CLWindow is admission.Params.CLWindow: the window of the measured
	// controlled-load estimator (default 10s).
	CLWindow topo.Duration `yaml:"cl_window"`
}

// AdmissionParams are the admission parameters the policy sets, the
// defaults elsewhere.
func (p *Policy) AdmissionParams() admission.Params {
	ap := admission.DefaultParams()
	if p.Admission.EFShare != 0 {
		ap.EFShare = p.Admission.EFShare
	}
	if p.Admission.CLTarget != 0 {
		ap.CLTarget = p.Admission.CLTarget
	}
	if p.Admission.CLWindow != 0 {
		ap.CLWindow = time.Duration(p.Admission.CLWindow)
	}
	if len(p.Admission.SwitchLatency) > 0 {
		ap.SwitchLatency = maps.Clone(admission.DefaultSwitchLatency)
		for t, d := range p.Admission.SwitchLatency {
			ap.SwitchLatency[topo.Target(t)] = time.Duration(d)
		}
	}
	return ap
}

// Allocation is the policy's allocation section: objective maxmin (the
// default: BwE's hierarchical weighted max-min) or alpha-fair with alpha
// (0 to allocator.MaxAlpha). With alpha-fair, each flow group's α-fair
// weight is the first slope of its bandwidth function as composed from the
// tenant hierarchy (docs/allocator.md, "Hierarchy"), and its cap the
// function's top and its demand.
type Allocation struct {
	Objective string   `yaml:"objective"`
	Alpha     *float64 `yaml:"alpha"`
}

// Routing says how forwarding state is derived from the topology.
type Routing struct {
	// Mode is "ecmp" (default: equal weights over equal-cost next hops),
	// "wcmp" (weights from the allocation) or "single" (one next hop, the
	// lowest port).
	Mode string `yaml:"mode"`
	// MaxPaths caps the equal-cost paths per flow group given to the
	// allocator (default 16).
	MaxPaths int `yaml:"max_paths"`
}

// LoadPolicy reads and checks a policy file. The file must be a regular
// file of at most inputfile.Policy.Limit() bytes (docs/policy.md, "Input
// limits").
func LoadPolicy(path string) (*Policy, error) {
	data, err := inputfile.Read(path, inputfile.Policy)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy decodes a policy and checks everything that does not need
// the topology or the P4Info. Invalid input yields Errors listing every
// problem.
func ParsePolicy(file string, data []byte) (*Policy, error) {
	doc, err := yamlerr.Parse(file, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{doc: doc}
	decodeErrs := doc.Decode(p)
	// Check what did decode too, so that one run reports everything; a
	// field that failed to decode has no follow-on errors.
	var errs Errors
	p.check(&errs)
	var resErrs Errors
	p.requests, resErrs = admission.Requests(doc, "reservations", p.Reservations)
	errs = append(errs, resErrs...)
	errs = append(decodeErrs, errs.Without(decodeErrs)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// Compile positions its errors through the document; the text is
	// enough for that and much lighter than the node tree.
	doc.Compact(data)
	return p, nil
}

// File is the policy's file name as given to ParsePolicy.
func (p *Policy) File() string { return p.doc.File }

func (p *Policy) errorf(path, format string, args ...any) *yamlerr.Error {
	return p.doc.Errorf(path, format, args...)
}

func (p *Policy) check(errs *Errors) {
	bad := func(path, format string, args ...any) {
		if len(*errs) <= yamlerr.MaxErrors { // a full list takes no more: skip positioning
			errs.Add(p.errorf(path, format, args...))
		}
	}
	// missing reports an absent required key; a key that is present but
	// did not decode has its own error already.
	missing := func(path, key, format string, args ...any) {
		if !p.doc.Has(yamlerr.Key(path, key)) {
			bad(path, format, args...)
		}
	}
	if a := p.Admission; a.EFShare < 0 || a.EFShare > 1 {
		bad("admission.ef_share", "ef_share %g: want 0 < share ≤ 1", a.EFShare)
	}
	if a := p.Admission; a.CLTarget < 0 || a.CLTarget > 1 {
		bad("admission.cl_target", "cl_target %g: want 0 < target ≤ 1", a.CLTarget)
	}

	for t := range p.Admission.SwitchLatency {
		switch topo.Target(t) {
		case topo.TargetBMv2, topo.TargetTofino, topo.TargetSim:
		default:
			bad(yamlerr.Key("admission.switch_latency", t), "unknown target %s (bmv2, tofino or sim)", yamlerr.Quote(t))
		}
	}
	switch p.Version {
	case 0:
		p.Version = 1
	case 1:
	default:
		bad("version", "expected version 1, got %d", p.Version)
	}
	switch p.ClassifyAt {
	case "":
		p.ClassifyAt = "edge"
	case "edge", "all":
	default:
		bad("classify_at", "expected edge or all, got %s", yamlerr.Quote(p.ClassifyAt))
	}
	names := map[string]string{}
	matchAll := []*Match{{}}
	for i, c := range p.Classes {
		path := yamlerr.Index("classes", i)
		if c == nil {
			bad(path, "expected a class mapping")
			continue
		}
		c.ID = i + 1 // class ids follow file order: stable and predictable
		if c.Name == "" {
			missing(path, "name", "missing name")
		} else if other, dup := names[c.Name]; dup {
			bad(path+".name", "duplicate class name %s (also %s)", yamlerr.Quote(c.Name), other)
		} else {
			names[c.Name] = path
		}
		if c.PHB.Name == "" {
			missing(path, "phb", "missing phb (EF, AF11..AF43, CS0..CS7 or DF)")
		}
		switch {
		case c.Precedence == 0:
			c.Precedence = DefaultPrecedence
		case c.Precedence < 1 || c.Precedence > MaxPrecedence:
			bad(path+".precedence", "expected a precedence 1..%d, got %d", MaxPrecedence, c.Precedence)
		}
		if len(c.Match) == 0 {
			// One shared match-everything list: nothing writes to it, and
			// a policy of many classes without matches costs less.
			c.Match = matchAll
		}
		for j, m := range c.Match {
			mp := yamlerr.Index(path+".match", j)
			if m == nil {
				c.Match[j] = &Match{}
				continue
			}
			checkMatch(m, mp, bad)
		}
		if len(c.Switches) > 1 {
			seenSw := make(map[string]bool, len(c.Switches))
			for j, s := range c.Switches {
				if seenSw[s] {
					bad(yamlerr.Index(path+".switches", j), "switch %s listed twice", yamlerr.Quote(s))
				}
				seenSw[s] = true
			}
		}
		if c.Meter != nil {
			checkMeter(c.Meter, path+".meter", bad, missing)
		}
		if c.Colors != nil && c.Meter == nil {
			bad(path+".colors", "colors need a meter: an unmetered class is always green")
		}
	}
	for k, q := range p.Queues.DSCP {
		kp := yamlerr.Key("queues.dscp", k)
		if _, err := ParseDSCP(k); err != nil {
			bad(kp, "%v", err)
		}
		if q < 0 || q >= NumQueues {
			bad(kp, "expected a queue 0..%d, got %d", NumQueues-1, q)
		}
	}
	for i, pq := range p.Queues.Ports {
		path := yamlerr.Index("queues.ports", i)
		if pq == nil {
			bad(path, "expected a mapping")
			continue
		}
		if pq.Queue != nil && (*pq.Queue < 0 || *pq.Queue >= NumQueues) {
			bad(path+".queue", "expected a queue 0..%d, got %d", NumQueues-1, *pq.Queue)
		}
		if pq.Port != nil && *pq.Port > topo.MaxPort {
			bad(path+".port", "expected a port 0..%d, got %d", topo.MaxPort, *pq.Port)
		}
		if pq.ECNThreshold == nil && pq.Rate == nil && pq.Depth == nil {
			bad(path, "nothing to set: expected ecn_threshold, rate or depth")
		}
		if pq.Rate != nil && *pq.Rate <= 0 {
			bad(path+".rate", "expected a rate > 0")
		}
	}
	fgNames := map[string]string{}
	tenantNames := map[string]string{}
	var walk func(ts []*Tenant, path string)
	walk = func(ts []*Tenant, path string) {
		for i, t := range ts {
			tp := yamlerr.Index(path, i)
			if t == nil {
				bad(tp, "expected a tenant mapping")
				continue
			}
			if t.Name == "" {
				missing(tp, "name", "missing name")
			} else if other, dup := tenantNames[t.Name]; dup {
				bad(tp+".name", "duplicate tenant name %s (also %s)", yamlerr.Quote(t.Name), other)
			} else {
				tenantNames[t.Name] = tp
			}
			checkShare(t.Weight, t.Function, t.Demand, tp, bad)
			if len(t.Children) == 0 && len(t.FlowGroups) == 0 {
				bad(tp, "tenant %s has neither children nor flow_groups", yamlerr.Quote(t.Name))
			}
			walk(t.Children, tp+".children")
			for j, fg := range t.FlowGroups {
				fp := yamlerr.Index(tp+".flow_groups", j)
				if fg == nil {
					bad(fp, "expected a flow group mapping")
					continue
				}
				if fg.Name == "" {
					missing(fp, "name", "missing name")
				} else if other, dup := fgNames[fg.Name]; dup {
					bad(fp+".name", "duplicate flow group name %s (also %s)", yamlerr.Quote(fg.Name), other)
				} else {
					fgNames[fg.Name] = fp
				}
				if fg.Src == "" {
					missing(fp, "src", "missing src (a host name)")
				}
				if fg.Dst == "" {
					missing(fp, "dst", "missing dst (a host name)")
				}
				if fg.Src != "" && fg.Src == fg.Dst {
					bad(fp+".dst", "src and dst are the same host %s", yamlerr.Quote(fg.Src))
				}
				checkShare(fg.Weight, fg.Function, fg.Demand, fp, bad)
			}
		}
	}
	walk(p.Tenants, "tenants")
	for i, c := range p.Classes {
		if c == nil || c.Meter == nil {
			continue
		}
		mp := yamlerr.Index("classes", i) + ".meter"
		if c.Meter.FlowGroup != "" && fgNames[c.Meter.FlowGroup] == "" {
			bad(mp+".flow_group", "unknown flow group %s", yamlerr.Quote(c.Meter.FlowGroup))
		}
		if c.Meter.Tenant != "" && tenantNames[c.Meter.Tenant] == "" {
			bad(mp+".tenant", "unknown tenant %s", yamlerr.Quote(c.Meter.Tenant))
		}
	}
	switch p.Routing.Mode {
	case "":
		p.Routing.Mode = "ecmp"
	case "ecmp", "wcmp", "single":
	default:
		bad("routing.mode", "expected ecmp, wcmp or single, got %s", yamlerr.Quote(p.Routing.Mode))
	}
	switch {
	case p.Routing.MaxPaths == 0:
		p.Routing.MaxPaths = 16
	case p.Routing.MaxPaths < 0 || p.Routing.MaxPaths > 1024:
		bad("routing.max_paths", "expected 1..1024, got %d", p.Routing.MaxPaths)
	}
	switch allocator.Objective(p.Allocation.Objective) {
	case "", allocator.MaxMin:
		if p.Allocation.Alpha != nil {
			bad("allocation.alpha", "alpha is only used with objective: alpha-fair")
		}
	case allocator.AlphaFairObjective:
		if a := p.Allocation.Alpha; a == nil {
			bad("allocation.objective", "alpha-fair needs alpha: a number from 0 to %d", allocator.MaxAlpha)
		} else if !(*a >= 0 && *a <= allocator.MaxAlpha) {
			bad("allocation.alpha", "expected a number from 0 to %d, got %v", allocator.MaxAlpha, *a)
		}
	default:
		bad("allocation.objective", "expected maxmin or alpha-fair, got %s%s", yamlerr.Quote(p.Allocation.Objective), yamlerr.Suggest(p.Allocation.Objective, allocator.Objectives))
	}
	if p.Routing.Mode == "wcmp" && len(fgNames) == 0 {
		bad("routing.mode", "wcmp takes its weights from the allocation, but no tenant has flow groups")
	}
}

func checkMatch(m *Match, path string, bad func(string, string, ...any)) {
	switch m.IPVersion {
	case 0, 4, 6:
	default:
		bad(path+".ip_version", "expected 4 or 6, got %d", m.IPVersion)
	}
	ver := func(a *Address) int {
		switch {
		case a == nil || !a.Prefix.IsValid():
			return 0
		case a.Prefix.Addr().Is4():
			return 4
		}
		return 6
	}
	vs, vd := ver(m.Src), ver(m.Dst)
	if vs != 0 && vd != 0 && vs != vd {
		bad(path, "src is IPv%d but dst is IPv%d: the match can never hit", vs, vd)
	}
	for _, v := range []struct {
		key string
		v   int
	}{{"src", vs}, {"dst", vd}} {
		if v.v != 0 && m.IPVersion != 0 && v.v != m.IPVersion {
			bad(path+"."+v.key, "an IPv%d prefix with ip_version %d can never hit", v.v, m.IPVersion)
		}
	}
	if m.IngressPort != nil && *m.IngressPort > topo.MaxPort {
		bad(path+".ingress_port", "expected a port 0..%d, got %d", topo.MaxPort, *m.IngressPort)
	}
	// The pipeline extracts ports from TCP and UDP only and uses 0
	// otherwise (docs/pipeline.md), so a port condition that excludes 0
	// cannot hit another protocol.
	if m.Protocol != nil && *m.Protocol != 6 && *m.Protocol != 17 {
		for _, pr := range []struct {
			key string
			r   *PortRange
		}{{"src_port", m.SrcPort}, {"dst_port", m.DstPort}} {
			if pr.r != nil && pr.r.Low > 0 {
				bad(path+"."+pr.key, "protocol %d has no ports (the pipeline reads TCP and UDP ports only), so port %s can never hit", *m.Protocol, pr.r)
			}
		}
	}
}

func checkMeter(m *Meter, path string, bad func(string, string, ...any), missing func(string, string, string, ...any)) {
	switch m.From {
	case "":
		if m.CIR == nil {
			missing(path, "cir", "missing cir (or from: allocator)")
		}
		if m.FlowGroup != "" || m.Tenant != "" {
			bad(path, "flow_group and tenant need from: allocator")
		}
	case "allocator":
		if m.CIR != nil {
			bad(path+".cir", "cir comes from the allocator; leave it out or drop from: allocator")
		}
		if (m.FlowGroup == "") == (m.Tenant == "") {
			bad(path, "from: allocator needs exactly one of flow_group or tenant")
		}
	default:
		bad(path+".from", "expected allocator, got %s", yamlerr.Quote(m.From))
	}
	if m.CIR != nil && m.PIR != nil && *m.PIR < *m.CIR {
		bad(path+".pir", "pir %s is below cir %s (RFC 2698 needs PIR ≥ CIR)", *m.PIR, *m.CIR)
	}
	if m.CBS != nil && *m.CBS == 0 {
		bad(path+".cbs", "expected a burst > 0 (RFC 2698: at least the largest packet)")
	}
	if m.PBS != nil && *m.PBS == 0 {
		bad(path+".pbs", "expected a burst > 0 (RFC 2698: at least the largest packet)")
	}
}

func checkShare(w *float64, f Function, d *topo.Bitrate, path string, bad func(string, string, ...any)) {
	if w != nil && f != nil {
		bad(path, "give weight or function, not both")
	}
	if w != nil && *w <= 0 {
		bad(path+".weight", "expected a weight > 0, got %g", *w)
	}
	_ = d // a demand of 0 is legal: the group gets nothing
}
