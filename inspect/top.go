package inspect

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/tables"
)

// TopOutput is one frame of `p4qos top` (-o json: one object per frame).
type TopOutput struct {
	// Time is when the frame's second read ended (RFC 3339).
	Time string `json:"time"`
	// IntervalSeconds is the time between the frame's two reads: rates
	// are over it.
	IntervalSeconds float64     `json:"interval_seconds"`
	Switches        []SwitchTop `json:"switches"`
	// FlowGroups are the controller's view (demand, allocation, enforced
	// meter rate per flow group), which no switch holds: the daemon's
	// status API (--api, or the -c config's metrics-addr) gives them.
	// Absent without one; FlowGroupsError says why a read failed.
	FlowGroups      []FlowGroupTop `json:"flow_groups,omitempty"`
	FlowGroupsError string         `json:"flow_groups_error,omitempty"`
}

// SwitchTop is one switch's part of a frame.
type SwitchTop struct {
	Switch
	Classes []ClassTop `json:"classes"`
	Queues  []QueueTop `json:"queues"`
}

// ClassTop is one class: class_counter (egress, after metering) and the
// class meter.
type ClassTop struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
	Traffic
	// Meter is the class meter's CIR/PIR ("" when unconfigured).
	Meter string `json:"meter,omitempty"`
	// Green, Yellow and Red are each color's share of the packets the
	// meter marked in the interval, and DroppedPPS the packets/s that
	// color_action dropped for their color; null where the target does
	// not report per-color meter counts, or nothing was marked.
	Green      *float64 `json:"green_share"`
	Yellow     *float64 `json:"yellow_share"`
	Red        *float64 `json:"red_share"`
	DroppedPPS *float64 `json:"dropped_pps"`
}

// QueueTop is one egress queue: queue_counter, and where the target's
// queue interface reports them, its setting, backlog and tail drops.
type QueueTop struct {
	Port  uint32 `json:"port"`
	Queue uint32 `json:"queue"`
	Traffic
	// RateLimitPPS (0: not limited) and DepthLimit (packets) are the
	// queue's setting; Backlog the packets waiting; TailDrops the packets
	// dropped for want of room, cumulative. Null when not reported.
	RateLimitPPS *int64 `json:"rate_limit_pps"`
	DepthLimit   *int64 `json:"depth_limit_packets"`
	Backlog      *int64 `json:"backlog_packets"`
	TailDrops    *int64 `json:"tail_drops"`
}

// Traffic is what a counter cell says: Bps and PPS are the rates over the
// interval, Packets and Bytes cumulative.
type Traffic struct {
	Bps     float64 `json:"bps"`
	PPS     float64 `json:"pps"`
	Packets int64   `json:"packets"`
	Bytes   int64   `json:"bytes"`
}

// traffic is a cell's traffic between two reads dt seconds apart (a
// counter that went back, as after a restart, gives no rate).
func traffic(prev, cur Counter, dt float64) Traffic {
	tr := Traffic{Packets: cur.Packets, Bytes: cur.Bytes}
	if dt > 0 && cur.Bytes >= prev.Bytes && cur.Packets >= prev.Packets {
		tr.Bps = float64(cur.Bytes-prev.Bytes) * 8 / dt
		tr.PPS = float64(cur.Packets-prev.Packets) / dt
	}
	return tr
}

// FlowGroupTop is a flow group as the controller sees it.
type FlowGroupTop struct {
	Name         string  `json:"name"`
	Tenant       string  `json:"tenant,omitempty"`
	UsageBps     float64 `json:"usage_bps"`
	DemandBps    float64 `json:"demand_bps"`
	AllocatedBps float64 `json:"allocated_bps"`
	EnforcedBps  float64 `json:"enforced_bps"`
	Bottleneck   string  `json:"bottleneck,omitempty"`
}

// FlowGroupSource gives the fabric's flow groups; top shows them when one
// is set (StatusAPI: a running daemon's).
type FlowGroupSource interface {
	FlowGroups(ctx context.Context) ([]FlowGroupTop, error)
}

