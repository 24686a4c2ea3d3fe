// Package demo runs the whole system on embedded sim switches and tells
// what happens: `p4qos demo` and `make demo`. It uses the controller's
// public API as any program would.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/topo"
)

// Options are the demo's inputs.
type Options struct {
	Topology, Policy, P4Info string
	// Rounds of the closed loop (tenant b's demand drops in round 4).
	Rounds int
	// Interval is the simulated time per round.
	Interval time.Duration
	// UI, when set, is the address the controller serves its dashboard,
	// status API and metrics on while the demo runs: rounds are then paced
	// in real time (one Interval each), and after the last one the demo
	// keeps the dashboard up until ctx ends. Without it the demo ends within
	// two minutes.
	UI string
	// Serving, if set, is called with the dashboard's URL (tests).
	Serving func(url string)
}

// ErrInput marks a problem with the demo's inputs (exit status 2).
var ErrInput = errors.New("invalid demo input")

// flow is one synthetic traffic source: parallel connections (distinct
// source ports, so ECMP can spread them) offering rate in total.
type flow struct {
	conns          int
	name, src, dst string
	proto          uint8
	dport          uint16
	rate           float64 // offered bits/s
	// dropTo, when > 0, is the offered rate from round dropAt on.
	dropTo float64
}

var flows = []flow{
	{name: "voice h1→h3", conns: 1, src: "h1", dst: "h3", proto: 17, dport: 20000, rate: 1.5e6},
	{name: "a-web h1→h3", conns: 8, src: "h1", dst: "h3", proto: 6, dport: 5001, rate: 60e6},
	{name: "a-backup h1→h4", conns: 8, src: "h1", dst: "h4", proto: 6, dport: 8080, rate: 30e6},
	{name: "b-sync h2→h4", conns: 8, src: "h2", dst: "h4", proto: 6, dport: 873, rate: 40e6, dropTo: 4e6},
}

// run is one demo's state.
type run struct {
	out  io.Writer
	opt  Options
	t    *topo.Topology
	sims map[string]*sim.Switch
	c    *controller.Controller
	cv   *converged
	url  chan string // the dashboard's, with Options.UI
	// counts accumulates the sims' per-class colour and drop counts over
	// the rounds (a sim's flow statistics restart at every SetFlows).
	counts map[string]*controller.ClassCount
}

// Run runs the demo, writing the story to out.
func Run(ctx context.Context, out io.Writer, opt Options) error {
	if opt.Rounds < 2 {
		return fmt.Errorf("%w: --rounds must be at least 2, got %d", ErrInput, opt.Rounds)
	}
	if opt.Interval <= 0 {
		return fmt.Errorf("%w: --interval must be positive, got %v", ErrInput, opt.Interval)
	}
	if opt.UI == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
	}
	// Outside the repository the binary's own copies serve.
	if err := assets.Resolve(&opt.Topology, &opt.Policy, &opt.P4Info); err != nil {
		return err
	}
	t, err := topo.Load(opt.Topology)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	r := &run{out: out, opt: opt, t: t, sims: map[string]*sim.Switch{}, url: make(chan string, 1), counts: map[string]*controller.ClassCount{}}
	defer r.close()
	fmt.Fprintf(out, "p4qos demo: topology %q (%d switches, %d hosts, %d links), policy %s\n\n",
		t.Name, len(t.Switches), len(t.Hosts), len(t.Links), opt.Policy)
	entries, err := r.startSims(ctx)
	if err != nil {
		return err
	}
	if err := r.compile(ctx, entries); err != nil {
		return err
	}
	stop, err := r.install(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := r.rounds(ctx); err != nil {
		return err
	}
	r.leafReport()
	fmt.Fprintf(out, "\ndemo done: %d switches programmed over P4Runtime, %d allocation rounds.\n", len(r.sims), opt.Rounds)
	if opt.UI != "" {
		fmt.Fprintf(out, "the dashboard stays up until interrupted (Ctrl-C)\n")
		<-ctx.Done()
	}
	return nil
}

