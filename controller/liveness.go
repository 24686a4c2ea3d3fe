package controller

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/topo"
)

// Link liveness (docs/controller.md, "Link liveness"): every probe interval
// the controller sends a probe out of both ends of every fabric link as a
// PacketOut; the switch at the other end punts it back as a PacketIn
// (EtherType contract.ProbeEtherType). A link whose probes go unanswered for
// K rounds in a row is down; a down link whose probes come back for M rounds
// in a row is up again. Down links are taken out of the compiled topology
// (routes, ECMP/WCMP groups, the allocation problem) without touching the
// topology file.

// linkHealth is the hysteresis of one link: the pure state machine the
// monitor feeds one observation per round.
type linkHealth struct {
	down         bool
	misses, hits int
	// armed: the link answered at least once. A link that never answered
	// is not declared down: its switches may lack packet I/O (no CPU port,
	// or a target that does not punt), which says nothing about the cable.
	armed bool
}

// observe records one round (answered or not) and reports whether the
// link changed state; k misses take it down, m answers bring it back.
func (h *linkHealth) observe(answered bool, k, m int) (changed bool) {
	if answered {
		h.armed = true
	}
	switch {
	case !h.down && answered:
		h.misses = 0
	case !h.down && h.armed:
		if h.misses++; h.misses >= k {
			h.down, h.misses, h.hits = true, 0, 0
			return true
		}
	case h.down && answered:
		if h.hits++; h.hits >= m {
			h.down, h.misses, h.hits = false, 0, 0
			return true
		}
	case h.down:
		h.hits = 0
	}
	return false
}

// probe is what a probe frame carries: who sent it, from which port, in
// which round, for which controller.
type probe struct {
	controller uint64 // this controller's random id: others' probes are not ours
	round      uint64
	from       topo.Endpoint
}

const probeMagic = "p4qosprb"

// probeDst is the destination MAC of probes: the IEEE 802.1D nearest-bridge
// group address LLDP uses, which bridges never forward.
var probeDst = []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

func (p probe) frame(src topo.MAC) []byte {
	b := append([]byte{}, probeDst...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, contract.ProbeEtherType)
	b = append(b, probeMagic...)
	b = binary.BigEndian.AppendUint64(b, p.controller)
	b = binary.BigEndian.AppendUint64(b, p.round)
	b = binary.BigEndian.AppendUint16(b, uint16(p.from.Port))
	b = append(b, byte(len(p.from.Switch)))
	return append(b, p.from.Switch...)
}

var errNotProbe = errors.New("not a p4qos probe")

func parseProbe(b []byte) (probe, error) {
	const fixed = 14 + len(probeMagic) + 8 + 8 + 2 + 1
	if len(b) < fixed || binary.BigEndian.Uint16(b[12:14]) != contract.ProbeEtherType || string(b[14:14+len(probeMagic)]) != probeMagic {
		return probe{}, errNotProbe
	}
	b = b[14+len(probeMagic):]
	p := probe{controller: binary.BigEndian.Uint64(b), round: binary.BigEndian.Uint64(b[8:])}
	p.from.Port = uint32(binary.BigEndian.Uint16(b[16:]))
	n := int(b[18])
	if len(b) < 19+n {
		return probe{}, errNotProbe
	}
	p.from.Switch = string(b[19 : 19+n])
	return p, nil
}

// Liveness defaults.
const (
	DefaultProbeInterval = 100 * time.Millisecond
	DefaultProbeMisses   = 3
	DefaultProbeRecover  = 3
	MinProbeInterval     = time.Millisecond
)

// monitoredLink is one fabric link under watch.
type monitoredLink struct {
	link   *topo.Link
	health linkHealth
	// sent and heard are, per direction (0: A→B, 1: B→A), the last round
	// whose probe went out, and the last round whose probe came back.
	sent, heard [2]uint64
	// sentFrom is, per direction, the first round of the unbroken run of
	// rounds whose probe went out that ends at sent (0: none): round r
	// was sent when sentFrom ≤ r ≤ sent.
	sentFrom [2]uint64
	// judged is the last round judged on this link.
	judged uint64
}