// sample is one read of a switch's counters.
type sample struct {
	at       time.Time
	class    map[int64]Counter
	queue    map[int64]Counter
	meter    map[int64]*Meter    // class_meter cells, with colors when reported
	drop     map[int64][3]bool   // color_action: class, color → drop
	queueCfg map[int64]queueSide // by queue_counter index
	err      error
}

func runTop(ctx context.Context, in IO) error {
	o, err := optionsFrom(in.Flags)
	if err != nil {
		return err
	}
	interval, _ := in.Flags.GetDuration(flagInterval)
	once, _ := in.Flags.GetBool(flagOnce)
	if interval < 10*time.Millisecond {
		return usagef("--interval must be at least 10ms, got %v", interval)
	}
	res, err := resolve(o)
	if err != nil {
		return err
	}
	names, err := classNames(ctx, res)
	if err != nil {
		return err
	}
	t := &topper{o: o, res: res, names: names, readers: map[string]*reader{}}
	api, _ := in.Flags.GetString(flagAPI)
	if api == "" && res.fabric != nil && o.Config != "" && res.cfg.MetricsAddr != "" && res.cfg.MetricsAddr != "off" {
		api = "http://" + res.cfg.MetricsAddr
	}
	if api != "" {
		t.groups = &StatusAPI{URL: api, Timeout: o.Timeout}
	}
	defer t.close()
	prev := t.sampleAll(ctx)
	tty := !once && isTerminal(in.Stdout)
	for {
		select {
		case <-ctx.Done():
			if once {
				return ctx.Err()
			}
			return nil // Ctrl-C is how a live top ends
		case <-time.After(interval):
		}
		cur := t.sampleAll(ctx)
		frame := t.frame(ctx, prev, cur)
		if tty {
			fmt.Fprint(in.Stdout, "\x1b[H\x1b[2J")
		}
		if o.Output == "json" {
			err = writeJSON(in.Stdout, frame)
		} else {
			renderTop(in.Stdout, frame)
		}
		if err != nil {
			return err
		}
		if once {
			for _, s := range cur {
				if s.err != nil {
					return s.err
				}
			}
			return nil
		}
		prev = cur
	}
}

// classNames are the policy's class names by id, when there is a policy.
func classNames(ctx context.Context, res *resolved) (map[int64]string, error) {
	names := map[int64]string{}
	if res.fabric == nil || res.cfg.Policy == "" {
		return names, nil
	}
	data, err := inputfile.Read(res.cfg.Policy, inputfile.Policy)
	if err != nil {
		return nil, usage(err)
	}
	c, err := res.fabric.Compile(ctx, data)
	if err != nil {
		return nil, usage(err)
	}
	for _, cl := range c.Classes {
		names[int64(cl.ID)] = cl.Name
	}
	return names, nil
}

type topper struct {
	o       Options
	res     *resolved
	names   map[int64]string
	readers map[string]*reader
	// groups fills the flow-group rows (nil: none shown).
	groups FlowGroupSource
}

func (t *topper) close() {
	for _, r := range t.readers {
		r.close()
	}
}

func (t *topper) sampleAll(ctx context.Context) []*sample {
	out := make([]*sample, len(t.res.targets))
	for i, tg := range t.res.targets {
		r := t.readers[tg.Name]
		s := &sample{}
		if r == nil {
			var err error
			if r, err = open(ctx, tg, t.o.Timeout, t.res.opts); err != nil {
				s.err = err
				s.at = time.Now()
				out[i] = s
				continue
			}
			t.readers[tg.Name] = r
		}
		if s.err = r.needPipeline(); s.err == nil {
			s.err = r.sample(ctx, s)
		}
		if s.err != nil { // reconnect next time
			r.close()
			delete(t.readers, tg.Name)
		}
		s.at = time.Now()
		out[i] = s
	}
	return out
}

