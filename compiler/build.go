package compiler

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
)

// trustPriority beats every class: packets arriving from another switch
// were classified at the edge of the DiffServ domain and keep their DSCP
// (RFC 2475 §2.3.4: interior nodes select the PHB from the DSCP).
const trustPriority = MaxPrecedence + 1

// entityBuilder accumulates one switch's entities by phase.
type switchEntities struct {
	members, groups, classifier, reservation, color, phb, v4, v6, ecn, meters, defaults []*p4v1.Entity
}

func (se *switchEntities) ordered() []*p4v1.Entity {
	parts := [][]*p4v1.Entity{se.members, se.groups, se.classifier, se.reservation, se.color, se.phb, se.v4, se.v6, se.ecn, se.meters, se.defaults}
	n := 0
	for _, part := range parts {
		n += len(part)
	}
	out := make([]*p4v1.Entity, 0, n)
	for _, part := range parts {
		out = append(out, part...)
	}
	return out
}

// internal reports a builder failure on values Compile already checked: a
// bug, or a P4Info whose widths differ from the contract.
func internal(what string, err error) error {
	return fmt.Errorf("compile: building %s: %w", what, err)
}

func (c *compilation) build() error {
	per := make([]switchEntities, len(c.t.Switches))

	if err := c.buildClasses(per); err != nil {
		return err
	}
	if err := c.buildReservations(per); err != nil {
		return err
	}
	// DSCP → queue: all 64 codepoints, so no packet relies on the table's
	// default (queue 0, the lowest).
	queue := c.queueMap()
	phb := make([]*p4v1.Entity, 64)
	for d := 0; d < 64; d++ {
		te, err := c.s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, d)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, queue[d])))
		if err != nil {
			return internal("phb entry", err)
		}
		phb[d] = tables.EntityOf(te)
	}
	for i := range per {
		per[i].phb = phb
	}
	for i, cl := range c.p.Classes {
		ci := &c.res.Classes[i]
		ci.Queue = uint8(queue[cl.PHB.DSCP])
	}
	c.mark("classes")
	if !c.cfg.loopOnly || c.p.Routing.Mode == "wcmp" {
		if err := c.buildRoutes(per); err != nil {
			return err
		}
	}
	c.mark("routes")
	if err := c.buildQueues(per); err != nil {
		return err
	}
	def, err := c.s.TableEntry(contract.Classifier, nil, tables.Action(contract.SetDefaultClass), tables.AsDefault())
	if err != nil {
		return internal("classifier default", err)
	}
	for i, sw := range c.t.Switches {
		per[i].defaults = append(per[i].defaults, tables.EntityOf(def))
		c.checkSize(sw.Name, contract.Classifier, len(per[i].classifier), "classes")
		c.checkSize(sw.Name, contract.ColorAction, len(per[i].color), "classes")
		c.checkSize(sw.Name, contract.Reservation, len(per[i].reservation), "reservations")
		c.checkSize(sw.Name, contract.IPv4LPM, len(per[i].v4), "")
		c.checkSize(sw.Name, contract.IPv6LPM, len(per[i].v6), "")
		c.checkSize(sw.Name, contract.ECNThreshold, len(per[i].ecn), "queues.ports")
		c.res.Switches[sw.Name] = per[i].ordered()
	}
	return nil
}

func (c *compilation) checkSize(sw, table string, n int, path string) {
	if size := c.pl.sizes[table]; size > 0 && int64(n) > size {
		c.bad(path, "switch %s needs %d %s entries, but the table holds %d", yamlerr.Quote(sw), n, table, size)
		if table == contract.Reservation && c.full == nil {
			c.full = &TableFullError{Switch: sw, Table: table, Need: int64(n), Size: size}
		}
	}
}

// TableFullError is Compile's error when the reservations put more
// entries on a switch than its reservation table holds (the size its
// P4Info declares): the daemon refuses the request that does it, naming
// the switch and the table, rather than install part of it. It is the
// compilation's whole error list (yamlerr.List, positioned) with the first
// full switch's numbers.
type TableFullError struct {
	Errors
	Switch, Table string
	Need, Size    int64
}

