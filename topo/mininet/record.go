package mininet

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
)

// RecordSwitch is a switch whose class counters are sampled.
type RecordSwitch struct {
	Name, Address string
	DeviceID      uint64
}

// Recording says what RecordClassRates samples.
type Recording struct {
	Switches []RecordSwitch
	// Schema is the pipeline's P4Info.
	Schema *tables.Schema
	// Classes names class ids (compiler.ClassInfo order); ids without a
	// name are recorded as "class-N". Class 0, the pipeline's default
	// class that transit switches count, is left out.
	Classes map[int]string
	// Interval is the sampling period; Duration the whole recording.
	Interval, Duration time.Duration
	// SessionOptions are added to the read-only sessions (TLS).
	SessionOptions []controlplane.SessionOption
}

// RecordClassRates samples the class counters of the switches every
// interval and writes, per sample, the rate of every class summed over the
// switches as CSV: time_s then one column per class, in bit/s. Reads need
// no arbitration (P4Runtime §11: any client may read), so this runs beside
// the controller.
func RecordClassRates(ctx context.Context, w io.Writer, r Recording) error {
	if r.Interval <= 0 || r.Duration <= 0 {
		return errors.New("record: interval and duration must be positive")
	}
	entry, err := r.Schema.CounterEntry(contract.ClassCounter, -1)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	// Read-only sessions: the controller's message-size limits and
	// keepalive, no arbitration, and no way to write by mistake.
	var sessions []*controlplane.Session
	defer func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}()
	for _, sw := range r.Switches {
		s, err := controlplane.Dial(controlplane.SwitchConfig{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID},
			append([]controlplane.SessionOption{controlplane.WithReadOnly(), controlplane.WithRPCTimeout(5 * time.Second)}, r.SessionOptions...)...)
		if err != nil {
			return fmt.Errorf("record: %s: %w", sw.Name, err)
		}
		sessions = append(sessions, s)
	}
	// Each switch's counters are read with the time of that read: a read
	// that stalls (a busy switch, a busy machine) must not be charged to
	// the other switches' samples, which a single timestamp per sample did
	// (a 10 ms sample after a stalled one showed 150Mbps on 4Mbps links).
	type sample struct {
		bytes map[int]int64
		at    time.Time
	}
	read := func() ([]sample, error) {
		out := make([]sample, len(sessions))
		for i, s := range sessions {
			ents, err := s.Read(ctx, tables.EntityOf(entry))
			if err != nil {
				return nil, fmt.Errorf("read %s on %s: %w", contract.ClassCounter, s.Switch().Name, err)
			}
			out[i] = sample{bytes: map[int]int64{}, at: time.Now()}
			for _, e := range ents {
				ce := e.GetCounterEntry()
				if ce == nil || ce.Index == nil || ce.Data == nil || ce.Index.Index == 0 {
					continue
				}
				out[i].bytes[int(ce.Index.Index)] += ce.Data.ByteCount
			}
		}
		return out, nil
	}

	ids := make([]int, 0, len(r.Classes))
	for id := range r.Classes {
		if id > 0 {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	cw := csv.NewWriter(w)
	header := []string{"time_s"}
	for _, id := range ids {
		header = append(header, r.Classes[id])
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	prev, err := read()
	if err != nil {
		return err
	}
	start := time.Now()
	last := start
	tick := time.NewTicker(r.Interval)
	defer tick.Stop()
	for time.Since(start) < r.Duration {
		select {
		case <-ctx.Done():
			cw.Flush()
			return ctx.Err()
		case <-tick.C:
		}
		// After a slow read the ticker fires at once (it keeps one tick):
		// a sample only milliseconds after the last read ended would be
		// mostly timing noise.
		if time.Since(last) < r.Interval/2 {
			continue
		}
		cur, err := read()
		if err != nil {
			return err
		}
		last = time.Now()
		row := []string{strconv.FormatFloat(time.Since(start).Seconds(), 'f', 2, 64)}
		for _, id := range ids {
			rate := 0.0
			for i := range cur {
				// A counter that went backwards was reset (pipeline
				// pushed again): count from zero rather than print a
				// negative rate.
				d := cur[i].bytes[id] - prev[i].bytes[id]
				if d < 0 {
					d = cur[i].bytes[id]
				}
				if dt := cur[i].at.Sub(prev[i].at).Seconds(); dt > 0 {
					rate += float64(d) * 8 / dt
				}
			}
			row = append(row, strconv.FormatFloat(rate, 'f', 0, 64))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		cw.Flush()
		prev = cur
	}
	cw.Flush()
	return cw.Error()
}

// RunningConfig is what a lab's controller was started with, read back
// from the state directory.
type RunningConfig struct {
	Policy, P4Info string
	Switches       []RecordSwitch
}

// Running returns the running lab's controller configuration.
func (l *Lab) Running() (*RunningConfig, error) {
	b, err := os.ReadFile(filepath.Join(l.stateDir, "p4qos.yaml"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: lab %q runs no controller (is it up? was it started with --no-controller?)", ErrPrecondition, l.topo.Name)
		}
		return nil, err
	}
	var cfg struct {
		Policy string `yaml:"policy"`
		P4Info string `yaml:"p4info"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(l.stateDir, "p4qos.yaml"), err)
	}
	rc := &RunningConfig{Policy: cfg.Policy, P4Info: cfg.P4Info}
	// The lab's switches are the topology's, at the topology's addresses.
	for _, s := range l.topo.Switches {
		rc.Switches = append(rc.Switches, RecordSwitch{Name: s.Name, Address: s.Address, DeviceID: s.DeviceID})
	}
	return rc, nil
}

// ClassNames names the class ids of a policy: a class's id is its position
// in the file, from 1 (compiler.Policy), so no compilation is needed.
func ClassNames(policyFile string) (map[int]string, error) {
	p, err := compiler.LoadPolicy(policyFile)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, c := range p.Classes {
		names[c.ID] = c.Name
	}
	return names, nil
}

// InNamespace reports whether this process runs in the lab's network
// namespace (whose P4Runtime addresses are reachable only there).
func (l *Lab) InNamespace() bool {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/run/netns", l.namespace), &st); err != nil {
		return false
	}
	return netnsOf(os.Getpid()) == fmt.Sprintf("net:[%d]", st.Ino)
}

// SelectSwitches keeps the named switches (all when names is empty).
func SelectSwitches(all []RecordSwitch, names []string) ([]RecordSwitch, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []RecordSwitch
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			var have []string
			for _, s := range all {
				have = append(have, s.Name)
			}
			return nil, fmt.Errorf("no switch %q in the lab (have %s)", n, strings.Join(have, ", "))
		}
	}
	return out, nil
}

// Record samples the class rates of the running lab's switches (all, or
// the named ones) into w as RecordClassRates does, with the class names of
// the policy its controller runs. It must run inside the lab's namespace
// (InNamespace), where the switches' P4Runtime ports are.
func (l *Lab) Record(ctx context.Context, w io.Writer, switches []string, interval, duration time.Duration) error {
	rc, err := l.Running()
	if err != nil {
		return err
	}
	sws, err := SelectSwitches(rc.Switches, switches)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPrecondition, err)
	}
	schema, err := tables.Load(rc.P4Info)
	if err != nil {
		return err
	}
	names, err := ClassNames(rc.Policy)
	if err != nil {
		return err
	}
	return RecordClassRates(ctx, w, Recording{Switches: sws, Schema: schema, Classes: names, Interval: interval, Duration: duration})
}

// RecordInNamespace runs this binary's `lab record` again inside the lab's
// namespace, where the switches' P4Runtime ports are (ip netns exec keeps
// the working directory: relative paths still hold). labFlags are the lab
// flags to pass on (-t FILE --state-dir DIR). An exit status 2 in there
// (invalid input) is returned wrapping ErrPrecondition.
func (l *Lab) RecordInNamespace(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, labFlags []string, out string, interval, duration time.Duration, switches []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append(append([]string{self, "lab", "record"}, labFlags...), "-o", out, "-i", interval.String(), "-d", duration.String())
	for _, s := range switches {
		args = append(args, "--switch", s)
	}
	err = l.ExecInNamespace(ctx, stdin, stdout, stderr, args...)
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 2 {
		return fmt.Errorf("%w: %w", ErrPrecondition, err)
	}
	return err
}
