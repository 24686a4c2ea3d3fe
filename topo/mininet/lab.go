package mininet

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/p4qos/p4qos/topo"
)

//go:embed lab.py
var labScript []byte

// ErrPrecondition is wrapped by every error that says the machine is not
// ready for a lab (not root, BMv2 or Mininet missing, lab already up): the
// CLI exits 2 on it.
var ErrPrecondition = errors.New("lab not ready")

// ErrNoHost is wrapped when a host name is not the topology's.
var ErrNoHost = errors.New("unknown host")

// Lab is one topology's Mininet lab.
type Lab struct {
	topo      *topo.Topology
	namespace string
	stateDir  string
	bmv2      string
	python    string
	log       *slog.Logger
	progress  io.Writer
	ready     time.Duration
	ctl       *Controller
	cli       string
	logLevel  string
	pcapDir   string
	rtPrio    int
}

// Option configures a Lab.
type Option func(*Lab)

// WithStateRoot sets where lab state directories live (default /run/p4qos).
func WithStateRoot(dir string) Option {
	return func(l *Lab) { l.stateDir = filepath.Join(dir, "lab-"+l.topo.Name) }
}

// WithBMv2 sets the simple_switch_grpc binary (default: PATH, then /opt/p4/bin).
func WithBMv2(path string) Option { return func(l *Lab) { l.bmv2 = path } }

// WithLogger sets the logger (default: discard).
func WithLogger(log *slog.Logger) Option { return func(l *Lab) { l.log = log } }

// WithProgress sets where progress lines for people go (default: discard).
func WithProgress(w io.Writer) Option { return func(l *Lab) { l.progress = w } }

// WithBMv2LogLevel sets the switches' --log-level (default warn: BMv2
// logging every packet is slow; debug or trace show each packet's path
// through the pipeline in <switch>.log.txt in the state directory).
func WithBMv2LogLevel(level string) Option { return func(l *Lab) { l.logLevel = level } }

// WithSwitchRTPriority runs the lab's BMv2 switches at real-time priority
// prio (SCHED_RR, 1..99; 0, the default, leaves them to the normal
// scheduler). A software switch shares the machine's CPUs: under other
// load each of the threads a packet crosses (receive, ingress, egress,
// transmit) can wait a scheduler slice, milliseconds, for a CPU, which
// a hardware switch never does. Nice values do not help against other
// sessions' work: with the kernel's autogroups (sched_autogroup_enabled)
// nice only ranks threads within their session, and the lab runs in a
// session of its own. Measured on lab 5 (docs/labs/lab5-admission.md):
// EF one-way delay maxima of 200-350ms at normal priority under a load
// average of 10 on 2 cores, under 8ms at real-time priority.
func WithSwitchRTPriority(prio int) Option { return func(l *Lab) { l.rtPrio = prio } }

// WithController makes Up program the switches with the p4qos controller
// once they listen, and leave it running as a daemon (see Controller).
// Without it the switches run with no pipeline.
func WithController(c Controller) Option { return func(l *Lab) { l.ctl = &c } }

// WithReadyTimeout bounds how long Up waits for the network (default 90s).
func WithReadyTimeout(d time.Duration) Option { return func(l *Lab) { l.ready = d } }

// Python is the interpreter Mininet needs: Debian's, whose path has the
// mininet module (a pyenv python3 earlier on PATH does not).
const Python = "/usr/bin/python3"

// New returns the lab for t. Nothing is started.
func New(t *topo.Topology, opts ...Option) *Lab {
	l := &Lab{
		topo:      t,
		namespace: "p4qos-" + t.Name,
		stateDir:  filepath.Join("/run/p4qos", "lab-"+t.Name),
		python:    Python,
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		progress:  io.Discard,
		ready:     90 * time.Second,
	}
	for _, o := range opts {
		o(l)
	}
	if l.bmv2 == "" {
		l.bmv2 = FindBMv2()
	}
	l.cli = findSwitchCLI(l.bmv2)
	return l
}

// Namespace is the network namespace the lab's switches live in.
func (l *Lab) Namespace() string { return l.namespace }

// StateDir is where the lab keeps its spec, pids and logs.
func (l *Lab) StateDir() string { return l.stateDir }