func (e *TableFullError) Error() string { return e.Errors.Error() }

// Unwrap gives the error list (errors.As finds the yamlerr.List).
func (e *TableFullError) Unwrap() error { return e.Errors }

func (c *compilation) queueMap() [64]int {
	var q [64]int
	for d := range q {
		q[d] = int(c.p.Queue(DSCP(d)))
	}
	return q
}

// Queue is the egress queue the policy's DSCP → queue map (DefaultQueue
// with the queues.dscp overrides) gives codepoint d: what the phb table
// sends it to on every switch. The daemon measures controlled-load
// admission on the queue of AF41 (docs/admission.md).
func (p *Policy) Queue(d DSCP) uint8 {
	q := DefaultQueue(d)
	keys := make([]string, 0, len(p.Queues.DSCP))
	for k := range p.Queues.DSCP {
		keys = append(keys, k)
	}
	sort.Strings(keys) // as written twice ("EF" and "46"), the last in order wins
	for _, k := range keys {
		if x, err := ParseDSCP(k); err == nil && x == d {
			q = uint8(p.Queues.DSCP[k])
		}
	}
	return q
}

// ternaryPrefix matches a prefix as value/mask. Masks are shared per
// length (read-only).
func (c *compilation) ternaryPrefix(field string, p netip.Prefix) tables.Match {
	a := p.Addr()
	fam := 0
	if a.Is6() {
		fam = 1
	}
	mask := c.masks[fam][p.Bits()]
	if mask == nil {
		mask = make([]byte, a.BitLen()/8)
		for i := 0; i < p.Bits(); i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		c.masks[fam][p.Bits()] = mask
	}
	return tables.Ternary(field, a.AsSlice(), mask)
}

func (c *compilation) classifierEntry(t *term, cl *Class) (*p4v1.Entity, error) {
	ms := make([]tables.Match, 0, 8)
	if t.port >= 0 {
		ms = append(ms, tables.Ternary(contract.KeyIngressPort, int(t.port), 0x1ff))
	}
	if t.ver != 0 {
		ms = append(ms, tables.Ternary(contract.KeyIPVersion, int(t.ver), 0xf))
	}
	srcField, dstField := contract.KeyIPv4Src, contract.KeyIPv4Dst
	if t.ver == 6 {
		srcField, dstField = contract.KeyIPv6Src, contract.KeyIPv6Dst
	}
	if t.src.IsValid() && t.src.Bits() > 0 {
		ms = append(ms, c.ternaryPrefix(srcField, t.src))
	}
	if t.dst.IsValid() && t.dst.Bits() > 0 {
		ms = append(ms, c.ternaryPrefix(dstField, t.dst))
	}
	if t.proto >= 0 {
		ms = append(ms, tables.Ternary(contract.KeyIPProto, int(t.proto), 0xff))
	}
	if t.sport != fullRange {
		ms = append(ms, tables.Range(contract.KeyL4SrcPort, int(t.sport.Low), int(t.sport.High)))
	}
	if t.dport != fullRange {
		ms = append(ms, tables.Range(contract.KeyL4DstPort, int(t.dport.Low), int(t.dport.High)))
	}
	if t.dscp >= 0 {
		ms = append(ms, tables.Ternary(contract.KeyDSCP, int(t.dscp), 0x3f))
	}
	act := tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, cl.ID), tables.Param(contract.ParamDSCP, int(cl.PHB.DSCP)))
	if cl.TrustDSCP {
		act = tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, cl.ID))
	}
	te, err := c.s.TableEntry(contract.Classifier, ms, act, tables.Priority(int32(cl.Precedence)))
	if err != nil {
		return nil, err
	}
	return tables.EntityOf(te), nil
}