func (r *run) close() {
	for _, s := range r.sims {
		s.Close()
	}
}

// startSims starts one embedded switch per topology switch, on free
// loopback ports, its egress ports limited to the link capacities.
func (r *run) startSims(ctx context.Context) ([]controller.SwitchEntry, error) {
	fmt.Fprintf(r.out, "[1/4] Starting %d embedded P4Runtime switches (p4qos sim)\n", len(r.t.Switches))
	var entries []controller.SwitchEntry
	for _, sw := range r.t.Switches {
		opts := []sim.Option{sim.WithDeviceID(sw.DeviceID), sim.WithLogger(discard())}
		for _, ed := range r.t.Edges(sw.Name) {
			opts = append(opts, sim.WithPortRate(ed.FromPort, ed.Capacity))
		}
		s, addr, err := sim.Start(ctx, "127.0.0.1:0", opts...)
		if err != nil {
			return nil, fmt.Errorf("start sim %s: %w", sw.Name, err)
		}
		r.sims[sw.Name] = s
		entries = append(entries, controller.SwitchEntry{Name: sw.Name, Address: addr, Target: string(topo.TargetSim)})
		fmt.Fprintf(r.out, "      %-7s device %d on %s\n", sw.Name, sw.DeviceID, addr)
	}
	return entries, nil
}

// converged collects each switch's first reconcile.
type converged struct {
	mu     sync.Mutex
	stats  map[string]controlplane.ReconcileStats
	failed map[string]error
	want   int
	done   chan struct{}
}

func (cv *converged) event(e controller.Event) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	switch e.Kind {
	case controller.SwitchFailed:
		cv.failed[e.Switch] = e.Err
	case controller.SwitchConverged:
		if _, seen := cv.stats[e.Switch]; seen {
			return
		}
		cv.stats[e.Switch] = e.Stats
		if len(cv.stats) == cv.want {
			close(cv.done)
		}
	}
}

// compile builds the controller (which compiles the policy) and prints the
// classes.
func (r *run) compile(ctx context.Context, entries []controller.SwitchEntry) error {
	cfg := controller.Default()
	cfg.Topology, cfg.Policy, cfg.P4Info, cfg.Switches = r.opt.Topology, r.opt.Policy, r.opt.P4Info, entries
	cfg.ReconcileInterval, cfg.PolicyPoll, cfg.LoopInterval, cfg.MetricsAddr = time.Hour, 0, 0, "off"
	cv := &converged{stats: map[string]controlplane.ReconcileStats{}, failed: map[string]error{}, want: len(entries), done: make(chan struct{})}
	opts := []controller.Option{controller.WithManualLoop(), controller.WithEvents(cv.event),
		// BwE takes the maximum usage over a window; two rounds keep the
		// story short while still riding out one low sample.
		controller.WithDemandWindow(2 * r.opt.Interval)}
	if r.opt.UI != "" {
		// While the dashboard is up, an edit of the policy file (say, a
		// different allocation objective) is reloaded live, as in `p4qos run`.
		cfg.MetricsAddr, cfg.PolicyPoll = r.opt.UI, 200*time.Millisecond
		opts = append(opts, controller.WithClassCounts(r.classCounts),
			controller.WithServing(func(addr string) { r.url <- "http://" + addr + "/ui/" }))
	}
	c, err := controller.New(ctx, cfg, opts...)
	if err != nil {
		var ie *controller.InputError
		if errors.As(err, &ie) {
			return fmt.Errorf("%w: %w", ErrInput, err)
		}
		return err
	}
	r.c, r.cv = c, cv
	comp := c.Compiled()
	if len(comp.Sources) == 0 {
		return fmt.Errorf("%w: policy %s meters no class from the allocator: nothing for the closed loop to do", ErrInput, r.opt.Policy)
	}
	fmt.Fprintf(r.out, "\n[2/4] Compiled %d classes for %d switches\n", len(comp.Classes), len(comp.Intents))
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      CLASS\tID\tPHB\tQUEUE\tMETER")
	for _, cl := range comp.Classes {
		m := "-"
		if cl.Meter != nil {
			m = fmt.Sprintf("CIR %s PIR %s", units.FormatBitrate(float64(cl.Meter.CIR)*8), units.FormatBitrate(float64(cl.Meter.PIR)*8))
		}
		fmt.Fprintf(tw, "      %s\t%d\t%s\t%d\t%s\n", cl.Name, cl.ID, cl.PHB, cl.Queue, m)
	}
	return tw.Flush()
}

