package mininet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/topo"
)

// ErrNoLink is returned by SetLink for an endpoint no link of the
// topology has (a host port or an uncabled port).
var ErrNoLink = errors.New("no switch-to-switch link at this port")

// linksDownFile lists, one per line, the links SetLink took down, each
// followed by " topology" when it is also marked down in the controller's
// topology copy (LinkChange.EditTopology).
const linksDownFile = "links-down"

// LinkChange is what `p4qos lab link` asks of SetLink.
type LinkChange struct {
	// Endpoint is either end of the switch-to-switch link.
	Endpoint topo.Endpoint
	// Up restores the link; false fails it.
	Up bool
	// EditTopology, when failing a link, also marks it down in the
	// controller's topology copy, as an operator editing the intent
	// would: the controller then reacts to the file, not to the
	// switches. Without it only the data plane is cut and the controller
	// must detect the failure by its link-liveness probes. Restoring a
	// link undoes both, whichever way it went down.
	EditTopology bool
}

// ParseLinkChange reads `lab link`'s arguments: "down" or "up", and
// SWITCH:PORT.
func ParseLinkChange(state, endpoint string) (LinkChange, error) {
	var ch LinkChange
	if state != "down" && state != "up" {
		return ch, fmt.Errorf("expected down or up, got %q", state)
	}
	ch.Up = state == "up"
	return ch, ch.Endpoint.UnmarshalYAMLNode(&yaml.Node{Kind: yaml.ScalarNode, Value: endpoint})
}

// LinkOf returns the switch-to-switch link with one end at ep.
func LinkOf(t *topo.Topology, ep topo.Endpoint) (*topo.Link, error) {
	for _, lk := range t.Links {
		if lk.A == ep || lk.B == ep {
			return lk, nil
		}
	}
	return nil, fmt.Errorf("%s: %w of topology %s", ep, ErrNoLink, t.Name)
}

// IntfName is the lab's veth of a switch port: Mininet names it
// <switch>-eth<port>, and it lives in the lab's namespace.
func IntfName(ep topo.Endpoint) string { return fmt.Sprintf("%s-eth%d", ep.Switch, ep.Port) }

// SetLink fails or restores the link with an end at ch.Endpoint. A failed
// link drops everything either end sends into it: both ends' veths get a
// zero-length FIFO as the leaf queue of their shaping (see blackhole), so
// packets the switches send there vanish, as on a cut cable, and the
// link-liveness probes of `p4qos run` go unanswered. The veths are not set
// down: BMv2 simple_switch stops sending on every port while one of its
// ports is administratively down (measured on the fabric lab: with
// leaf1-eth3 down, leaf1-eth4 sent nothing either until leaf1-eth3 came
// back), which is a whole-switch failure, not a link failure. By default
// that is all: the topology the controller reads stays the intent, and the
// controller finds the failure from the switches (docs/controller.md, "Link
// liveness"). With ch.EditTopology the controller's topology copy is also
// rewritten with the link marked down, so that `p4qos run`, which polls it,
// moves routes, ECMP groups and the allocation at its next polls even with
// probes off: the behaviour before link liveness, kept for comparison.
func (l *Lab) SetLink(ctx context.Context, ch LinkChange) (*topo.Link, error) {
	lk, err := LinkOf(l.topo, ch.Endpoint)
	if err != nil {
		return nil, err
	}
	// The namespace is named after the topology, not the state directory:
	// a lab of the same name started with another --state-dir (a test's)
	// must not have its links cut by a command that cannot record it.
	if _, err := os.Stat(l.stateDir); err != nil {
		return nil, fmt.Errorf("lab %s is not up with state in %s (started with another --state-dir?): %w", l.topo.Name, l.stateDir, ErrPrecondition)
	}
	if !l.namespaceExists() {
		return nil, fmt.Errorf("lab %s is not up: %w", l.topo.Name, ErrPrecondition)
	}
	state := "down"
	if ch.Up {
		state = "up"
	}
	down, err := l.linksDown()
	if err != nil {
		return nil, err
	}
	// A link already in that state keeps its data plane.
	was, isDown := down[lk.Name()]
	if isDown == ch.Up {
		for _, end := range []topo.Endpoint{lk.A, lk.B} {
			if err := l.blackhole(ctx, IntfName(end), !ch.Up); err != nil {
				return nil, fmt.Errorf("set %s %s: %w", IntfName(end), state, err)
			}
		}
	}
	if ch.Up {
		delete(down, lk.Name())
	} else {
		down[lk.Name()] = ch.EditTopology
	}
	if err := l.writeLinksDown(down); err != nil {
		return nil, err
	}
	// The copy is written only when its marks change: a rewrite with the
	// same content would still be a topology event for the controller.
	if edited := !ch.Up && ch.EditTopology; edited != (isDown && was) {
		if _, err := os.Stat(filepath.Join(l.stateDir, "topology.yaml")); err == nil {
			if _, err := l.bmv2Topology(); err != nil {
				return nil, fmt.Errorf("rewrite the controller's topology: %w", err)
			}
		}
	}
	how := "in the data plane; the controller must detect it"
	if ch.EditTopology && !ch.Up {
		how = "and marked down in the controller's topology"
	}
	if ch.Up {
		how = "again"
	}
	l.say("link %s is %s %s", lk.Name(), state, how)
	return lk, nil
}