func (c *compilation) buildClasses(per []switchEntities) error {
	c.res.Classes = make([]ClassInfo, len(c.p.Classes))
	for i, cl := range c.p.Classes {
		info := ClassInfo{Name: cl.Name, ID: cl.ID, PHB: cl.PHB.Name, DSCP: cl.PHB.DSCP, Precedence: cl.Precedence, TrustDSCP: cl.TrustDSCP}
		for si, sw := range c.t.Switches {
			if c.sets[i].has(si) {
				info.Switches = append(info.Switches, sw.Name)
			}
		}
		c.res.Classes[i] = info
	}
	// Classifier entries, in class order (then match order).
	for ti := range c.terms {
		t := &c.terms[ti]
		cl := c.p.Classes[t.class]
		e, err := c.classifierEntry(t, cl)
		if err != nil {
			return internal(fmt.Sprintf("classifier entry of class %s", yamlerr.Quote(cl.Name)), err)
		}
		set := c.sets[t.class]
		for si := range per {
			if set.has(si) {
				per[si].classifier = append(per[si].classifier, e)
			}
		}
	}
	// On edge switches, packets from fabric ports are trusted.
	if c.p.ClassifyAt == "edge" {
		for si, sw := range c.t.Switches {
			if !c.edge.has(si) {
				continue
			}
			var trust []*p4v1.Entity
			for _, e := range c.t.Edges(sw.Name) {
				if e.ToHost {
					continue
				}
				te, err := c.s.TableEntry(contract.Classifier,
					[]tables.Match{tables.Ternary(contract.KeyIngressPort, int(e.FromPort), 0x1ff)},
					tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, 0)), tables.Priority(trustPriority))
				if err != nil {
					return internal("fabric-port trust entry", err)
				}
				trust = append(trust, tables.EntityOf(te))
			}
			per[si].classifier = append(trust, per[si].classifier...)
		}
	}
	// Meters and color handling.
	for i, cl := range c.p.Classes {
		if cl.Meter == nil {
			continue
		}
		path := yamlerr.Index("classes", i) + ".meter"
		m := cl.Meter
		var cir, pir float64
		if m.From == "allocator" {
			if m.FlowGroup != "" {
				cir = c.fgRate[m.FlowGroup]
			} else {
				cir = c.tRate[m.Tenant]
			}
			pir = cir
			if m.PIR != nil {
				pir = math.Max(float64(*m.PIR), cir)
			}
		} else {
			cir = float64(*m.CIR)
			pir = cir
			if m.PIR != nil {
				pir = float64(*m.PIR)
			}
		}
		cfg := MeterConfigFor(cir, pir, m.CBS, m.PBS)
		c.res.Classes[i].Meter = cfg
		me, err := c.s.MeterEntry(contract.ClassMeter, int64(cl.ID), cfg)
		if err != nil {
			c.bad(path, "the meter configuration is out of range for the pipeline: %v", err)
			continue
		}
		yellow, red := defaultColors(cl.PHB)
		if cl.Colors != nil {
			if cl.Colors.Yellow != nil {
				yellow = *cl.Colors.Yellow
			}
			if cl.Colors.Red != nil {
				red = *cl.Colors.Red
			}
		}
		var colorEntries []*p4v1.Entity
		for _, ca := range []struct {
			color int
			act   ColorAction
		}{{1, yellow}, {2, red}} {
			var act tables.ActionCall
			switch {
			case ca.act.Drop:
				act = tables.Action(contract.Drop)
			case ca.act.Remark != nil:
				act = tables.Action(contract.RemarkDSCP, tables.Param(contract.ParamDSCP, int(*ca.act.Remark)))
			default:
				continue
			}
			te, err := c.s.TableEntry(contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, cl.ID), tables.Exact(contract.KeyColor, ca.color)}, act)
			if err != nil {
				return internal(fmt.Sprintf("color entry of class %s", yamlerr.Quote(cl.Name)), err)
			}
			colorEntries = append(colorEntries, tables.EntityOf(te))
		}
		for si := range per {
			if c.sets[i].has(si) {
				per[si].meters = append(per[si].meters, tables.EntityOf(me))
				per[si].color = append(per[si].color, colorEntries...)
			}
		}
	}
	return nil
}

// nextHop is a set_next_hop action: the member's identity.
type nextHop struct {
	port uint32
	dmac topo.MAC
}

