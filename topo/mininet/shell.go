package mininet

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// WithPcap makes every BMv2 switch of the lab write per-port captures into
// dir (BMv2's --pcap): <switch>-eth<port>_in.pcap and _out.pcap, what each
// port received and sent, for Wireshark or tcpdump -r. Relative dirs are
// taken from the working directory.
func WithPcap(dir string) Option { return func(l *Lab) { l.pcapDir = dir } }

// preparePcap makes the capture directory and puts its absolute path in
// the spec (lab.py runs elsewhere).
func (l *Lab) preparePcap(s *Spec) error {
	if l.pcapDir == "" {
		return nil
	}
	abs, err := filepath.Abs(l.pcapDir)
	if err != nil {
		return fmt.Errorf("--pcap %s: %w", l.pcapDir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("--pcap: %w", err)
	}
	s.PcapDir = abs
	return nil
}

// PcapDir is where the lab's captures go ("" without WithPcap).
func (l *Lab) PcapDir() string { return l.pcapDir }

// ShellTools lists what `lab cli` needs that this machine lacks, each with
// the Debian package that has it.
func ShellTools() []string {
	var out []string
	for tool, pkg := range map[string]string{"ip": "iproute2", "bash": "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			out = append(out, fmt.Sprintf("%s is missing: apt-get install %s", tool, pkg))
		}
	}
	return out
}

// Shell returns the command of an interactive shell on a lab host (its
// network namespace: its interfaces, addresses and routes, as Mininet's
// `h1 bash` gives) or, for host "", in the lab's namespace, where the
// switches' P4Runtime and thrift ports listen. The prompt names where it
// runs; the user's ~/.bashrc is not read, so that no PS1 there hides it.
func (l *Lab) Shell(host string) (*exec.Cmd, error) {
	if missing := ShellTools(); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrPrecondition, missing[0])
	}
	ns, where := l.namespace, "lab "+l.topo.Name
	if host != "" {
		var err error
		if ns, err = l.HostNamespace(host); errors.Is(err, ErrNoHost) {
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPrecondition, err)
		}
		where = host
	} else if !l.namespaceExists() {
		return nil, fmt.Errorf("%w: lab %q is not up (no namespace %s): p4qos lab up first", ErrPrecondition, l.topo.Name, ns)
	}
	c := exec.Command("ip", "netns", "exec", ns, "bash", "--norc", "-i")
	c.Env = append(os.Environ(), "PS1=["+where+"] \\w# ", "P4QOS_LAB="+l.topo.Name)
	return c, nil
}
