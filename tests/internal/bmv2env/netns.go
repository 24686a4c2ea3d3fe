package bmv2env

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var nsSeq atomic.Int64

// Netns is a network namespace owned by one test.
type Netns struct {
	name string
}

// Name is the namespace's name under /var/run/netns.
func (ns *Netns) Name() string { return ns.name }

// run runs a command and fails the test on error.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// NewNetns creates a namespace with a unique name (prefix, process id and
// a sequence number) and deletes it when the test ends, whatever its
// outcome. Its loopback is up and IPv6 is off, so that the kernel sends no
// router solicitations or MLD reports into the switch ports. It skips the
// test unless RequireNetns passes.
func NewNetns(t testing.TB, prefix string) *Netns {
	t.Helper()
	RequireNetns(t)
	ns := &Netns{name: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), nsSeq.Add(1))}
	run(t, "ip", "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns.name, err, out)
		}
	})
	ns.Exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	ns.Exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Exec runs a command inside the namespace and returns its combined
// output, failing the test on error.
func (ns *Netns) Exec(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns.name}, args...)...)
}

// SwitchIface and HostIface name the two ends of the veth pair of switch
// port p: simple_switch owns the first, the test sends and captures on the
// second. Both live in the test namespace.
func SwitchIface(p int) string { return fmt.Sprintf("sw%d", p) }

// HostIface: see SwitchIface.
func HostIface(p int) string { return fmt.Sprintf("h%d", p) }

// AddPort creates the veth pair of switch port p, SwitchIface(p) ↔
// HostIface(p), both up with a 9000-byte MTU.
func (ns *Netns) AddPort(t testing.TB, p int) {
	t.Helper()
	ns.Exec(t, "ip", "link", "add", SwitchIface(p), "type", "veth", "peer", "name", HostIface(p))
	_, haveEthtool := exec.LookPath("ethtool")
	for _, ifc := range []string{SwitchIface(p), HostIface(p)} {
		ns.Exec(t, "ip", "link", "set", ifc, "mtu", "9000", "up")
		// The tests build frames with correct checksums; offloads would
		// only let the kernel leave them partial.
		if haveEthtool == nil {
			_ = exec.Command("ip", "netns", "exec", ns.name, "ethtool", "-K", ifc, "tx", "off", "rx", "off").Run()
		}
	}
}

// Do runs fn on an OS thread that has entered the namespace, so that the
// sockets fn creates belong to it. If the thread cannot return to its
// original namespace it stays locked, and the runtime discards it when the
// goroutine exits.
func (ns *Netns) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
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
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", ns.name, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(fnErr, fmt.Errorf("leave netns %s: %w", ns.name, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

// Dial opens a TCP connection from inside the namespace. Its signature is
// that of grpc.WithContextDialer.
func (ns *Netns) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var conn net.Conn
	err := ns.Do(func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		conn = c
		return err
	})
	return conn, err
}

// Listen opens a TCP listener inside the namespace.
func (ns *Netns) Listen(addr string) (net.Listener, error) {
	var ln net.Listener
	err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}
