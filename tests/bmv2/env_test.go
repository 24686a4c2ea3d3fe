package bmv2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	repoRoot   = "../.."
	grpcAddr   = "127.0.0.1:9559"
	thriftPort = "9090"
	deviceID   = 1
)

var (
	committedP4Info = filepath.Join(repoRoot, "p4src", "build", "qos.p4info.txtpb")
	committedJSON   = filepath.Join(repoRoot, "p4src", "build", "qos.json")
)

// findTool looks on PATH, then in /opt/p4/bin where DEVELOPERS.md installs
// p4c and BMv2.
func findTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	p := filepath.Join("/opt/p4/bin", name)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p, true
	}
	return "", false
}

// requireBMv2 skips the test unless root, iproute2 and simple_switch_grpc
// are available, and returns the simple_switch_grpc path.
func requireBMv2(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("BMv2 packet tests take seconds each; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and veth pairs (run the BMv2 packet tests as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 `ip` for network namespaces and veth pairs")
	}
	ssg, ok := findTool("simple_switch_grpc")
	if !ok {
		t.Skip("simple_switch_grpc not found on PATH or in /opt/p4/bin (BMv2 with P4Runtime support; see DEVELOPERS.md)")
	}
	return ssg
}

// requirePipeline skips the test unless the compiled program exists.
func requirePipeline(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(committedJSON); err != nil {
		t.Skipf("BMv2 JSON %s missing: run `make p4` (needs p4c-bm2-ss)", committedJSON)
	}
}

// requireCLI returns simple_switch_CLI, needed to set queue rates over thrift.
func requireCLI(t *testing.T) string {
	t.Helper()
	cli, ok := findTool("simple_switch_CLI")
	if !ok {
		t.Skip("simple_switch_CLI not found on PATH or in /opt/p4/bin: needed for thrift set_queue_rate")
	}
	return cli
}

var nsCounter atomic.Int64

// netns is a network namespace owned by one test.
type netns struct {
	name string
}

// ip runs `ip args...` and fails the test on error.
func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNetns creates a namespace with a unique name and deletes it when the
// test ends, whatever its outcome. Deleting the namespace also deletes the
// veth pairs inside it.
func newNetns(t *testing.T) *netns {
	t.Helper()
	name := fmt.Sprintf("p4qos-bmv2-%d-%d", os.Getpid(), nsCounter.Add(1))
	runCmd(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	ns := &netns{name: name}
	// No IPv6 on the test interfaces: the kernel would otherwise send router
	// solicitations and MLD reports into the switch ports.
	ns.exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	ns.exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
	ns.exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

func (ns *netns) exec(t *testing.T, args ...string) string {
	t.Helper()
	return runCmd(t, "ip", append([]string{"netns", "exec", ns.name}, args...)...)
}

// switchIface and hostIface name the two ends of the veth pair of switch
// port p; both live in the test namespace.
func switchIface(p int) string { return fmt.Sprintf("sw%d", p) }
func hostIface(p int) string   { return fmt.Sprintf("h%d", p) }

func (ns *netns) addPort(t *testing.T, p int) {
	t.Helper()
	ns.exec(t, "ip", "link", "add", switchIface(p), "type", "veth", "peer", "name", hostIface(p))
	for _, ifc := range []string{switchIface(p), hostIface(p)} {
		ns.exec(t, "ip", "link", "set", ifc, "mtu", "9000", "up")
		// Frames are built by the test with correct checksums; offloads would
		// only let the kernel leave them partial.
		if _, err := exec.LookPath("ethtool"); err == nil {
			_ = exec.Command("ip", "netns", "exec", ns.name, "ethtool", "-K", ifc, "tx", "off", "rx", "off").Run()
		}
	}
}

// do runs fn on an OS thread that has entered the namespace, so that sockets
// fn creates belong to it. If the thread cannot return to its original
// namespace it is left locked, and the runtime discards it when the
// goroutine exits.
func (ns *netns) do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open own netns: %w", err)
	}
	defer orig.Close()
	target, err := os.Open(filepath.Join("/var/run/netns", ns.name))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open netns %s: %w", ns.name, err)
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", ns.name, err)
	}
	fnErr := fn()
	if err := setns(orig.Fd()); err != nil {
		return errors.Join(fnErr, fmt.Errorf("leave netns %s: %w", ns.name, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

func setns(fd uintptr) error {
	return unix.Setns(int(fd), unix.CLONE_NEWNET)
}

// dial opens a TCP connection from inside the namespace.
func (ns *netns) dial(ctx context.Context, addr string) (net.Conn, error) {
	var conn net.Conn
	err := ns.do(func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		conn = c
		return err
	})
	return conn, err
}

// switchProcess is a running simple_switch_grpc.
type switchProcess struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// alive reports whether the switch process is still running.
func (p *switchProcess) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// startSwitch runs simple_switch_grpc inside the namespace with switch ports
// 1..nPorts, without a program (the test pushes one over P4Runtime). It is
// killed when the test ends.
func startSwitch(t *testing.T, ssg string, ns *netns, nPorts int) *switchProcess {
	t.Helper()
	args := []string{"netns", "exec", ns.name, ssg, "--device-id", fmt.Sprint(deviceID)}
	for p := 1; p <= nPorts; p++ {
		args = append(args, "-i", fmt.Sprintf("%d@%s", p, switchIface(p)))
	}
	args = append(args, "--thrift-port", thriftPort, "--no-p4", "--",
		"--grpc-server-addr", grpcAddr, "--priority-queues", "8")
	cmd := exec.Command("ip", args...)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	// Own process group, so that nothing else receives our signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start simple_switch_grpc: %v", err)
	}
	p := &switchProcess{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.alive() {
			_ = cmd.Process.Kill()
		}
		<-p.done
		if t.Failed() {
			t.Logf("simple_switch_grpc output:\n%s", log.String())
		}
	})
	return p
}

// setQueueRate limits every priority queue of an egress port to pps packets
// per second through simple_switch's thrift API.
func setQueueRate(t *testing.T, ns *netns, cli string, port, pps int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.name, cli, "--thrift-port", thriftPort)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("set_queue_rate %d %d\n", pps, port))
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(bytes.ToLower(out), []byte("error")) {
		t.Fatalf("simple_switch_CLI set_queue_rate %d %d: %v\n%s", pps, port, err, out)
	}
}
