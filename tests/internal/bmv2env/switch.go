package bmv2env

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Addresses of a namespaced switch, inside its namespace: nothing in the
// host namespace listens on them, so every test can use the same ones.
const (
	nsGRPCAddr   = "127.0.0.1:9559"
	nsThriftPort = 9090
)

type config struct {
	ports          int
	deviceID       uint64
	priorityQueues int
	cpuPort        int
	netnsPrefix    string
	noOffload      bool
}

// Option is an optional setting of Start.
type Option func(*config)

// WithPorts runs the switch in a network namespace of its own with switch
// ports 1..n, each the SwitchIface end of a veth pair whose HostIface end
// has a PacketSocket (Switch.Port). Without it the switch runs on the
// host's loopback with no data-plane ports, which needs no root.
func WithPorts(n int) Option { return func(c *config) { c.ports = n } }

// WithDeviceID sets the P4Runtime device id (default 1).
func WithDeviceID(id uint64) Option { return func(c *config) { c.deviceID = id } }

// WithPriorityQueues gives every egress port n strict-priority queues
// (simple_switch_grpc --priority-queues; standard_metadata.priority picks
// one). Without it each port has one FIFO queue.
func WithPriorityQueues(n int) Option { return func(c *config) { c.priorityQueues = n } }

// WithCPUPort sets the port of P4Runtime packet-in/out (--cpu-port).
func WithCPUPort(p int) Option { return func(c *config) { c.cpuPort = p } }

// WithNetnsPrefix names the switch's namespace (default "p4qos-bmv2"); a
// process id and sequence number make the name unique.
func WithNetnsPrefix(p string) Option { return func(c *config) { c.netnsPrefix = p } }

// WithoutSegmentationOffload turns off TSO, GSO and GRO on the switch end
// of every port (WithPorts) before the switch starts, so that a burst of
// more than about 30 frames reaches the switch whole. simple_switch reads
// each port through libpcap in immediate mode, a TPACKET_V2 ring of 2 MB
// whose slots libpcap sizes for a 64 KiB packet while any of these
// offloads is on (pcap-linux.c, create_ring): about 31 slots, and frames
// that arrive while they are full are dropped before the pipeline sees
// them. Without the offloads a slot holds one MTU-sized frame (9,000
// bytes: over 200 slots). It skips the test when ethtool is missing.
func WithoutSegmentationOffload() Option { return func(c *config) { c.noOffload = true } }

// Switch is one simple_switch_grpc started without a program (the test
// pushes one over P4Runtime) and killed when the test ends.
type Switch struct {
	bin        string
	cfg        config
	ns         *Netns // nil on the host's loopback
	grpcAddr   string
	thriftPort int
	ports      map[int]*PacketSocket
	log        *LockedBuffer

	mu   sync.Mutex
	proc *Proc
}

// Start runs simple_switch_grpc as the options say. It skips the test when
// simple_switch_grpc (or, with WithPorts, root and `ip`) is missing.
func Start(t testing.TB, opts ...Option) *Switch {
	t.Helper()
	cfg := config{deviceID: 1, netnsPrefix: "p4qos-bmv2"}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Switch{bin: Require(t), cfg: cfg, ports: map[int]*PacketSocket{}, log: &LockedBuffer{}}
	if cfg.ports > 0 {
		s.ns = NewNetns(t, cfg.netnsPrefix)
		for p := 1; p <= cfg.ports; p++ {
			s.ns.AddPort(t, p)
		}
		if cfg.noOffload {
			ethtool, err := exec.LookPath("ethtool")
			if err != nil {
				t.Skip("needs ethtool to turn off segmentation offloads on the switch ports (WithoutSegmentationOffload)")
			}
			for p := 1; p <= cfg.ports; p++ {
				s.ns.Exec(t, ethtool, "-K", SwitchIface(p), "tso", "off", "gso", "off", "gro", "off")
			}
		}
		for p := 1; p <= cfg.ports; p++ {
			s.ports[p] = s.ns.OpenPacketSocket(t, HostIface(p))
		}
		s.grpcAddr, s.thriftPort = nsGRPCAddr, nsThriftPort
	} else {
		s.grpcAddr, s.thriftPort = fmt.Sprintf("127.0.0.1:%d", freePort(t)), freePort(t)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("simple_switch_grpc output:\n%s", s.log.String())
		}
	})
	s.Restart(t)
	return s
}