// wasSent reports whether both probes of round r went out.
func (ml *monitoredLink) wasSent(r uint64) bool {
	for dir := range 2 {
		if ml.sentFrom[dir] == 0 || r < ml.sentFrom[dir] || r > ml.sent[dir] {
			return false
		}
	}
	return true
}

// linkMonitor probes the fabric's links and tells the controller when one
// goes down or comes back.
type linkMonitor struct {
	c        *Controller
	interval time.Duration
	k, m     int
	id       uint64

	mu      sync.Mutex
	round   uint64
	intent  *topo.Topology // the topology the links below come from
	links   map[string]*monitoredLink
	byEnd   map[topo.Endpoint]*monitoredLink
	unknown map[string]bool // links seen by probes, not in the topology, reported
	codecs  map[string]*controlplane.PacketCodec
	// sentAt holds, per recent round, when its probes started going out.
	sentAt map[uint64]time.Time
	// ends counts the probed links of each switch; lastIn and lastOut are,
	// per switch, the latest round of a probe heard at it and of one it
	// sent that was heard anywhere: how far its packet-in and packet-out
	// paths have delivered (lost).
	ends            map[string]int
	lastIn, lastOut map[string]uint64
	// srtt and rttvar estimate the probes' round-trip time and its
	// variation from every reply (as TCP does, RFC 6298).
	srtt, rttvar time.Duration
	// converged are the switches reconciled once: a link is probed only
	// once both its ends are. Before, its probes could only verify it,
	// and at start-up they cost as much as the reconciles they competed
	// with (2,000 switches: ~78k packet-outs and as many packet-ins a
	// second at the default interval, for the seconds every switch is
	// being read).
	converged map[string]bool
	// changes are verdicts not yet applied; kick (capacity 1) wakes the
	// goroutine that applies them, so that a recompilation never delays
	// the probes, and verdicts reached while one runs share the next.
	changes []linkChange
	kick    chan struct{}
	// lateWarned is when a round's sending last took longer than the
	// interval and was logged (tick's goroutine only).
	lateWarned time.Time
}

// lateWarnEvery spaces the warnings that probe rounds fall behind.
const lateWarnEvery = time.Minute

func newLinkMonitor(c *Controller) *linkMonitor {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &linkMonitor{c: c, interval: c.cfg.ProbeInterval, k: c.cfg.ProbeMisses, m: c.cfg.ProbeRecover,
		id: binary.BigEndian.Uint64(id[:]), unknown: map[string]bool{}, kick: make(chan struct{}, 1), sentAt: map[uint64]time.Time{},
		lastIn: map[string]uint64{}, lastOut: map[string]uint64{}, converged: map[string]bool{}}
}

// switchConverged records that sw was reconciled: its links are probed
// from the next round on (once their other end is too).
func (lm *linkMonitor) switchConverged(sw string) {
	lm.mu.Lock()
	lm.converged[sw] = true
	lm.mu.Unlock()
}

// sync (re)builds the monitored links when the intent topology changed,
// keeping the state of links that stayed. Called with mu held.
func (lm *linkMonitor) syncLinks(f *Fabric) {
	if lm.intent == f.intent {
		return
	}
	old := lm.links
	lm.intent, lm.links, lm.byEnd = f.intent, map[string]*monitoredLink{}, map[topo.Endpoint]*monitoredLink{}
	lm.codecs = map[string]*controlplane.PacketCodec{}
	for _, sw := range f.switches {
		if codec, err := controlplane.NewPacketCodec(f.Driver(sw.Name).Schema().P4Info()); err == nil {
			lm.codecs[sw.Name] = codec
		}
	}
	lm.ends = map[string]int{}
	for _, l := range f.intent.Links {
		if l.Down { // down in the file: out of service by intent, not probed
			continue
		}
		lm.ends[l.A.Switch]++
		lm.ends[l.B.Switch]++
		ml := old[l.Name()]
		if ml == nil {
			ml = &monitoredLink{judged: lm.round}
			// A link the compiled topology holds down (it was down before
			// the file took it out of service and back) starts down, so
			// that its answers can bring it back.
			ml.health.down, ml.health.armed = f.failed[l.Name()], f.failed[l.Name()]
		}
		ml.link = l
		lm.links[l.Name()] = ml
		lm.byEnd[l.A], lm.byEnd[l.B] = ml, ml
	}
}