// sample reads the qos pipeline's counters, class meter and color actions.
func (r *reader) sample(ctx context.Context, s *sample) error {
	s.class, s.queue, s.meter, s.drop = map[int64]Counter{}, map[int64]Counter{}, map[int64]*Meter{}, map[int64][3]bool{}
	for name, m := range map[string]map[int64]Counter{contract.ClassCounter: s.class, contract.QueueCounter: s.queue} {
		c, err := r.t.Schema.Counter(name)
		if err != nil {
			return fmt.Errorf("switch %s: the P4Info has no %s: is this the qos pipeline? %w", r.t.Name, name, err)
		}
		got, err := r.read(ctx, tables.EntityOf(&p4v1.CounterEntry{CounterId: c.GetPreamble().GetId()}))
		if err != nil {
			return err
		}
		for _, e := range got {
			ce := e.GetCounterEntry()
			if d := ce.GetData(); d.GetPacketCount() != 0 || d.GetByteCount() != 0 {
				m[ce.GetIndex().GetIndex()] = Counter{Packets: d.GetPacketCount(), Bytes: d.GetByteCount()}
			}
		}
	}
	meters, err := r.meters(ctx)
	if err != nil {
		return err
	}
	for _, e := range meters {
		if d := r.dec.entity(e); short(d.Object) == contract.ClassMeter && d.Index != nil {
			s.meter[*d.Index] = d.Meter
		}
	}
	actions, err := r.entries(ctx, contract.ColorAction)
	if err != nil {
		return err
	}
	for _, e := range actions {
		d := r.dec.entity(e)
		if d.Action == nil || short(d.Action.Name) != contract.Drop || len(d.Match) != 2 {
			continue
		}
		class, _ := strconv.ParseInt(d.Match[0].Value, 10, 64)
		color := slices.Index(tables.MeterColors, d.Match[1].Value)
		if color >= 0 {
			v := s.drop[class]
			v[color] = true
			s.drop[class] = v
		}
	}
	s.queueCfg = r.queueSides(ctx, s.queue)
	return nil
}

// frame computes the rates between two samples of every switch.
func (t *topper) frame(ctx context.Context, prev, cur []*sample) TopOutput {
	out := TopOutput{Time: time.Now().UTC().Format(time.RFC3339)}
	for i, tg := range t.res.targets {
		p, c := prev[i], cur[i]
		sw := SwitchTop{Switch: tg.id(), Classes: []ClassTop{}, Queues: []QueueTop{}}
		if c.err != nil {
			sw.Error = c.err.Error()
			out.Switches = append(out.Switches, sw)
			continue
		}
		dt := c.at.Sub(p.at).Seconds()
		out.IntervalSeconds = dt
		if p.err != nil {
			p = &sample{} // no base yet: rates from zero would lie
			dt = 0
		}
		sw.Classes = t.classes(p, c, dt)
		sw.Queues = queues(p, c, dt)
		out.Switches = append(out.Switches, sw)
	}
	if t.groups != nil {
		if fg, err := t.groups.FlowGroups(ctx); err != nil {
			out.FlowGroupsError = err.Error()
		} else {
			out.FlowGroups = fg
		}
	}
	return out
}