// freePort returns a TCP port on the host's loopback that was free a moment
// ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Switch) command() *exec.Cmd {
	args := []string{"--device-id", fmt.Sprint(s.cfg.deviceID)}
	for p := 1; p <= s.cfg.ports; p++ {
		args = append(args, "-i", fmt.Sprintf("%d@%s", p, SwitchIface(p)))
	}
	args = append(args, "--thrift-port", fmt.Sprint(s.thriftPort), "--no-p4", "--", "--grpc-server-addr", s.grpcAddr)
	if s.cfg.cpuPort > 0 {
		args = append(args, "--cpu-port", fmt.Sprint(s.cfg.cpuPort))
	}
	if s.cfg.priorityQueues > 0 {
		args = append(args, "--priority-queues", fmt.Sprint(s.cfg.priorityQueues))
	}
	if s.ns == nil {
		return exec.Command(s.bin, args...)
	}
	// `ip netns exec` execs the command after setns, so the process is
	// simple_switch_grpc itself.
	return exec.Command("ip", append([]string{"netns", "exec", s.ns.name, s.bin}, args...)...)
}

// Restart starts the switch again, on the same addresses and ports, if it
// is not running (Start calls it once). Its output goes on in the same log.
func (s *Switch) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.Alive() {
		return
	}
	p, err := StartProc(s.command(), s.log)
	if err != nil {
		t.Fatalf("simple_switch_grpc: %v", err)
	}
	s.proc = p
}

// Stop kills the switch (its process group only) and waits for it to exit.
func (s *Switch) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.Kill()
	s.proc = nil
}

// Pause stops every thread of the switch with SIGSTOP until Resume. The
// switch's clock goes on, so packets queued with a future departure time
// (a rate-limited queue) are all due when it resumes.
func (s *Switch) Pause(t testing.TB) {
	t.Helper()
	if err := s.signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("pause simple_switch_grpc: %v", err)
	}
}

// Resume continues a paused switch.
func (s *Switch) Resume(t testing.TB) {
	t.Helper()
	if err := s.signal(syscall.SIGCONT); err != nil {
		t.Fatalf("resume simple_switch_grpc: %v", err)
	}
}

func (s *Switch) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("not running")
	}
	return s.proc.Signal(sig)
}

// Alive reports whether the switch process is running.
func (s *Switch) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.Alive()
}

// Log is everything the switch has written to stdout and stderr.
func (s *Switch) Log() string { return s.log.String() }

// Addr is the switch's gRPC address, inside its namespace if it has one;
// only Dial and Conn can reach a namespaced one.
func (s *Switch) Addr() string { return s.grpcAddr }

// ThriftAddr is the address of the switch's thrift server (queue rates and
// depths), inside its namespace if it has one: like Addr, only Dial
// reaches a namespaced one. A controller given Dial as its dialer uses it
// as the switch's thrift-address.
func (s *Switch) ThriftAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.thriftPort) }

// DeviceID is the switch's P4Runtime device id.
func (s *Switch) DeviceID() uint64 { return s.cfg.deviceID }

// Netns is the switch's namespace, or nil on the host's loopback.
func (s *Switch) Netns() *Netns { return s.ns }

// Port is the socket on the host end of switch port p (WithPorts), or nil.
func (s *Switch) Port(p int) *PacketSocket { return s.ports[p] }

// Dial opens a TCP connection to addr from where the switch is: its
// namespace, or the host. Its signature is that of grpc.WithContextDialer.
func (s *Switch) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if s.ns != nil {
		return s.ns.Dial(ctx, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// Conn is a gRPC client connection to the switch, closed when the test
// ends. It connects lazily; RPCs with grpc.WaitForReady wait for the
// switch to open its port.
func (s *Switch) Conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+s.grpcAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(s.Dial))
	if err != nil {
		t.Fatalf("gRPC client for %s: %v", s.grpcAddr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// CLI runs simple_switch_CLI against the switch's thrift server with the
// given commands on its standard input, and returns its output. It fails
// the test when the CLI fails or reports an error, and skips it when
// simple_switch_CLI is missing.
func (s *Switch) CLI(t testing.TB, cmds ...string) string {
	t.Helper()
	cli := RequireCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The CLI is a Python script that needs the thrift module: Debian's
	// python3 has it (python3-thrift), a python3 earlier on PATH (pyenv)
	// may not, so the script is not left to its `env python3` shebang.
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		python = "python3"
	}
	args := []string{python, cli, "--thrift-port", fmt.Sprint(s.thriftPort)}
	if s.ns != nil {
		args = append([]string{"ip", "netns", "exec", s.ns.name}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	// The CLI exits 0 after a failed command and says so in its output.
	if err != nil || bytes.Contains(bytes.ToLower(out), []byte("error")) {
		t.Fatalf("simple_switch_CLI %q: %v\n%s", cmds, err, out)
	}
	return string(out)
}

// SetQueueRate limits every priority queue of egress port to pps packets
// per second (thrift set_egress_queue_rate; 0 removes the limit). Each
// queue is paced on its own: the port as a whole may send up to
// pps × (number of queues).
func (s *Switch) SetQueueRate(t testing.TB, port, pps int) {
	t.Helper()
	s.CLI(t, fmt.Sprintf("set_queue_rate %d %d", pps, port))
}

// LockedBuffer is a bytes.Buffer safe for concurrent writers (a process
// writing its output while a test reads it, a logger).
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