// lost reports whether the probes of round r that ml is missing are lost
// rather than late: for each missing direction, the sender's packet-out
// path and the receiver's packet-in path have both delivered a probe of a
// later round since. Both paths are FIFO (the controller's stream to the
// sender, the sender's agent, the receiver's queue and stream back), so a
// probe behind one that came through is gone. A path of a switch with
// only one probed link is not asked: its only probes are those of the
// link in question. Called with mu held.
func (lm *linkMonitor) lost(ml *monitoredLink, r uint64) bool {
	for dir, ends := range [2][2]string{{ml.link.A.Switch, ml.link.B.Switch}, {ml.link.B.Switch, ml.link.A.Switch}} {
		from, to := ends[0], ends[1]
		if ml.heard[dir] >= r {
			continue
		}
		if lm.ends[from] > 1 && lm.lastOut[from] <= r || lm.ends[to] > 1 && lm.lastIn[to] <= r {
			return false
		}
	}
	return true
}

// run probes every interval until ctx ends.
func (lm *linkMonitor) run(ctx context.Context) {
	go lm.applyChanges(ctx)
	t := time.NewTicker(lm.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lm.tick(ctx)
		}
	}
}

// applyChanges applies the monitor's verdicts until ctx ends: all those
// pending in one recompilation (Controller.setLinksDown).
func (lm *linkMonitor) applyChanges(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-lm.kick:
		}
		lm.mu.Lock()
		changes := lm.changes
		lm.changes = nil
		lm.mu.Unlock()
		if len(changes) > 0 {
			lm.c.setLinksDown(ctx, changes)
		}
	}
}

// maxReplyTimeout bounds the reply timeout, in probe intervals: a fabric so
// loaded that probes take longer still detects failures, late.
const maxReplyTimeout = 20

// replyTimeout is how long after a round went out its replies are awaited:
// srtt + 4·rttvar (RFC 6298's RTO), at least one probe interval and at most
// maxReplyTimeout. On an idle fabric it is the interval, so a round is
// judged at the next tick; when replies come back late because the
// controller or the switches are starved of CPU, it grows with them, and a
// late reply is not mistaken for a lost one.
func (lm *linkMonitor) replyTimeout() time.Duration {
	return min(max(lm.srtt+4*lm.rttvar, lm.interval), maxReplyTimeout*lm.interval)
}

// observeRTT feeds one reply's round-trip time to the estimate. Called
// with mu held.
func (lm *linkMonitor) observeRTT(rtt time.Duration) {
	if lm.srtt == 0 {
		lm.srtt, lm.rttvar = rtt, rtt/2
		return
	}
	lm.rttvar += (max(lm.srtt-rtt, rtt-lm.srtt) - lm.rttvar) / 4
	lm.srtt += (rtt - lm.srtt) / 8
}