// FindBMv2 returns the path of simple_switch_grpc, or "" when absent.
func FindBMv2() string {
	if p, err := exec.LookPath("simple_switch_grpc"); err == nil {
		return p
	}
	if _, err := os.Stat("/opt/p4/bin/simple_switch_grpc"); err == nil {
		return "/opt/p4/bin/simple_switch_grpc"
	}
	return ""
}

// MissingTools lists what a lab needs that this machine lacks, each with how
// to get it; empty when all is there. It does not check for root.
func MissingTools(bmv2 string) []string {
	var out []string
	if bmv2 == "" {
		out = append(out, "BMv2 simple_switch_grpc not found on PATH or in /opt/p4/bin: build p4lang/behavioral-model with --with-pi (see docs/labs/README.md)")
	}
	if err := exec.Command(Python, "-c", "import mininet.net").Run(); err != nil {
		out = append(out, "Mininet is missing for "+Python+": apt-get install mininet")
	}
	for _, tool := range []string{"ip", "tc", "ethtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			out = append(out, tool+" is missing: apt-get install iproute2 ethtool")
		}
	}
	return out
}

// Preflight says why Up cannot run here; nil when it can.
func (l *Lab) Preflight() error {
	var probs []string
	if os.Geteuid() != 0 {
		probs = append(probs, "a lab needs root (network namespaces, veths, tc): run it with sudo")
	}
	probs = append(probs, MissingTools(l.bmv2)...)
	if l.namespaceExists() {
		probs = append(probs, fmt.Sprintf("lab %q is already up (namespace %s): run `p4qos lab down` first", l.topo.Name, l.namespace))
	}
	if l.ctl != nil {
		probs = append(probs, l.ctl.missing()...)
	}
	probs = append(probs, rtProblems(l.rtPrio)...)
	if len(probs) > 0 {
		return fmt.Errorf("%w:\n  - %s", ErrPrecondition, strings.Join(probs, "\n  - "))
	}
	return nil
}

// rtProblems says what is wrong with a switch real-time priority: out of
// SCHED_RR's range, or no chrt to apply it with.
func rtProblems(prio int) []string {
	switch {
	case prio == 0:
		return nil
	case prio < 0 || prio > 99:
		return []string{fmt.Sprintf("switch real-time priority %d is not a SCHED_RR priority (1..99, or 0 for none)", prio)}
	}
	if _, err := exec.LookPath("chrt"); err != nil {
		return []string{"chrt not found (util-linux): it sets the switches' real-time priority"}
	}
	return nil
}

// applyOptions puts the options that change how BMv2 runs into the spec
// lab.py reads.
func (l *Lab) applyOptions(s *Spec) {
	if l.logLevel != "" {
		s.LogLevel = l.logLevel
	}
	s.RTPriority = l.rtPrio
}