// install runs the controller until every switch has converged once.
func (r *run) install(ctx context.Context) (stop func(), err error) {
	fmt.Fprintf(r.out, "\n[3/4] Installing over P4Runtime (pipeline, then entities in dependency order)\n")
	runCtx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- r.c.Run(runCtx) }()
	stop = func() { cancel(); <-runErr }
	select {
	case <-r.cv.done:
	case err := <-runErr:
		cancel()
		return nil, fmt.Errorf("controller stopped: %v", err)
	case <-time.After(30 * time.Second):
		stop()
		r.cv.mu.Lock()
		defer r.cv.mu.Unlock()
		return nil, fmt.Errorf("switches not installed within 30s (failed: %v)", r.cv.failed)
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	if r.opt.UI != "" {
		url := <-r.url // Run serves before it starts the switches
		fmt.Fprintf(r.out, "      dashboard: %s (status API %sapi/v1/status)\n", url, strings.TrimSuffix(url, "ui/"))
		if r.opt.Serving != nil {
			r.opt.Serving(url)
		}
	}
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      SWITCH\tPIPELINE\tINSERTED\tMODIFIED\tWRITE RPCS")
	for _, sw := range r.t.Switches {
		st := r.cv.stats[sw.Name]
		fmt.Fprintf(tw, "      %s\t%s\t%d\t%d\t%d\n", sw.Name, yesNo(st.Pushed, "pushed", "already there"), st.Inserts, st.Modifies, st.Write.RPCs)
	}
	return stop, tw.Flush()
}

// installedMeters is what the switches hold: the controller's installed
// state for every meter entry (it writes only changes beyond the
// hysteresis).
func (r *run) installedMeters(classOf map[int64]string) map[string]float64 {
	inst := map[string][]*p4v1.Entity{}
	for sw, in := range r.c.Compiled().Intents {
		for _, e := range in.Entities {
			if e.GetMeterEntry() == nil {
				continue
			}
			if key, err := in.Schema.Key(e); err == nil {
				if cur := r.c.Daemon().Installed(sw, key); cur != nil {
					e = cur
				}
			}
			inst[sw] = append(inst[sw], e)
		}
	}
	return meterRates(inst, classOf)
}

// rounds offers traffic and ticks the closed loop on simulated time.
func (r *run) rounds(ctx context.Context) error {
	dropAt := min(4, r.opt.Rounds)
	fmt.Fprintf(r.out, "\n[4/4] Closed loop: %d rounds of %v simulated time; tenant b's offered load drops to %s in round %d\n",
		r.opt.Rounds, r.opt.Interval, units.FormatBitrate(flows[3].dropTo), dropAt)
	for _, f := range flows {
		fmt.Fprintf(r.out, "      flow %-15s %s offered\n", f.name, units.FormatBitrate(f.rate))
	}
	classOf := r.classOf()
	now := time.Unix(0, 0)
	if _, err := r.c.Tick(ctx, now); err != nil { // baseline counter sample
		return fmt.Errorf("loop: %w", err)
	}
	prev := r.installedMeters(classOf)
	for round := 1; round <= r.opt.Rounds; round++ {
		if r.opt.UI != "" { // paced for people watching the dashboard
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(r.opt.Interval):
			}
		}
		if err := offer(r.t, r.sims, flows, round >= dropAt); err != nil {
			return err
		}
		for _, s := range r.sims {
			s.Advance(r.opt.Interval)
		}
		now = now.Add(r.opt.Interval)
		tick, err := r.c.Tick(ctx, now)
		if err != nil {
			return fmt.Errorf("round %d: loop: %w", round, err)
		}
		note := ""
		if round == dropAt {
			note = "  ← tenant b's demand drops"
		}
		fmt.Fprintf(r.out, "\n  round %d (t=%v)%s\n", round, time.Duration(now.UnixNano()), note)
		r.roundTable(tick)
		meters := r.installedMeters(classOf)
		r.meterChanges(prev, meters, tick)
		prev = meters
		fmt.Fprintf(r.out, "      %s\n", uplinkUse(r.t, r.sims["leaf1"], "leaf1", r.opt.Interval))
	}
	return nil
}