// tick judges the rounds whose reply timeout has passed and sends the next
// one.
func (lm *linkMonitor) tick(ctx context.Context) {
	f := lm.c.Fabric()
	lm.mu.Lock()
	lm.syncLinks(f)
	now := time.Now()
	timeout, limit := lm.replyTimeout(), maxReplyTimeout*lm.interval
	for _, ml := range lm.links {
		lm.judge(ml, now, timeout, limit)
	}
	// Send times are kept a while after the judgement, so that replies
	// later than the timeout still feed the estimate (and raise it).
	for r, at := range lm.sentAt {
		if now.Sub(at) > 2*limit {
			delete(lm.sentAt, r)
		}
	}
	lm.round++
	lm.sentAt[lm.round] = now
	type out struct {
		ml  *monitoredLink
		dir int
		po  *p4v1.PacketOut
		sw  string
	}
	var outs []out
	for _, ml := range lm.links {
		if !lm.converged[ml.link.A.Switch] || !lm.converged[ml.link.B.Switch] {
			// Not probed this round: as for a probe that could not be
			// sent, the rounds it skips are never judged.
			ml.sentFrom = [2]uint64{}
			continue
		}
		for dir, end := range []topo.Endpoint{ml.link.A, ml.link.B} {
			codec := lm.codecs[end.Switch]
			sw, ok := f.topology.Switch(end.Switch)
			if codec == nil || !ok {
				continue
			}
			p := probe{controller: lm.id, round: lm.round, from: end}
			po, err := codec.EncodeOut(controlplane.Packet{Payload: p.frame(sw.RouterMAC()), Metadata: map[string]uint64{contract.MetaEgressPort: uint64(end.Port)}})
			if err == nil {
				outs = append(outs, out{ml, dir, po, end.Switch})
			}
		}
	}
	round := lm.round
	lm.mu.Unlock()

	// Each switch's probes go out on its own stream, from its own
	// goroutine: a send waits for the stream's writer, and one after the
	// other the 7,840 probes of a 2,000-switch fabric took ~1 s a round
	// (1.3 rounds a second at a 100 ms interval).
	sent := make([]bool, len(outs))
	bySwitch := map[string][]int{}
	for i, o := range outs {
		bySwitch[o.sw] = append(bySwitch[o.sw], i)
	}
	var wg sync.WaitGroup
	for sw, idx := range bySwitch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range idx {
				sent[i] = lm.c.daemon.SendPacketOut(ctx, sw, outs[i].po) == nil
			}
		}()
	}
	wg.Wait()
	took := time.Since(now)
	if len(outs) > 0 {
		lm.c.metrics.ProbeRounds.Inc()
		lm.c.metrics.ProbeRoundTime.Observe(took.Seconds())
	}
	if len(outs) > 0 && took > lm.interval && time.Since(lm.lateWarned) >= lateWarnEvery {
		// The ticker drops the ticks that fall inside a long round: the
		// links are probed less often than configured, and a failure is
		// found later (K rounds). Said, not hidden; at most once a minute.
		lm.lateWarned = time.Now()
		lm.c.log.Warn("link probes fall behind the probe interval: links are probed less often, failures are found later",
			"probes", len(outs), "round_took", took.Round(time.Millisecond), "probe_interval", lm.interval,
			"hint", "raise --probe-interval, or give the controller more CPU")
	}
	lm.mu.Lock()
	for i, o := range outs {
		switch {
		case !sent[i]:
			o.ml.sentFrom[o.dir] = 0
		case o.ml.sentFrom[o.dir] == 0:
			o.ml.sentFrom[o.dir] = round
		}
		if sent[i] {
			o.ml.sent[o.dir] = round
		}
	}
	lm.mu.Unlock()
}

