package bmv2diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	repoRoot = "../.."
	// The gRPC address inside the test's namespace; nothing listens on the
	// host's loopback.
	bmv2Addr = "127.0.0.1:9559"
	deviceID = 1
)

var (
	p4infoPath = filepath.Join(repoRoot, "p4src", "build", "qos.p4info.txtpb")
	jsonPath   = filepath.Join(repoRoot, "p4src", "build", "qos.json")
)

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

// requireBMv2 skips unless everything the test needs is there and returns
// the simple_switch_grpc path.
func requireBMv2(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("BMv2 differential test takes seconds; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and veth pairs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 `ip`")
	}
	ssg, ok := findTool("simple_switch_grpc")
	if !ok {
		t.Skip("simple_switch_grpc not found on PATH or in /opt/p4/bin")
	}
	if _, err := os.Stat(jsonPath); err != nil {
		t.Skipf("BMv2 JSON %s missing (compile p4src/v1model/qos.p4 with p4c-bm2-ss)", jsonPath)
	}
	return ssg
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

var nsSeq atomic.Int64

// netns is a network namespace that lives as long as the test.
type netns struct{ name string }

func newNetns(t *testing.T) *netns {
	t.Helper()
	ns := &netns{name: fmt.Sprintf("p4qos-diff-%d-%d", os.Getpid(), nsSeq.Add(1))}
	run(t, "ip", "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns.name, err, out)
		}
	})
	ns.exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	ns.exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
	ns.exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

func (ns *netns) exec(t *testing.T, args ...string) {
	t.Helper()
	run(t, "ip", append([]string{"netns", "exec", ns.name}, args...)...)
}

func swIface(p int) string   { return fmt.Sprintf("sw%d", p) }
func hostIface(p int) string { return fmt.Sprintf("h%d", p) }

// addPort creates the veth pair of switch port p inside the namespace.
func (ns *netns) addPort(t *testing.T, p int) {
	t.Helper()
	ns.exec(t, "ip", "link", "add", swIface(p), "type", "veth", "peer", "name", hostIface(p))
	for _, ifc := range []string{swIface(p), hostIface(p)} {
		ns.exec(t, "ip", "link", "set", ifc, "up")
	}
}

// do runs fn on an OS thread inside the namespace, so sockets it creates
// belong there. A thread that cannot switch back stays locked and is
// discarded by the runtime.
func (ns *netns) do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open(filepath.Join("/var/run/netns", ns.name))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns: %w", err)
	}
	fnErr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(fnErr, fmt.Errorf("leave netns: %w", err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

func (ns *netns) dial(ctx context.Context, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSwitch runs simple_switch_grpc with ports 1..n and no program; it is
// killed at the end of the test.
func startSwitch(t *testing.T, ssg string, ns *netns, n int) {
	t.Helper()
	args := []string{"netns", "exec", ns.name, ssg, "--device-id", fmt.Sprint(deviceID)}
	for p := 1; p <= n; p++ {
		args = append(args, "-i", fmt.Sprintf("%d@%s", p, swIface(p)))
	}
	args = append(args, "--no-p4", "--", "--grpc-server-addr", bmv2Addr, "--priority-queues", "8")
	cmd := exec.Command("ip", args...)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start simple_switch_grpc: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its own process group only
		<-done
		if t.Failed() {
			t.Logf("simple_switch_grpc output:\n%s", log.String())
		}
	})
}

// ---- AF_PACKET ----

const ethPAll = 0x0003

func htons(v uint16) uint16 { return v<<8 | v>>8 }

type packetSocket struct {
	fd, ifindex int
}

func openSocket(t *testing.T, ns *netns, iface string) *packetSocket {
	t.Helper()
	s := &packetSocket{fd: -1}
	err := ns.do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
		if err != nil {
			return err
		}
		s.fd, s.ifindex = fd, ifc.Index
		return syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifc.Index})
	})
	if err != nil {
		if s.fd >= 0 {
			syscall.Close(s.fd)
		}
		t.Fatalf("packet socket on %s: %v", iface, err)
	}
	tv := syscall.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
	if err := syscall.SetsockoptTimeval(s.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(s.fd) })
	return s
}

func (s *packetSocket) send(frame []byte) error {
	return syscall.Sendto(s.fd, frame, 0, &syscall.SockaddrLinklayer{Ifindex: s.ifindex, Halen: 6})
}

// recvOnce returns a frame the interface received (not sent), or nil when
// none arrives within the socket's receive timeout.
func (s *packetSocket) recvOnce() []byte {
	buf := make([]byte, 65536)
	for {
		n, from, err := syscall.Recvfrom(s.fd, buf, 0)
		if err != nil {
			return nil // EAGAIN: the receive timeout passed
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		return append([]byte(nil), buf[:n]...)
	}
}

// ---- frames: Ethernet + IPv4 + UDP/TCP, just what the probes need ----

var (
	hostMAC   = []byte{0x02, 0, 0, 0, 0, 0x01}
	switchMAC = []byte{0x02, 0, 0, 0, 0xff, 0x01}
)

type probePacket struct {
	src, dst     netip.Addr
	proto        uint8 // 6 or 17
	sport, dport uint16
	dscp         uint8
	payload      int
}

func ipChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func (p probePacket) frame() []byte {
	var l4 []byte
	if p.proto == 6 {
		l4 = make([]byte, 20)
		l4[12] = 5 << 4
		l4[13] = 0x10
	} else {
		l4 = make([]byte, 8)
		binary.BigEndian.PutUint16(l4[4:], uint16(8+p.payload))
	}
	binary.BigEndian.PutUint16(l4[0:], p.sport)
	binary.BigEndian.PutUint16(l4[2:], p.dport)
	l4 = append(l4, make([]byte, p.payload)...)
	ip := make([]byte, 20)
	ip[0] = 0x45
	ip[1] = p.dscp << 2
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	ip[8] = 64
	ip[9] = p.proto
	s, d := p.src.As4(), p.dst.As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	f := append(append(append([]byte{}, switchMAC...), hostMAC...), 0x08, 0x00)
	return append(append(f, ip...), l4...)
}

// frameDSCP returns the DSCP of an IPv4 frame.
func frameDSCP(f []byte) (uint8, error) {
	if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return 0, fmt.Errorf("not an untagged IPv4 frame: % x", f[:min(len(f), 20)])
	}
	return f[15] >> 2, nil
}