func (t *topper) classes(p, c *sample, dt float64) []ClassTop {
	ids := map[int64]bool{}
	for id := range c.class {
		ids[id] = true
	}
	for id := range t.names {
		ids[id] = true
	}
	var out []ClassTop
	for _, id := range slices.Sorted(mapsKeys(ids)) {
		ct := ClassTop{ID: id, Name: t.names[id], Traffic: traffic(p.class[id], c.class[id], dt)}
		if m := c.meter[id]; m != nil && m.Set {
			ct.Meter = m.CIRText + "/" + m.PIRText
		}
		colorShares(&ct, p.meter[id], c.meter[id], c.drop[id], dt)
		out = append(out, ct)
	}
	return out
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// colorShares sets the colors' shares of the packets marked in the interval
// and the packets/s their color actions dropped.
func colorShares(ct *ClassTop, prev, cur *Meter, drop [3]bool, dt float64) {
	if cur == nil || cur.Green == nil || dt <= 0 {
		return
	}
	counts := func(m *Meter) [3]int64 {
		if m == nil || m.Green == nil {
			return [3]int64{}
		}
		return [3]int64{m.Green.Packets, m.Yellow.Packets, m.Red.Packets}
	}
	c, p := counts(cur), counts(prev)
	var d [3]float64
	total, dropped := 0.0, 0.0
	for i := range d {
		d[i] = max(float64(c[i]-p[i]), 0)
		total += d[i]
		if drop[i] {
			dropped += d[i]
		}
	}
	if total == 0 {
		return
	}
	g, y, r, dr := d[0]/total, d[1]/total, d[2]/total, dropped/dt
	ct.Green, ct.Yellow, ct.Red, ct.DroppedPPS = &g, &y, &r, &dr
}

func queues(p, c *sample, dt float64) []QueueTop {
	ids := map[int64]bool{}
	for id := range c.queue {
		ids[id] = true
	}
	for id := range c.queueCfg {
		ids[id] = true
	}
	var out []QueueTop
	for _, id := range slices.Sorted(mapsKeys(ids)) {
		qt := QueueTop{Port: uint32(id / contract.QueuesPerPort), Queue: uint32(id % contract.QueuesPerPort), Traffic: traffic(p.queue[id], c.queue[id], dt)}
		if s, ok := c.queueCfg[id]; ok {
			qt.RateLimitPPS, qt.DepthLimit, qt.Backlog, qt.TailDrops = s.rate, s.depth, s.backlog, s.drops
		}
		out = append(out, qt)
	}
	return out
}

func renderTop(w io.Writer, f TopOutput) {
	fmt.Fprintf(w, "p4qos top  %s  rates over %.1fs\n", f.Time, f.IntervalSeconds)
	for _, sw := range f.Switches {
		fmt.Fprint(w, "\n"+header(sw.Name, sw.Address, sw.DeviceID))
		if sw.Error != "" {
			fmt.Fprintf(w, ": ERROR %s\n", sw.Error)
			continue
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLASS\tNAME\tRATE\tPKT/S\tPACKETS\tMETER CIR/PIR\tGREEN\tYELLOW\tRED\tDROP/S")
		for _, c := range sw.Classes {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.0f\t%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, dash(c.Name), units.FormatBitrate(c.Bps), c.PPS, c.Packets,
				dash(c.Meter), share(c.Green), share(c.Yellow), share(c.Red), optFloat(c.DroppedPPS))
		}
		tw.Flush()
		if len(sw.Queues) > 0 {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PORT\tQUEUE\tRATE\tPKT/S\tPACKETS\tLIMIT PKT/S\tDEPTH\tBACKLOG\tTAIL DROPS")
			for _, q := range sw.Queues {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%.0f\t%d\t%s\t%s\t%s\t%s\n", q.Port, q.Queue, units.FormatBitrate(q.Bps), q.PPS, q.Packets,
					optInt(q.RateLimitPPS), optInt(q.DepthLimit), optInt(q.Backlog), optInt(q.TailDrops))
			}
			tw.Flush()
		}
	}
	if f.FlowGroupsError != "" {
		fmt.Fprintf(w, "\nflow groups: %s\n", f.FlowGroupsError)
	}
	if len(f.FlowGroups) > 0 {
		fmt.Fprintln(w, "\nflow groups (the controller's status API)")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FLOW GROUP\tTENANT\tUSAGE\tDEMAND\tALLOCATED\tENFORCED\tBOTTLENECK")
		for _, g := range f.FlowGroups {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Name, dash(g.Tenant), units.FormatBitrate(g.UsageBps), units.FormatBitrate(g.DemandBps),
				units.FormatBitrate(g.AllocatedBps), units.FormatBitrate(g.EnforcedBps), dash(g.Bottleneck))
		}
		tw.Flush()
	}
}

func share(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

func optFloat(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 0, 64)
}

func optInt(v *int64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatInt(*v, 10)
}