// linksDown reads the failed links (by Link.Name), each with whether it
// is marked down in the controller's topology copy.
func (l *Lab) linksDown() (map[string]bool, error) {
	down := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(l.stateDir, linksDownFile))
	if errors.Is(err, os.ErrNotExist) {
		return down, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			down[f[0]] = len(f) > 1 && f[1] == "topology"
		}
	}
	return down, nil
}

func (l *Lab) writeLinksDown(down map[string]bool) error {
	names := make([]string, 0, len(down))
	for n := range down {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		if down[n] {
			b.WriteString(" topology")
		}
		b.WriteString("\n")
	}
	return os.WriteFile(filepath.Join(l.stateDir, linksDownFile), []byte(b.String()), 0o600)
}

// writeAtomic replaces path by data in one rename, so that the
// controller, which polls the file, never reads half of it.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// blackholeHandle is the handle of the zero-length FIFO that drops a
// failed link's packets.
const blackholeHandle = "9f:"

// blackhole makes the veth dev (in the lab namespace) drop everything sent
// into it (on) or carry traffic again (off). Mininet shapes a link with an
// htb root and one class; the class's leaf queue becomes a pfifo of limit 0,
// which accepts nothing (a qdisc rather than a tc drop action, because the
// lab's kernels may lack the action modules). A leaf queue that was there
// (netem for delay or loss) is saved in the state directory and put back.
// A veth without a class gets the FIFO as its root.
func (l *Lab) blackhole(ctx context.Context, dev string, on bool) error {
	tc := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.namespace, "tc"}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return string(out), nil
	}
	classes, err := tc("class", "show", "dev", dev)
	if err != nil {
		return err
	}
	parent := "root"
	if f := strings.Fields(classes); len(f) >= 3 && f[0] == "class" {
		parent = f[2] // "class htb 5:1 root prio 0 rate ..."
	}
	saved := filepath.Join(l.stateDir, "links-down."+dev+".qdisc")
	if on {
		qdiscs, err := tc("qdisc", "show", "dev", dev)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(qdiscs, "\n") {
			if f := strings.Fields(line); parent != "root" && len(f) >= 5 && f[3] == "parent" && f[4] == parent && f[2] != blackholeHandle {
				if err := os.WriteFile(saved, []byte(line), 0o600); err != nil {
					return err
				}
			}
		}
		_, err = tc("qdisc", "replace", "dev", dev, "parent", parent, "handle", blackholeHandle, "pfifo", "limit", "0")
		return err
	}
	if b, err := os.ReadFile(saved); err == nil {
		// "qdisc netem 10: parent 5:1 limit 1000 delay 1ms"
		f := strings.Fields(string(b))
		if len(f) >= 5 {
			args := append([]string{"qdisc", "replace", "dev", dev, "parent", f[4], "handle", f[2], f[1]}, f[5:]...)
			if _, err := tc(args...); err != nil {
				return err
			}
			return os.Remove(saved)
		}
	}
	if parent == "root" {
		_, err = tc("qdisc", "del", "dev", dev, "root")
	} else {
		_, err = tc("qdisc", "del", "dev", dev, "parent", parent, "handle", blackholeHandle)
	}
	return err
}