func (r *run) classOf() map[int64]string {
	out := map[int64]string{}
	for _, cl := range r.c.Compiled().Classes {
		out[int64(cl.ID)] = cl.Name
	}
	return out
}

func (r *run) roundTable(tick controlplane.TickResult) {
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      FLOW GROUP\tMEASURED\tDEMAND\tALLOCATED")
	for _, fg := range sortedNames(tick.Allocation) {
		fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\n", fg, rate(tick.Usage, fg), rate(tick.Demand, fg), units.FormatBitrate(tick.Allocation[fg]))
	}
	tw.Flush()
}

func (r *run) meterChanges(prev, meters map[string]float64, tick controlplane.TickResult) {
	var changes []string
	for _, k := range sortedNames(meters) {
		if meters[k] != prev[k] {
			changes = append(changes, fmt.Sprintf("%s %s → %s", k, units.FormatBitrate(prev[k]), units.FormatBitrate(meters[k])))
		}
	}
	written := 0
	for _, n := range tick.Written {
		written += n
	}
	if len(changes) == 0 {
		fmt.Fprintf(r.out, "      meters: unchanged (allocation within the %.0f%% hysteresis); %d entities written\n", controller.Default().Hysteresis*100, written)
		return
	}
	fmt.Fprintf(r.out, "      meters written (CIR): %s; %d entities written\n", strings.Join(changes, ", "), written)
}

// leafReport prints leaf1's per-flow colours over the whole run.
func (r *run) leafReport() {
	fmt.Fprintf(r.out, "\nAt leaf1 in the last round (meter colours over the whole run):\n")
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      FLOW\tCONNS\tCLASS\tEGRESS PORTS\tGREEN\tYELLOW\tRED\tDELIVERED")
	type agg struct {
		conns            int
		class            string
		ports            map[uint32]bool
		offered, bps     float64
		green, yell, red float64
	}
	classOf := r.classOf()
	byFlow := map[string]*agg{}
	var order []string
	for _, fs := range r.sims["leaf1"].FlowStats() {
		a := byFlow[fs.Flow.Name]
		if a == nil {
			a = &agg{class: classOf[int64(fs.Class)], ports: map[uint32]bool{}}
			byFlow[fs.Flow.Name] = a
			order = append(order, fs.Flow.Name)
		}
		a.conns++
		a.ports[fs.EgressPort] = true
		a.offered += float64(fs.OfferedBytes)
		a.green += float64(fs.Colors[sim.Green].Bytes)
		a.yell += float64(fs.Colors[sim.Yellow].Bytes)
		a.red += float64(fs.Colors[sim.Red].Bytes)
		a.bps += fs.DeliveredBps
	}
	pct := func(v, total float64) string {
		if total == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*v/total)
	}
	for _, n := range order {
		a := byFlow[n]
		var ports []string
		for p := range a.ports {
			ports = append(ports, fmt.Sprint(p))
		}
		sort.Strings(ports)
		fmt.Fprintf(tw, "      %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", n, a.conns, a.class, strings.Join(ports, ","),
			pct(a.green, a.offered), pct(a.yell, a.offered), pct(a.red, a.offered), units.FormatBitrate(a.bps))
	}
	tw.Flush()
}

