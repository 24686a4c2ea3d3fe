package bmv2

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const ethPAll = 0x0003 // ETH_P_ALL, <linux/if_ether.h>

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket is an AF_PACKET socket bound to one interface of the test
// namespace.
type packetSocket struct {
	fd      int
	ifindex int
}

func openPacketSocket(t *testing.T, ns *netns, iface string) *packetSocket {
	t.Helper()
	s := &packetSocket{fd: -1}
	err := ns.do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
		if err != nil {
			return fmt.Errorf("socket: %w", err)
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
	// The kernel moves a received 802.1Q tag out of the frame into packet
	// metadata (VLAN offload); PACKET_AUXDATA returns it so that capture
	// can put it back, as libpcap does.
	if err := syscall.SetsockoptInt(s.fd, syscall.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		t.Fatalf("PACKET_AUXDATA: %v", err)
	}
	// A receive timeout lets capture loops notice that they should stop.
	tv := syscall.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	if err := syscall.SetsockoptTimeval(s.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		t.Fatalf("SO_RCVTIMEO: %v", err)
	}
	t.Cleanup(func() { syscall.Close(s.fd) })
	return s
}

func (s *packetSocket) send(frame []byte) error {
	return syscall.Sendto(s.fd, frame, 0, &syscall.SockaddrLinklayer{Ifindex: s.ifindex, Halen: 6})
}

// capture collects the frames an interface receives (not those it sends)
// from when it is started until stop is called.
type capture struct {
	mu     sync.Mutex
	frames [][]byte
	times  []time.Time
	stopCh chan struct{}
	done   chan struct{}
	err    error
}

func startCapture(s *packetSocket) *capture {
	c := &capture{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf := make([]byte, 65536)
		oob := make([]byte, 256)
		for {
			select {
			case <-c.stopCh:
				return
			default:
			}
			n, oobn, _, from, err := syscall.Recvmsg(s.fd, buf, oob, 0)
			if err != nil {
				if err == syscall.EAGAIN || err == syscall.EINTR {
					continue
				}
				c.err = err
				return
			}
			if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
				continue
			}
			frame := restoreVLAN(buf[:n], oob[:oobn])
			c.mu.Lock()
			c.frames = append(c.frames, frame)
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// stop ends the capture and returns the frames in arrival order.
func (c *capture) stop(t *testing.T) [][]byte {
	t.Helper()
	close(c.stopCh)
	<-c.done
	if c.err != nil {
		t.Fatalf("capture: %v", c.err)
	}
	return c.frames
}

// restoreVLAN returns a copy of frame with the 802.1Q tag that the kernel
// reported in PACKET_AUXDATA (struct tpacket_auxdata, <linux/if_packet.h>)
// reinserted after the MAC addresses.
func restoreVLAN(frame, oob []byte) []byte {
	out := append([]byte(nil), frame...)
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return out
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < 20 {
			continue
		}
		status := binary.NativeEndian.Uint32(m.Data[0:])
		tci := binary.NativeEndian.Uint16(m.Data[16:])
		tpid := binary.NativeEndian.Uint16(m.Data[18:])
		if status&unix.TP_STATUS_VLAN_VALID == 0 || len(out) < 12 {
			return out
		}
		if status&unix.TP_STATUS_VLAN_TPID_VALID == 0 {
			tpid = 0x8100
		}
		tag := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tpid), tci)
		return append(append(append([]byte(nil), out[:12]...), tag...), out[12:]...)
	}
	return out
}

// ports is the test's view of the switch ports: a socket per host end.
type ports map[int]*packetSocket

// expectFrames waits until the captures together hold want frames, or until
// quiet has passed without any new frame (then the switch has dropped or
// not yet sent the rest; callers assert on what arrived). It bounds the
// wait at limit.
func waitForFrames(caps []*capture, want int, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, lastChange := -1, time.Now()
	for time.Now().Before(deadline) {
		n := 0
		for _, c := range caps {
			n += c.count()
		}
		if n >= want {
			return
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