// judge observes, in order, the rounds of ml that are due: older than the
// reply timeout, and either answered, or lost (lost: the paths of the
// missing probes delivered later ones), or older than limit. A round whose
// missing probe may still be in a lagging path waits, up to limit; one
// still undecided then is not held against the cable (a switch whose
// packet path stalled says nothing about its links), nor is a round whose
// probes did not both go out (a switch the controller cannot reach).
// Called with mu held.
func (lm *linkMonitor) judge(ml *monitoredLink, now time.Time, timeout, limit time.Duration) {
	for r := ml.judged + 1; r <= lm.round; r++ {
		age := limit
		if at, ok := lm.sentAt[r]; ok {
			age = now.Sub(at)
		}
		if age < timeout {
			return
		}
		if !ml.wasSent(r) {
			ml.judged = r
			continue
		}
		// A reply of a later round answers this one too: the link
		// carried a probe since.
		answered := ml.heard[0] >= r && ml.heard[1] >= r
		if !answered && !lm.lost(ml, r) {
			if age < limit {
				return
			}
			ml.judged = r
			continue
		}
		ml.judged = r
		if ml.health.observe(answered, lm.k, lm.m) {
			lm.changes = append(lm.changes, linkChange{link: ml.link.Name(), down: ml.health.down})
			to := "up"
			if ml.health.down {
				to = "down"
			}
			lm.c.metrics.LinkChanges.WithLabelValues(to).Inc()
			select {
			case lm.kick <- struct{}{}:
			default:
			}
		}
	}
}

// packetIn handles a PacketIn from switch sw: a probe of this controller
// marks its link's direction heard; one that arrived where the topology has
// no such link is reported once, not trusted.
func (lm *linkMonitor) packetIn(sw string, pi *p4v1.PacketIn) {
	lm.mu.Lock()
	codec := lm.codecs[sw]
	if codec == nil {
		lm.mu.Unlock()
		return
	}
	pkt, err := codec.DecodeIn(pi)
	p, perr := parseProbe(pkt.Payload)
	if err != nil || perr != nil || p.controller != lm.id {
		lm.mu.Unlock()
		return
	}
	at := topo.Endpoint{Switch: sw, Port: uint32(pkt.Metadata[contract.MetaIngressPort])}
	ml := lm.byEnd[p.from]
	var report string
	switch {
	case ml != nil && ml.link.A == p.from && ml.link.B == at:
		lm.heardProbe(p, sw)
		ml.heard[0] = max(ml.heard[0], p.round)
	case ml != nil && ml.link.B == p.from && ml.link.A == at:
		lm.heardProbe(p, sw)
		ml.heard[1] = max(ml.heard[1], p.round)
	default:
		name := p.from.String() + "-" + at.String()
		if !lm.unknown[name] {
			lm.unknown[name] = true
			report = name
		}
	}
	lm.mu.Unlock()
	if report != "" {
		lm.c.emit(Event{Kind: LinkUnknown, Switch: sw, What: report,
			Err: fmt.Errorf("probe from %s arrived at %s: the topology has no such link; not used", p.from, at)})
	}
}

// heardProbe records a probe of a monitored link heard at sw: its
// round-trip time, when its send time is still known, and how far the
// sender's and sw's packet paths have delivered. Called with mu held.
func (lm *linkMonitor) heardProbe(p probe, sw string) {
	if at, ok := lm.sentAt[p.round]; ok {
		lm.observeRTT(time.Since(at))
	}
	lm.lastOut[p.from.Switch] = max(lm.lastOut[p.from.Switch], p.round)
	lm.lastIn[sw] = max(lm.lastIn[sw], p.round)
}

// LinkStatus is what link liveness knows of a fabric link.
type LinkStatus struct {
	Name string
	// Verified: its probes came back at least once; until then it is
	// never declared down.
	Verified bool
	// Down: probes went unanswered K rounds in a row and it is out of
	// the compiled topology.
	Down bool
}

// Links reports the links under watch (none when probes are off), by name.
func (c *Controller) Links() []LinkStatus {
	if c.links == nil {
		return nil
	}
	lm := c.links
	lm.mu.Lock()
	defer lm.mu.Unlock()
	var out []LinkStatus
	for name, ml := range lm.links {
		out = append(out, LinkStatus{Name: name, Verified: ml.health.armed, Down: ml.health.down})
	}
	slices.SortFunc(out, func(a, b LinkStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}
