package admission

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/topo"
)

// Admission is the answer to an admitted request.
type Admission struct {
	Reservation Reservation
	// Method is the theorem the bound came from (guaranteed service).
	Method string
	// Bound is the end-to-end delay bound over every ECMP path, including
	// propagation; Hops are the terms of the worst path.
	Bound time.Duration
	Hops  []HopTerm
	// CL is, for controlled load, each hop's check.
	CL []CLTerm
	// Note says, for controlled load, when some hop was checked against
	// the reserved rates for want of a measurement (always offline).
	Note string
}

// CLTerm is one hop of a controlled-load admission.
type CLTerm struct {
	Hop      string
	Measured float64 // bits/s, from Measurements (or the reserved rates when unmeasured)
	Source   string  // "measured" or "reserved"
	Limit    float64 // CLTarget × (capacity − EF reserved), bits/s
}

// Ledger is the set of admitted reservations on one topology. It is not
// safe for concurrent use.
type Ledger struct {
	topo   *topo.Topology
	params Params
	meas   Measurements
	res    []Reservation // sorted by ID
}

// NewLedger returns an empty ledger. meas may be nil (no measurements:
// controlled load is checked against the reserved rates).
func NewLedger(t *topo.Topology, p Params, meas Measurements) *Ledger {
	return &Ledger{topo: t, params: p.withDefaults(), meas: meas}
}

// SetMeasurements makes later checks use meas (nil: none). The daemon
// re-admits the reservations it already holds without measurements (the
// measured load already carries them: counting them again would break
// every controlled-load promise at the next reload), then sets them for
// new requests.
func (l *Ledger) SetMeasurements(meas Measurements) { l.meas = meas }

// Params are the ledger's parameters, defaults filled in.
func (l *Ledger) Params() Params { return l.params }

// List returns the admitted reservations sorted by ID.
func (l *Ledger) List() []Reservation { return append([]Reservation(nil), l.res...) }

// Admit checks the request against the ledger and, if it passes, records
// it. A refusal is a *Rejection; a malformed request an *InvalidError.
func (l *Ledger) Admit(req Request) (*Admission, error) {
	a, next, err := l.check(req)
	if err != nil {
		return nil, err
	}
	l.res = next
	return a, nil
}

// Check is Admit without recording (a dry run).
func (l *Ledger) Check(req Request) (*Admission, error) {
	a, _, err := l.check(req)
	return a, err
}

// Release removes a reservation. Bounds of the others can only fall; they
// are recomputed.
func (l *Ledger) Release(id string) error {
	for i, r := range l.res {
		if r.ID == id {
			next := append(append([]Reservation(nil), l.res[:i]...), l.res[i+1:]...)
			a, err := l.recompute(next)
			if err != nil {
				// Removing a flow cannot break a bound; this is a bug.
				return fmt.Errorf("release %s: %w", id, err)
			}
			l.setBounds(next, a)
			l.res = next
			return nil
		}
	}
	return fmt.Errorf("%s: %w", id, ErrNotFound)
}

func (l *Ledger) newID(req Request) string {
	base := req.baseID()
	id := base
	for n := 2; l.has(id); n++ {
		id = base + "." + strconv.Itoa(n)
	}
	return id
}

func (l *Ledger) has(id string) bool {
	for _, r := range l.res {
		if r.ID == id {
			return true
		}
	}
	return false
}

func (l *Ledger) check(req Request) (*Admission, []Reservation, error) {
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	for _, h := range []string{req.Src, req.Dst} {
		if _, ok := l.topo.Host(h); !ok {
			return nil, nil, &InvalidError{Msg: fmt.Sprintf("%q is not a host of the topology", h)}
		}
	}
	nr := Reservation{ID: l.newID(req), Request: req}
	next := append(append([]Reservation(nil), l.res...), nr)
	sort.Slice(next, func(i, j int) bool { return next[i].ID < next[j].ID })
	adm := &Admission{}
	if req.Service == ControlledLoad {
		cl, err := l.checkCL(nr)
		if err != nil {
			return nil, nil, err
		}
		adm.CL, adm.Note = cl, l.clNote(cl)
	}
	a, err := l.recompute(next)
	if err != nil {
		var rj *Rejection
		if errors.As(err, &rj) && rj.Reservation == "" {
			rj.Reservation = nr.ID
		}
		return nil, nil, err
	}
	// The new reservation's own requirement first, then every promise
	// already made (any of them may be affected by the new flow).
	idx := map[string]int{}
	g := guaranteed(next)
	for i, r := range g {
		idx[r.ID] = i
	}
	order := append([]Reservation{nr}, g...)
	for _, r := range order {
		i, ok := idx[r.ID]
		if !ok || r.MaxDelay == 0 {
			continue
		}
		if b := a.bounds[i]; b > r.MaxDelay.Seconds() {
			worst := HopTerm{}
			for _, t := range a.terms[i] {
				if t.Delay > worst.Delay {
					worst = t
				}
			}
			detail := fmt.Sprintf("largest hop term %s (T %s + burst %s / R %s)", worst.Delay, worst.Latency,
				units.FormatBytes(uint64(worst.AggBurst)), units.FormatBitrate(worst.EFRate))
			if r.ID != nr.ID {
				detail = "admitting " + nr.ID + " would break the bound promised to " + r.ID + "; " + detail
			}
			return nil, nil, &Rejection{Reservation: r.ID, Hop: worst.Hop, Resource: "delay bound",
				Need: fmtDur(b), Limit: r.MaxDelay.String() + " (max delay)", Detail: detail}
		}
	}
	l.setBounds(next, a)
	if i, ok := idx[nr.ID]; ok {
		nr.Bound = secs(a.bounds[i])
		adm.Method, adm.Bound, adm.Hops = a.method, nr.Bound, a.terms[i]
	}
	adm.Reservation = nr
	return adm, next, nil
}