// Up starts the lab and returns once every switch's P4Runtime server
// accepts connections. On any failure it tears down what it started.
func (l *Lab) Up(ctx context.Context) (err error) {
	if err := l.Preflight(); err != nil {
		return err
	}
	spec, err := BuildSpec(l.topo, l.bmv2, l.stateDir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPrecondition, err)
	}
	l.applyOptions(spec)
	if err := l.preparePcap(spec); err != nil {
		return fmt.Errorf("%w: %v", ErrPrecondition, err)
	}
	defer func() {
		if err != nil {
			l.say("lab up failed; cleaning up")
			if derr := l.Down(context.WithoutCancel(ctx)); derr != nil {
				err = errors.Join(err, fmt.Errorf("cleanup: %w", derr))
			}
		}
	}()
	if l.stateDirExists() || l.anyHostNetns() {
		// Left over by a lab that crashed and was not taken down: its pid
		// files would mislead a later Down, and its processes may live on.
		l.say("state of an earlier lab %q found in %s; cleaning it up first", l.topo.Name, l.stateDir)
		if err := l.Down(ctx); err != nil {
			return fmt.Errorf("cleaning up the earlier lab: %w", err)
		}
	}
	if err := os.MkdirAll(l.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	script := filepath.Join(l.stateDir, "lab.py")
	if err := os.WriteFile(script, labScript, 0o700); err != nil {
		return err
	}
	l.say("creating namespace %s", l.namespace)
	if err := run(ctx, "ip", "netns", "add", l.namespace); err != nil {
		return err
	}
	if err := run(ctx, "ip", "-n", l.namespace, "link", "set", "lo", "up"); err != nil {
		return err
	}
	if !l.netemWorks(ctx) {
		if n := stripNetem(spec); n > 0 {
			l.say("warning: this kernel has no netem qdisc (sch_netem): the delays and losses of %d links are not applied; capacities are", n)
		}
	}
	specJSON, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(filepath.Join(l.stateDir, "spec.json"), specJSON, 0o600); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(l.stateDir, "mininet.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", l.namespace, l.python, script, filepath.Join(l.stateDir, "spec.json"))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: the lab outlives this command and ^C here.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	l.say("starting Mininet with %d BMv2 switches and %d hosts", len(spec.Switches), len(spec.Hosts))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mininet: %w", err)
	}
	_ = os.WriteFile(filepath.Join(l.stateDir, "mininet.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.NewTimer(l.ready)
	defer deadline.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	pinned := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			return fmt.Errorf("mininet exited before the lab was ready (%v); last lines of %s:\n%s", err, logf.Name(), tail(logf.Name(), 15))
		case <-deadline.C:
			return fmt.Errorf("lab not ready after %s; last lines of %s:\n%s", l.ready, logf.Name(), tail(logf.Name(), 15))
		case <-tick.C:
		}
		if _, err := os.Stat(spec.ReadyFile); err != nil {
			continue
		}
		if !pinned {
			if err := l.pinHostNamespaces(ctx); err != nil {
				return err
			}
			pinned = true
		}
		ok := 0
		for _, sw := range spec.Switches {
			if l.portOpen(ctx, sw.GRPC) {
				ok++
			}
		}
		if ok == len(spec.Switches) {
			l.say("switches of lab %q listening after %s: P4Runtime on %s inside namespace %s", l.topo.Name, time.Since(start).Round(100*time.Millisecond), addrs(spec), l.namespace)
			if l.ctl == nil {
				l.say("no controller: the switches have no pipeline")
				return nil
			}
			return l.startController(ctx, spec)
		}
	}
}

// netemWorks reports whether the kernel can add a netem qdisc, which
// Mininet's TCLink needs for delay and loss (some VM kernels lack it).
func (l *Lab) netemWorks(ctx context.Context) bool {
	if run(ctx, "ip", "netns", "exec", l.namespace, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms") != nil {
		return false
	}
	_ = run(ctx, "ip", "netns", "exec", l.namespace, "tc", "qdisc", "del", "dev", "lo", "root")
	return true
}

// stripNetem removes delays and losses from the spec and returns how many
// links had one.
func stripNetem(s *Spec) int {
	n := 0
	for i := range s.Hosts {
		if s.Hosts[i].Delay != "" || s.Hosts[i].Loss > 0 {
			n++
		}
		s.Hosts[i].Delay, s.Hosts[i].Loss = "", 0
	}
	for i := range s.Links {
		if s.Links[i].Delay != "" || s.Links[i].Loss > 0 {
			n++
		}
		s.Links[i].Delay, s.Links[i].Loss = "", 0
	}
	return n
}

func addrs(s *Spec) string {
	var out []string
	for _, sw := range s.Switches {
		out = append(out, sw.Name+"="+sw.GRPC)
	}
	return strings.Join(out, " ")
}

// portOpen reports whether addr accepts TCP connections inside the lab's
// namespace (bash's /dev/tcp keeps this free of extra tools).
func (l *Lab) portOpen(ctx context.Context, addr string) bool {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return exec.CommandContext(cctx, "ip", "netns", "exec", l.namespace, "bash", "-c",
		fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port)).Run() == nil
}

// pids is what lab.py records.
type pids struct {
	Hosts    map[string]int `json:"hosts"`
	Switches map[string]int `json:"switches"`
}

func (l *Lab) readPids() pids {
	var p pids
	if b, err := os.ReadFile(filepath.Join(l.stateDir, "pids.json")); err == nil {
		_ = json.Unmarshal(b, &p)
	}
	return p
}