// classCounts is the controller's WithClassCounts source: called once per
// round, it adds the round's per-class colour and drop counts of every sim
// to the totals and returns them.
func (r *run) classCounts() []controller.ClassCount {
	classOf := r.classOf()
	for _, name := range sortedNames(r.sims) {
		for _, fs := range r.sims[name].FlowStats() {
			class, ok := classOf[int64(fs.Class)]
			if !ok || !fs.Classified {
				continue
			}
			n := r.counts[name+"/"+class]
			if n == nil {
				n = &controller.ClassCount{Switch: name, Class: class}
				r.counts[name+"/"+class] = n
			}
			n.Green += fs.Colors[sim.Green].Packets
			n.Yellow += fs.Colors[sim.Yellow].Packets
			n.Red += fs.Colors[sim.Red].Packets
			for _, cs := range fs.Colors {
				if cs.Dropped {
					n.MeterDropped += cs.Packets
				}
			}
			n.QueueDropped += fs.QueueDroppedPackets
		}
	}
	out := make([]controller.ClassCount, 0, len(r.counts))
	for _, k := range sortedNames(r.counts) {
		out = append(out, *r.counts[k])
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// offer sets each leaf's synthetic flows for the coming round.
func offer(t *topo.Topology, sims map[string]*sim.Switch, flows []flow, dropped bool) error {
	per := map[string][]sim.Flow{}
	for i, f := range flows {
		src, _ := t.Host(f.src)
		dst, _ := t.Host(f.dst)
		if src == nil || dst == nil {
			return fmt.Errorf("demo flow %s: hosts %s and %s must exist in the topology", f.name, f.src, f.dst)
		}
		r := f.rate
		if dropped && f.dropTo > 0 {
			r = f.dropTo
		}
		for c := 0; c < f.conns; c++ {
			per[src.Switch] = append(per[src.Switch], sim.Flow{
				Name: f.name, SrcIP: src.IPv4.Addr(), DstIP: dst.IPv4.Addr(), Proto: f.proto,
				SrcPort: uint16(40000 + 100*i + c), DstPort: f.dport, IngressPort: src.Port,
				RateBps: r / float64(f.conns), PacketSize: 1000,
			})
		}
	}
	for sw, fl := range per {
		s := sims[sw]
		if s == nil {
			return fmt.Errorf("no sim for switch %s", sw)
		}
		if err := s.SetFlows(fl); err != nil {
			return err
		}
	}
	return nil
}

// uplinkUse describes the delivered load on a switch's fabric ports.
func uplinkUse(t *topo.Topology, s *sim.Switch, name string, interval time.Duration) string {
	load := map[uint32]float64{}
	for _, fs := range s.FlowStats() {
		if fs.Routed {
			load[fs.EgressPort] += fs.DeliveredBps
		}
	}
	var parts []string
	for _, ed := range t.Edges(name) {
		if ed.ToHost {
			continue
		}
		parts = append(parts, fmt.Sprintf("port %d→%s %s/%s (%.0f%%)", ed.FromPort, ed.To,
			units.FormatBitrate(load[ed.FromPort]), units.FormatBitrate(ed.Capacity), 100*load[ed.FromPort]/ed.Capacity))
	}
	return name + " uplinks: " + strings.Join(parts, ", ")
}

// meterRates maps "switch/class" to the CIR in bits/s of meter entries.
func meterRates(entities map[string][]*p4v1.Entity, classOf map[int64]string) map[string]float64 {
	out := map[string]float64{}
	for sw, ents := range entities {
		for _, e := range ents {
			me := e.GetMeterEntry()
			if me == nil || me.GetIndex() == nil {
				continue
			}
			name := classOf[me.GetIndex().GetIndex()]
			if name == "" {
				name = fmt.Sprintf("cell %d", me.GetIndex().GetIndex())
			}
			out[sw+"/"+name] = float64(me.GetConfig().GetCir()) * 8
		}
	}
	return out
}

func rate(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return units.FormatBitrate(v)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