func guaranteed(rs []Reservation) []Reservation {
	var g []Reservation
	for _, r := range rs {
		if r.Service == Guaranteed {
			g = append(g, r)
		}
	}
	return g
}

// recompute analyses the guaranteed reservations of rs.
func (l *Ledger) recompute(rs []Reservation) (*analysis, error) {
	return analyse(l.topo, l.params, guaranteed(rs))
}

// checkCL admits controlled load by measurement: on every hop of every
// ECMP path, the measured load of the controlled-load queue plus the new
// rate must stay within CLTarget × (capacity − guaranteed rate reserved on
// the hop), since the strict-priority EF queue is served first.
func (l *Ledger) checkCL(nr Reservation) ([]CLTerm, error) {
	es, err := l.switchEdges(nr.Src, nr.Dst)
	if err != nil {
		return nil, err
	}
	// The rates reserved through each hop, from each reservation's paths
	// computed once (not once per hop checked).
	resCL, resEF := map[string]float64{}, map[string]float64{}
	for _, r := range l.res {
		hops, err := l.switchEdges(r.Src, r.Dst)
		if err != nil {
			continue // its hosts left the topology: it crosses nothing
		}
		for _, h := range hops {
			if r.Service == ControlledLoad {
				resCL[h.Name()] += r.TSpec.Rate
			} else {
				resEF[h.Name()] += r.TSpec.Rate
			}
		}
	}
	var out []CLTerm
	for _, e := range es {
		reservedCL, reservedEF := resCL[e.Name()], resEF[e.Name()]
		t := CLTerm{Hop: e.Name(), Measured: reservedCL, Source: "reserved",
			Limit: l.params.CLTarget * (e.Capacity - reservedEF)}
		if l.meas != nil {
			if m, ok := l.meas.QueueLoad(e.Name(), ControlledLoad); ok {
				t.Measured, t.Source = m, "measured"
			}
		}
		if t.Measured+nr.TSpec.Rate > t.Limit {
			return nil, &Rejection{Reservation: nr.ID, Hop: t.Hop, Resource: "controlled-load utilisation",
				Need:   fmt.Sprintf("%s (%s %s + new %s)", units.FormatBitrate(t.Measured+nr.TSpec.Rate), t.Source, units.FormatBitrate(t.Measured), units.FormatBitrate(nr.TSpec.Rate)),
				Limit:  fmt.Sprintf("%s (target %g × (capacity %s − EF reserved %s))", units.FormatBitrate(t.Limit), l.params.CLTarget, units.FormatBitrate(e.Capacity), units.FormatBitrate(reservedEF)),
				Detail: l.clNote([]CLTerm{t})}
		}
		out = append(out, t)
	}
	return out, nil
}

// clNote explains the hops checked against reserved rather than measured
// load; "" when every hop was measured.
func (l *Ledger) clNote(ts []CLTerm) string {
	if l.meas == nil {
		return "no load measurements (offline --dry-run, or the daemon's closed loop is off): checked against the controlled-load rates reserved through each hop"
	}
	for _, t := range ts {
		if t.Source == "reserved" {
			return "hops marked reserved have no measurement yet: checked against the controlled-load rates reserved through them"
		}
	}
	return ""
}

// switchEdges are the hops a flow from src to dst may take, leaving the
// host's own access link out (it carries only the host's traffic): every
// edge of every ECMP path, once, in path order.
func (l *Ledger) switchEdges(src, dst string) ([]topo.Edge, error) {
	ps, err := paths(l.topo, l.params, src, dst)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []topo.Edge
	for _, p := range ps {
		for _, e := range p.Edges {
			if e.FromHost || seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// Hops are the names of the hops reservation id may cross (every ECMP
// path, access links left out), as controlled-load admission checked them;
// nil when id is not recorded or its hosts left the topology.
func (l *Ledger) Hops(id string) []string {
	for _, r := range l.res {
		if r.ID != id {
			continue
		}
		es, err := l.switchEdges(r.Src, r.Dst)
		if err != nil {
			return nil
		}
		hops := make([]string, len(es))
		for i, e := range es {
			hops[i] = e.Name()
		}
		return hops
	}
	return nil
}

// setBounds stores each guaranteed reservation's bound from a.
func (l *Ledger) setBounds(rs []Reservation, a *analysis) {
	i := 0
	for k := range rs {
		if rs[k].Service == Guaranteed {
			rs[k].Bound = secs(a.bounds[i])
			i++
		}
	}
}