// Down stops the lab and removes everything it made. It is safe to run when
// the lab is half up, crashed, or not up at all.
func (l *Lab) Down(ctx context.Context) error {
	var errs []error
	p := l.readPids()
	// The controller first, so that it does not fight vanishing switches.
	if b, err := os.ReadFile(filepath.Join(l.stateDir, "controller.pid")); err == nil {
		// Also when the namespace is already gone: a process can outlive
		// the namespace's name.
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && alive(pid) && strings.Contains(cmdline(pid), filepath.Join(l.stateDir, "p4qos.yaml")) {
			l.say("stopping the controller (pid %d)", pid)
			_ = syscall.Kill(pid, syscall.SIGTERM)
			waitGone(ctx, pid, 6*time.Second)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if b, err := os.ReadFile(filepath.Join(l.stateDir, "mininet.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && alive(pid) {
			l.say("stopping Mininet (pid %d)", pid)
			// SIGTERM lets lab.py run net.stop(); the whole session goes after.
			_ = syscall.Kill(pid, syscall.SIGTERM)
			waitGone(ctx, pid, 10*time.Second)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	// Whatever still runs in the namespace (switches, controller).
	if l.namespaceExists() {
		out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", l.namespace).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	// Host shells live in namespaces of their own, and so does whatever
	// `lab exec` started there (iperf3 -s -D...): kill every process in a
	// host's pinned namespace, then remove the pin. The shells may be gone
	// already (they exit with Mininet) while such processes live on.
	for _, h := range l.topo.Hosts {
		ns := HostNetns(l.topo.Name, h.Name)
		if !netnsExists(ns) {
			continue
		}
		out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := run(ctx, "ip", "netns", "del", ns); err != nil && netnsExists(ns) {
			errs = append(errs, err)
		}
	}
	for name, pid := range p.Hosts {
		if isHostShell(pid, name) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if len(p.Hosts) == 0 && l.stateDirExists() {
		// lab.py died before recording pids: find the shells by name. Only
		// then, since another lab may have hosts of the same names.
		for _, h := range l.topo.Hosts {
			for _, pid := range findHostShells(h.Name) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, pid := range p.Switches {
		if alive(pid) && strings.Contains(cmdline(pid), "simple_switch") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if l.namespaceExists() {
		l.say("deleting namespace %s", l.namespace)
		// The kernel may need a moment after the last process exits.
		var err error
		for i := 0; i < 20; i++ {
			if err = run(ctx, "ip", "netns", "del", l.namespace); err == nil || !l.namespaceExists() {
				err = nil
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(l.stateDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Status describes a lab.
type Status struct {
	Up        bool
	Namespace bool
	Mininet   bool
	Switches  []SwitchStatus
	StateDir  string
	// Controller is the pid of the lab's p4qos run, 0 when none runs.
	Controller int
}

// SwitchStatus is one switch's state.
type SwitchStatus struct {
	Name, Address string
	Process       bool
	P4Runtime     bool
}

// Status inspects the lab without changing it.
func (l *Lab) Status(ctx context.Context) Status {
	st := Status{Namespace: l.namespaceExists(), StateDir: l.stateDir, Controller: l.ControllerPid()}
	if b, err := os.ReadFile(filepath.Join(l.stateDir, "mininet.pid")); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		st.Mininet = pid > 0 && alive(pid)
	}
	p := l.readPids()
	st.Up = st.Namespace && st.Mininet
	for _, sw := range l.topo.Switches {
		ss := SwitchStatus{Name: sw.Name, Address: sw.Address}
		if pid, ok := p.Switches[sw.Name]; ok {
			ss.Process = alive(pid)
		}
		if st.Namespace {
			ss.P4Runtime = l.portOpen(ctx, sw.Address)
		}
		st.Up = st.Up && ss.Process && ss.P4Runtime
		st.Switches = append(st.Switches, ss)
	}
	return st
}

// HostNamespace returns the name of a running host's network namespace
// (for ip netns exec).
func (l *Lab) HostNamespace(host string) (string, error) {
	if _, ok := l.topo.Host(host); !ok {
		return "", fmt.Errorf("%w: lab %q has no host %q", ErrNoHost, l.topo.Name, host)
	}
	ns := HostNetns(l.topo.Name, host)
	if !netnsExists(ns) {
		return "", fmt.Errorf("host %q of lab %q is not running (no namespace %s): is the lab up?", host, l.topo.Name, ns)
	}
	return ns, nil
}

// pinHostNamespaces names every host's namespace (ip netns attach) so that
// Down finds the processes started there, even once the host's shell is
// gone. It runs here, not in lab.py: `ip netns exec` gives lab.py a mount
// namespace whose mounts do not propagate back, so a pin made there would
// be an empty file out here.
func (l *Lab) pinHostNamespaces(ctx context.Context) error {
	p := l.readPids()
	for _, h := range l.topo.Hosts {
		pid, ok := p.Hosts[h.Name]
		if !ok || !isHostShell(pid, h.Name) {
			return fmt.Errorf("host %s: no shell recorded by Mininet", h.Name)
		}
		if err := run(ctx, "ip", "netns", "attach", HostNetns(l.topo.Name, h.Name), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	return nil
}

func (l *Lab) anyHostNetns() bool {
	for _, h := range l.topo.Hosts {
		if netnsExists(HostNetns(l.topo.Name, h.Name)) {
			return true
		}
	}
	return false
}

func (l *Lab) stateDirExists() bool {
	_, err := os.Stat(l.stateDir)
	return err == nil
}

func (l *Lab) namespaceExists() bool { return netnsExists(l.namespace) }

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

func (l *Lab) say(format string, args ...any) {
	fmt.Fprintf(l.progress, format+"\n", args...)
	l.log.Debug(fmt.Sprintf(format, args...))
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	// A zombie is not alive for our purposes.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

func waitGone(ctx context.Context, pid int, max time.Duration) {
	end := time.Now().Add(max)
	for alive(pid) && time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// isHostShell checks that pid is still Mininet's shell for host (pids are
// reused).
func isHostShell(pid int, host string) bool {
	return alive(pid) && strings.HasSuffix(strings.TrimSpace(cmdline(pid)), "mininet:"+host)
}

// netnsOf returns the identity of pid's network namespace ("net:[inode]"),
// "" when unknown.
func netnsOf(pid int) string {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return ""
	}
	return ns
}

func findHostShells(host string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && isHostShell(pid, host) {
			out = append(out, pid)
		}
	}
	return out
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// WriteText prints the status for a person: the lab, its controller, and
// a table of its switches.
func (st Status) WriteText(w io.Writer, namespace string) error {
	state := "down"
	if st.Up {
		state = "up"
	} else if st.Namespace || st.Mininet {
		state = "partly up (run `p4qos lab down`)"
	}
	fmt.Fprintf(w, "lab %s: %s (namespace %v, mininet %v, state %s)\n", namespace, state, st.Namespace, st.Mininet, st.StateDir)
	if st.Controller > 0 {
		fmt.Fprintf(w, "controller: running (pid %d, log %s)\n", st.Controller, filepath.Join(st.StateDir, "controller.log"))
	} else {
		fmt.Fprintln(w, "controller: not running")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SWITCH\tP4RUNTIME\tPROCESS\tLISTENING")
	for _, s := range st.Switches {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\n", s.Name, s.Address, s.Process, s.P4Runtime)
	}
	return tw.Flush()
}

// ExecInNamespace runs argv inside the lab's namespace (ip netns exec) with
// the given standard streams.
func (l *Lab) ExecInNamespace(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, argv ...string) error {
	c := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.namespace}, argv...)...)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	return c.Run()
}

// RequireRoot says, as a precondition error, that what needs root.
func RequireRoot(what string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: %s needs root: run it with sudo", ErrPrecondition, what)
	}
	return nil
}

// DefaultPolicyFile is the policy a lab of topology t (read from topoFile)
// runs when none is given: <topology dir>/<topology name>-policy.yaml when
// that file exists, else "" (the lab then writes a best-effort policy).
func DefaultPolicyFile(topoFile string, t *topo.Topology) string {
	guess := filepath.Join(filepath.Dir(topoFile), t.Name+"-policy.yaml")
	if _, err := os.Stat(guess); err == nil {
		return guess
	}
	return ""
}
