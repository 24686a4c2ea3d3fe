package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/topo"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

// demoFlow is one synthetic traffic source of the demo: parallel
// connections (distinct source ports, so ECMP can spread them) offering rate
// in total.
type demoFlow struct {
	conns          int
	name, src, dst string
	proto          uint8
	dport          uint16
	rate           float64 // offered bits/s
	// dropTo, when > 0, is the offered rate from round dropAt on.
	dropTo float64
}

func newDemoCmd(e *env) *cobra.Command {
	var (
		topoFile, policyFile, p4info string
		rounds                       int
		interval                     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole system on embedded sim switches and tell what happens",
		Long: `demo starts one embedded P4Runtime switch (p4qos sim) per switch of the example
fabric, compiles the example policy, installs it over P4Runtime with the controller, then
runs closed-loop allocation rounds on simulated time while synthetic traffic flows and one
tenant's demand drops. Everything runs on 127.0.0.1 and ends on its own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rounds < 2 {
				return invalidInputf("--rounds must be at least 2, got %d", rounds)
			}
			if interval <= 0 {
				return invalidInputf("--interval must be positive, got %v", interval)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			return runDemo(ctx, e, topoFile, policyFile, p4info, rounds, interval)
		},
	}
	cmd.Flags().StringVarP(&topoFile, "topology", "t", "topo/examples/fabric.yaml", "topology file")
	cmd.Flags().StringVarP(&policyFile, "policy", "p", "topo/examples/fabric-policy.yaml", "policy file")
	cmd.Flags().StringVar(&p4info, "p4info", "p4src/build/qos.p4info.txtpb", "P4Info of the qos pipeline")
	cmd.Flags().IntVar(&rounds, "rounds", 8, "closed-loop rounds (tenant b's demand drops after the third)")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "simulated time per round")
	return cmd
}

func runDemo(ctx context.Context, e *env, topoFile, policyFile, p4info string, rounds int, interval time.Duration) error {
	out := e.stdout
	t, err := topo.Load(topoFile)
	if err != nil {
		return invalidInput(err)
	}
	policy, err := os.ReadFile(policyFile)
	if err != nil {
		return invalidInput(fmt.Errorf("policy: %w", err))
	}
	fmt.Fprintf(out, "p4qos demo: topology %q (%d switches, %d hosts, %d links), policy %s\n\n",
		t.Name, len(t.Switches), len(t.Hosts), len(t.Links), policyFile)

	// 1. One embedded switch per topology switch, on free loopback ports,
	// its egress ports limited to the link capacities.
	fmt.Fprintf(out, "[1/4] Starting %d embedded P4Runtime switches (p4qos sim)\n", len(t.Switches))
	sims := map[string]*sim.Switch{}
	var entries []switchEntry
	for _, sw := range t.Switches {
		opts := []sim.Option{sim.WithDeviceID(sw.DeviceID), sim.WithLogger(discardLogger())}
		for _, ed := range t.Edges(sw.Name) {
			opts = append(opts, sim.WithPortRate(ed.FromPort, ed.Capacity))
		}
		s, addr, err := sim.Start(ctx, "127.0.0.1:0", opts...)
		if err != nil {
			return fmt.Errorf("start sim %s: %w", sw.Name, err)
		}
		defer s.Close()
		sims[sw.Name] = s
		entries = append(entries, switchEntry{Name: sw.Name, Address: addr, Target: string(topo.TargetSim)})
		fmt.Fprintf(out, "      %-7s device %d on %s\n", sw.Name, sw.DeviceID, addr)
	}

	// 2. Compile.
	cfg := &runConfig{
		Topology: topoFile, Policy: policyFile, P4Info: p4info, Switches: entries,
		ElectionID: 1, BatchSize: controlplane.DefaultBatchSize, Hysteresis: 0.05,
		ReconcileInterval: time.Hour, Timeout: 30 * time.Second,
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		return err
	}
	pol, err := compiler.ParsePolicy(policyFile, policy)
	if err != nil {
		return invalidInput(err)
	}
	res, err := compiler.Compile(ctx, pol, t, fb.schema)
	if err != nil {
		return invalidInput(err)
	}
	intents, model, err := fb.intents(ctx, policy)
	if err != nil {
		return invalidInput(err)
	}
	if model == nil {
		return invalidInputf("policy %s meters no class from the allocator: nothing for the closed loop to do", policyFile)
	}
	fmt.Fprintf(out, "\n[2/4] Compiled %d classes for %d switches\n", len(res.Classes), len(res.SwitchOrder))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      CLASS\tID\tPHB\tQUEUE\tMETER")
	for _, c := range res.Classes {
		m := "-"
		if c.Meter != nil {
			m = fmt.Sprintf("CIR %s PIR %s", units.FormatBitrate(float64(c.Meter.CIR)*8), units.FormatBitrate(float64(c.Meter.PIR)*8))
		}
		fmt.Fprintf(tw, "      %s\t%d\t%s\t%d\t%s\n", c.Name, c.ID, c.PHB, c.Queue, m)
	}
	tw.Flush()

	// 3. Install with the controller, over P4Runtime.
	fmt.Fprintf(out, "\n[3/4] Installing over P4Runtime (pipeline, then entities in dependency order)\n")
	rec := &enforcementRecorder{model: model}
	loop := controlplane.NewLoop(rec, controlplane.WithHysteresis(cfg.Hysteresis),
		// BwE takes the maximum usage over a window; two rounds keep the
		// story short while still riding out one low sample.
		controlplane.WithEstimator(allocator.NewDemandEstimator(allocator.WithWindow(2*interval))))
	var (
		mu     sync.Mutex
		stats  = map[string]controlplane.ReconcileStats{}
		failed = map[string]error{}
		done   = make(chan struct{})
	)
	d, err := controlplane.NewDaemon(fb.switches,
		controlplane.WithSessionOptions(controlplane.WithElectionID(controlplane.ElectionID{Low: 1})),
		controlplane.WithReconcileInterval(time.Hour),
		controlplane.WithClosedLoop(loop, 0), // ticked by hand below, on simulated time
		controlplane.WithDaemonLogger(discardLogger()),
		controlplane.WithReconcileHook(func(sw string, st controlplane.ReconcileStats, err error) {
			mu.Lock()
			defer mu.Unlock()
			if _, seen := stats[sw]; seen {
				return
			}
			if err != nil {
				failed[sw] = err
				return
			}
			stats[sw] = st
			if len(stats) == len(sims) {
				close(done)
			}
		}))
	if err != nil {
		return err
	}
	d.SetIntent(intents)
	runCtx, stopRun := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(runCtx) }()
	defer func() { stopRun(); <-runErr }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("switches not installed within 30s (failed: %v)", failed)
	case <-ctx.Done():
		return ctx.Err()
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      SWITCH\tPIPELINE\tINSERTED\tMODIFIED\tWRITE RPCS")
	for _, sw := range t.Switches {
		st := stats[sw.Name]
		fmt.Fprintf(tw, "      %s\t%s\t%d\t%d\t%d\n", sw.Name, yesNo(st.Pushed, "pushed", "already there"), st.Inserts, st.Modifies, st.Write.RPCs)
	}
	tw.Flush()

	// 4. Traffic and the closed loop.
	flows := []demoFlow{
		{name: "voice h1→h3", conns: 1, src: "h1", dst: "h3", proto: 17, dport: 20000, rate: 1.5e6},
		{name: "a-web h1→h3", conns: 8, src: "h1", dst: "h3", proto: 6, dport: 5001, rate: 60e6},
		{name: "a-backup h1→h4", conns: 8, src: "h1", dst: "h4", proto: 6, dport: 8080, rate: 30e6},
		{name: "b-sync h2→h4", conns: 8, src: "h2", dst: "h4", proto: 6, dport: 873, rate: 40e6, dropTo: 4e6},
	}
	dropAt := min(4, rounds)
	fmt.Fprintf(out, "\n[4/4] Closed loop: %d rounds of %v simulated time; tenant b's offered load drops to %s in round %d\n",
		rounds, interval, units.FormatBitrate(flows[3].dropTo), dropAt)
	for _, f := range flows {
		fmt.Fprintf(out, "      flow %-15s %s offered\n", f.name, units.FormatBitrate(f.rate))
	}
	classOf := map[int64]string{}
	for _, c := range res.Classes {
		classOf[int64(c.ID)] = c.Name
	}
	now := time.Unix(0, 0)
	if _, err := d.LoopTick(ctx, now); err != nil { // baseline counter sample
		return fmt.Errorf("loop: %w", err)
	}
	// What the switches hold: the controller's installed state for every
	// meter entry (it writes only changes beyond the hysteresis).
	installedMeters := func() map[string]float64 {
		inst := controlplane.Enforcement{Entities: map[string][]*p4v1.Entity{}}
		for sw, in := range intents {
			for _, e := range in.Entities {
				if e.GetMeterEntry() == nil {
					continue
				}
				if key, err := fb.schema.Key(e); err == nil {
					if cur := d.Installed(sw, key); cur != nil {
						e = cur
					}
				}
				inst.Entities[sw] = append(inst.Entities[sw], e)
			}
		}
		return meterRates(inst, classOf)
	}
	prevMeters := installedMeters()
	for r := 1; r <= rounds; r++ {
		if err := offer(t, sims, flows, r >= dropAt); err != nil {
			return err
		}
		for _, s := range sims {
			s.Advance(interval)
		}
		now = now.Add(interval)
		tick, err := d.LoopTick(ctx, now)
		if err != nil {
			return fmt.Errorf("round %d: loop: %w", r, err)
		}
		note := ""
		if r == dropAt {
			note = "  ← tenant b's demand drops"
		}
		fmt.Fprintf(out, "\n  round %d (t=%v)%s\n", r, time.Duration(now.UnixNano()), note)
		enf := rec.last()
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "      FLOW GROUP\tMEASURED\tDEMAND\tALLOCATED")
		for _, fg := range sortedNames(enf.Allocation) {
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\n", fg, rate(tick.Usage, fg), rate(tick.Demand, fg), units.FormatBitrate(enf.Allocation[fg]))
		}
		tw.Flush()
		meters := installedMeters()
		var changes []string
		for _, k := range sortedNames(meters) {
			if meters[k] != prevMeters[k] {
				changes = append(changes, fmt.Sprintf("%s %s → %s", k, units.FormatBitrate(prevMeters[k]), units.FormatBitrate(meters[k])))
			}
		}
		written := 0
		for _, n := range tick.Written {
			written += n
		}
		if len(changes) == 0 {
			fmt.Fprintf(out, "      meters: unchanged (allocation within the %.0f%% hysteresis); %d entities written\n", cfg.Hysteresis*100, written)
		} else {
			fmt.Fprintf(out, "      meters written (CIR): %s; %d entities written\n", strings.Join(changes, ", "), written)
		}
		prevMeters = meters
		fmt.Fprintf(out, "      %s\n", uplinkUse(t, sims["leaf1"], "leaf1", interval))
	}

	fmt.Fprintf(out, "\nAt leaf1 in the last round (meter colours over the whole run):\n")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "      FLOW\tCONNS\tCLASS\tEGRESS PORTS\tGREEN\tYELLOW\tRED\tDELIVERED")
	type agg struct {
		conns            int
		class            string
		ports            map[uint32]bool
		offered, bps     float64
		green, yell, red float64
	}
	byFlow := map[string]*agg{}
	var order []string
	for _, fs := range sims["leaf1"].FlowStats() {
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
	fmt.Fprintf(out, "\ndemo done: %d switches programmed over P4Runtime, %d allocation rounds.\n", len(sims), rounds)
	return nil
}

// offer sets each leaf's synthetic flows for the coming round.
func offer(t *topo.Topology, sims map[string]*sim.Switch, flows []demoFlow, dropped bool) error {
	per := map[string][]sim.Flow{}
	for i, f := range flows {
		src, _ := t.Host(f.src)
		dst, _ := t.Host(f.dst)
		if src == nil || dst == nil {
			return invalidInputf("demo flow %s: hosts %s and %s must exist in the topology", f.name, f.src, f.dst)
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

// enforcementRecorder remembers the latest enforcement the loop computed,
// so the demo can show allocations and meter rates.
type enforcementRecorder struct {
	model controlplane.Model
	mu    sync.Mutex
	enf   controlplane.Enforcement
}

func (r *enforcementRecorder) Sources() []controlplane.DemandSource { return r.model.Sources() }

func (r *enforcementRecorder) Enforce(ctx context.Context, demand map[string]float64) (controlplane.Enforcement, error) {
	enf, err := r.model.Enforce(ctx, demand)
	if err == nil {
		r.mu.Lock()
		r.enf = enf
		r.mu.Unlock()
	}
	return enf, err
}

func (r *enforcementRecorder) last() controlplane.Enforcement {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.enf
}

// meterRates maps "switch/class" to the CIR in bits/s of the enforcement's
// meter entries.
func meterRates(enf controlplane.Enforcement, classOf map[int64]string) map[string]float64 {
	out := map[string]float64{}
	for sw, ents := range enf.Entities {
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

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