func (c *compilation) buildRoutes(per []switchEntities) error {
	// Each switch's routes depend only on the (read-only) topology, schema
	// and allocation, so the switches are shared among GOMAXPROCS workers:
	// at 2,000 switches × 200 hosts this phase was most of a controller's
	// start-up. Problems are kept per switch and reported in switch order,
	// as a serial loop would.
	type outcome struct {
		problems [][2]string // path, message
		err      error
	}
	routeKeys, err := c.routeKeys()
	if err != nil {
		return err
	}
	if c.cfg.routes != nil {
		c.cfg.routes.begin(c.routeContext())
	}
	outs := make([]outcome, len(c.t.Switches))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(c.t.Switches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				si := int(next.Add(1) - 1)
				if si >= len(c.t.Switches) {
					return
				}
				o := &outs[si]
				o.err = c.switchRoutes(c.t.Switches[si], &per[si], routeKeys, func(path, format string, args ...any) {
					o.problems = append(o.problems, [2]string{path, fmt.Sprintf(format, args...)})
				})
				if o.err != nil {
					// Later switches are not needed: the lowest failing
					// switch's error is returned.
					next.Store(int64(len(c.t.Switches)))
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, o := range outs {
		if o.err != nil {
			return o.err
		}
		for _, p := range o.problems {
			c.bad(p[0], "%s", p[1])
		}
	}
	return nil
}

// routeKey is the match of one route towards a host address, the same on
// every switch: built (and checked against the schema) once per address,
// not once per switch.
type routeKey struct {
	v6    bool
	table string
	match []tables.Match
	te    *p4v1.TableEntry // the key part only
}

// routeAction names a route's action on one switch: a next-hop member or
// group, in the IPv4 or IPv6 table.
type routeAction struct {
	v6, group bool
	id        uint32
}

// routeKeys builds the route matches of every host address.
func (c *compilation) routeKeys() (map[*topo.Host][]routeKey, error) {
	keys := make(map[*topo.Host][]routeKey, len(c.t.Hosts))
	for _, h := range c.t.Hosts {
		for _, ifc := range h.Addrs() {
			a := ifc.Addr()
			rk := routeKey{v6: a.Is6(), table: contract.IPv4LPM}
			field := contract.KeyIPv4Dst
			if rk.v6 {
				rk.table, field = contract.IPv6LPM, contract.KeyIPv6Dst
			}
			rk.match = []tables.Match{tables.LPM(field, netip.PrefixFrom(a, a.BitLen()).String())}
			te, err := c.s.TableEntry(rk.table, rk.match, nil)
			if err != nil {
				return nil, internal("route", err)
			}
			rk.te = te
			keys[h] = append(keys[h], rk)
		}
	}
	return keys, nil
}

// switchRoutes builds the routes, next-hop members and groups of one
// switch into its entities; bad reports a problem (it is called from one
// goroutine per switch, never concurrently for the same switch).
func (c *compilation) switchRoutes(sw *topo.Switch, per *switchEntities, routeKeys map[*topo.Host][]routeKey, bad func(path, format string, args ...any)) error {
	smac := sw.RouterMAC()
	routes := make([]route, 0, len(c.t.Hosts))
	// Most hosts have one address: room for it in the v4 table up front.
	per.v4 = slices.Grow(per.v4, len(c.t.Hosts))
	used := map[nextHop]bool{}
	// input is everything this switch's routes are built from beyond the
	// route cache's context (RouteCache): its router MAC and, per host,
	// the next hops the routes use.
	rc := c.cfg.routes
	var input []byte
	problems := false
	if rc != nil {
		input = append(make([]byte, 0, 16*len(c.t.Hosts)), smac[:]...)
	}
	for hi, h := range c.t.Hosts {
		hops, err := c.t.NextHops(sw.Name, h.Name)
		if err != nil {
			return internal("routes", err)
		}
		if len(hops) == 0 {
			continue // unreachable: the topology check makes this rare
		}
		r := route{host: h, hops: hops}
		switch c.p.Routing.Mode {
		case "single":
			r.hops = hops[:1]
		case "wcmp":
			r.hops, r.weights = wcmpWeights(hops, c.wcmp[sw.Name][h.Name], c.pl.maxGroupSize)
		}
		if len(r.hops) > c.pl.maxGroupSize {
			bad("routing", "switch %s has %d equal-cost next hops to %s, more than the selector's group size %d", yamlerr.Quote(sw.Name), len(r.hops), yamlerr.Quote(h.Name), c.pl.maxGroupSize)
			problems = true
			continue
		}
		if rc != nil {
			input = binary.AppendUvarint(input, uint64(hi))
			input = binary.AppendUvarint(input, uint64(len(r.hops)))
		}
		for i, e := range r.hops {
			nh := nextHop{e.FromPort, c.t.PeerMAC(e)}
			used[nh] = true
			if rc != nil {
				w := 1
				if r.weights != nil {
					w = r.weights[i]
				}
				input = appendRouteHop(input, nh, w)
			}
		}
		routes = append(routes, r)
	}
	before := [4]int{len(per.members), len(per.groups), len(per.v4), len(per.v6)}
	if rc != nil && !problems && rc.take(sw.Name, input, per) {
		return nil
	}
	if err := c.buildSwitchRoutes(sw, smac, per, routes, used, routeKeys); err != nil {
		return err
	}
	if rc != nil {
		rc.put(sw.Name, input, per, before, !problems)
	}
	return nil
}

// route is one host's route on a switch: the next hops it uses, with
// their weights (wcmp).
type route struct {
	host    *topo.Host
	hops    []topo.Edge
	weights []int
}

// buildSwitchRoutes builds a switch's next-hop members (those used),
// groups and LPM routes.
func (c *compilation) buildSwitchRoutes(sw *topo.Switch, smac topo.MAC, per *switchEntities, routes []route, used map[nextHop]bool, routeKeys map[*topo.Host][]routeKey) error {
	// Each distinct next hop's action, as the schema built it for the
	// first route that used it.
	actions := map[routeAction]*p4v1.TableAction{}
	// Member ids in (port, MAC) order, so they are stable.
	var nhs []nextHop
	for nh := range used {
		nhs = append(nhs, nh)
	}
	sort.Slice(nhs, func(i, j int) bool {
		if nhs[i].port != nhs[j].port {
			return nhs[i].port < nhs[j].port
		}
		return string(nhs[i].dmac[:]) < string(nhs[j].dmac[:])
	})
	memberID := map[nextHop]uint32{}
	for i, nh := range nhs {
		id := uint32(i + 1)
		memberID[nh] = id
		m, err := c.s.ActionProfileMember(c.pl.selector, id, tables.Action(contract.SetNextHop,
			tables.Param(contract.ParamPort, int(nh.port)), tables.Param(contract.ParamSMAC, smac[:]), tables.Param(contract.ParamDMAC, nh.dmac[:])))
		if err != nil {
			return internal("next-hop member", err)
		}
		per.members = append(per.members, tables.EntityOf(m))
	}
	groupID := map[string]uint32{}
	for _, r := range routes {
		var ref tables.EntryAction
		var rk routeAction
		if len(r.hops) == 1 {
			rk.id = memberID[nextHop{r.hops[0].FromPort, c.t.PeerMAC(r.hops[0])}]
			ref = tables.Member(rk.id)
		} else {
			members := make([]tables.GroupMember, len(r.hops))
			var key strings.Builder
			for i, e := range r.hops {
				w := 1
				if r.weights != nil {
					w = r.weights[i]
				}
				members[i] = tables.GroupMember{ID: memberID[nextHop{e.FromPort, c.t.PeerMAC(e)}], Weight: int32(w)}
				if c.cfg.watchPorts {
					members[i].WatchPort = big.NewInt(int64(e.FromPort)).Bytes()
				}
				fmt.Fprintf(&key, "%d*%d,", members[i].ID, w)
			}
			id, ok := groupID[key.String()]
			if !ok {
				id = uint32(len(groupID) + 1)
				groupID[key.String()] = id
				g, err := c.s.ActionProfileGroup(c.pl.selector, id, members, int32(c.pl.maxGroupSize))
				if err != nil {
					return internal("ECMP group", err)
				}
				per.groups = append(per.groups, tables.EntityOf(g))
			}
			ref, rk = tables.Group(id), routeAction{group: true, id: id}
		}
		for _, rt := range routeKeys[r.host] {
			rk.v6 = rt.v6
			var te *p4v1.TableEntry
			if act := actions[rk]; act != nil {
				// The same match and action as TableEntry builds, shared
				// (entities are never changed once built).
				te = &p4v1.TableEntry{TableId: rt.te.TableId, Match: rt.te.Match, Priority: rt.te.Priority, Action: act}
			} else {
				var err error
				if te, err = c.s.TableEntry(rt.table, rt.match, ref); err != nil {
					return internal("route", err)
				}
				actions[rk] = te.Action
			}
			if !rt.v6 {
				per.v4 = append(per.v4, tables.EntityOf(te))
			} else {
				per.v6 = append(per.v6, tables.EntityOf(te))
			}
		}
	}
	return nil
}

// wcmpWeights turns allocated rates per egress port into member weights
// summing to at most maxSum, with the allocator's quantisation
// (allocator.QuantizeWeights: B4 §4.3, the smallest maximum deviation from
// the rate shares). Next hops without allocated traffic are left out; when
// no traffic is allocated towards the destination at all, every next hop
// gets weight 1 (ECMP).
func wcmpWeights(hops []topo.Edge, rates map[uint32]float64, maxSum int) ([]topo.Edge, []int) {
	ratios := make([]float64, len(hops))
	for i, e := range hops {
		ratios[i] = rates[e.FromPort]
	}
	q, err := allocator.QuantizeWeights(ratios, maxSum)
	if err != nil {
		return hops, nil // no traffic (or nothing to quantise): plain ECMP
	}
	var out []topo.Edge
	var ws []int
	for i, w := range q.Weights {
		if w > 0 {
			out = append(out, hops[i])
			ws = append(ws, w)
		}
	}
	if len(out) == 0 {
		return hops, nil
	}
	return out, ws
}

func (c *compilation) buildQueues(per []switchEntities) error {
	type key struct {
		sw    string
		port  uint32
		queue int
	}
	thresholds := map[key]uint32{}
	settings := map[key]*QueueSetting{}
	var order []key
	for _, pq := range c.p.Queues.Ports {
		queues := []int{0, 1, 2, 3, 4, 5, 6, 7}
		if pq.Queue != nil {
			queues = []int{*pq.Queue}
		}
		for _, pr := range c.portTargets(pq) {
			for _, q := range queues {
				k := key{pr.sw, pr.port, q}
				if _, seen := thresholds[k]; !seen && settings[k] == nil {
					order = append(order, k)
				}
				if pq.ECNThreshold != nil {
					thresholds[k] = *pq.ECNThreshold // a later setting wins
				}
				if pq.Rate != nil || pq.Depth != nil {
					s := settings[k]
					if s == nil {
						s = &QueueSetting{Switch: k.sw, Port: k.port, Queue: q}
						settings[k] = s
					}
					if pq.Rate != nil {
						s.Rate = float64(*pq.Rate)
					}
					if pq.Depth != nil {
						s.Depth = *pq.Depth
					}
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if c.swIdx[a.sw] != c.swIdx[b.sw] {
			return c.swIdx[a.sw] < c.swIdx[b.sw]
		}
		if a.port != b.port {
			return a.port < b.port
		}
		return a.queue < b.queue
	})
	for _, k := range order {
		if th, ok := thresholds[k]; ok {
			te, err := c.s.TableEntry(contract.ECNThreshold,
				[]tables.Match{tables.Exact(contract.KeyEgressPort, int(k.port)), tables.Exact(contract.KeyQueue, k.queue)},
				tables.Action(contract.SetECNThreshold, tables.Param(contract.ParamThreshold, c.ecnDepth(th))))
			if err != nil {
				return internal("ecn_threshold entry", err)
			}
			si := c.swIdx[k.sw]
			per[si].ecn = append(per[si].ecn, tables.EntityOf(te))
		}
		if s := settings[k]; s != nil {
			c.res.QueueSettings = append(c.res.QueueSettings, *s)
		}
	}
	return nil
}
