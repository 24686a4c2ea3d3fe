package bmv2env

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ethPAll is ETH_P_ALL from <linux/if_ether.h>, in network byte order as
// AF_PACKET wants it.
var ethPAll = htons(unix.ETH_P_ALL)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// PacketSocket is an AF_PACKET socket bound to one interface of a test
// namespace. It sends whole Ethernet frames and receives the frames the
// interface receives (never those it sends).
type PacketSocket struct {
	fd      int
	ifindex int
	iface   string
}

// OpenPacketSocket opens a packet socket on iface inside the namespace; it
// is closed when the test ends.
func (ns *Netns) OpenPacketSocket(t testing.TB, iface string) *PacketSocket {
	t.Helper()
	s := &PacketSocket{fd: -1}
	err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(ethPAll))
		if err != nil {
			return fmt.Errorf("socket: %w", err)
		}
		s.fd, s.ifindex = fd, ifc.Index
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPAll, Ifindex: ifc.Index})
	})
	if err != nil {
		if s.fd >= 0 {
			unix.Close(s.fd)
		}
		t.Fatalf("packet socket on %s: %v", iface, err)
	}
	// The kernel moves a received 802.1Q tag out of the frame into packet
	// metadata (VLAN offload); PACKET_AUXDATA returns it so that Recv can
	// put it back, as libpcap does.
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		unix.Close(s.fd)
		t.Fatalf("PACKET_AUXDATA on %s: %v", iface, err)
	}
	// A socket buffer deep enough for every burst a test sends, so that a
	// test process slowed down by a busy machine does not lose frames
	// (as root, SO_RCVBUFFORCE may exceed net.core.rmem_max). Drops are
	// still counted: see Capture.Stop.
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf); err != nil {
		_ = unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
	s.iface = iface
	t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

const rcvBuf = 16 << 20

// Drops is the number of received frames the kernel dropped because the
// socket's buffer was full, since the previous call (PACKET_STATISTICS).
func (s *PacketSocket) Drops() (uint32, error) {
	st, err := unix.GetsockoptTpacketStats(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0, fmt.Errorf("PACKET_STATISTICS on %s: %w", s.iface, err)
	}
	return st.Drops, nil
}

// Send transmits one Ethernet frame out of the socket's interface.
func (s *PacketSocket) Send(frame []byte) error {
	return unix.Sendto(s.fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: s.ifindex, Halen: 6})
}

// Recv returns the next frame the interface received, waiting at most
// timeout; it returns nil and no error when none arrived in time. A
// received 802.1Q tag is restored in the frame.
func (s *PacketSocket) Recv(timeout time.Duration) ([]byte, error) {
	return s.recv(make([]byte, 65536), make([]byte, 256), timeout)
}

// recv is Recv with the caller's buffers, which a capture reuses.
func (s *PacketSocket) recv(buf, oob []byte, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}, int(left.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll: %w", err)
		}
		if n == 0 {
			return nil, nil
		}
		n, oobn, _, from, err := unix.Recvmsg(s.fd, buf, oob, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("recvmsg: %w", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return restoreVLAN(buf[:n], oob[:oobn]), nil
	}
}

// restoreVLAN returns a copy of frame with the 802.1Q tag that the kernel
// reported in PACKET_AUXDATA (struct tpacket_auxdata, <linux/if_packet.h>)
// reinserted after the MAC addresses.
func restoreVLAN(frame, oob []byte) []byte {
	out := append([]byte(nil), frame...)
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return out
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < 20 {
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

// Capture collects the frames a socket receives from when it is started
// until Stop, with their arrival times at the test process.
type Capture struct {
	sock   *PacketSocket
	mu     sync.Mutex
	frames [][]byte
	times  []time.Time
	stopCh chan struct{}
	done   chan struct{}
	err    error
}

// captureTick bounds how long a capture takes to notice Stop.
const captureTick = 50 * time.Millisecond

// Capture starts collecting the socket's received frames in the
// background. Nothing else may read the socket until Stop.
func (s *PacketSocket) Capture() *Capture {
	c := &Capture{sock: s, stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf, oob := make([]byte, 65536), make([]byte, 256)
		for {
			select {
			case <-c.stopCh:
				return
			default:
			}
			f, err := s.recv(buf, oob, captureTick)
			if err != nil {
				c.err = err
				return
			}
			if f == nil {
				continue
			}
			c.mu.Lock()
			c.frames = append(c.frames, f)
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
		}
	}()
	return c
}

// Count is the number of frames captured so far.
func (c *Capture) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// Times returns the arrival times of the frames captured so far.
func (c *Capture) Times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.times...)
}

// Stop ends the capture and returns the frames in arrival order. It fails
// the test if the socket dropped frames since it was opened or last
// stopped: then what arrived is not what the switch sent.
func (c *Capture) Stop(t testing.TB) [][]byte {
	t.Helper()
	close(c.stopCh)
	<-c.done
	if c.err != nil {
		t.Fatalf("capture on %s: %v", c.sock.iface, c.err)
	}
	if n, err := c.sock.Drops(); err != nil || n > 0 {
		t.Errorf("capture on %s: the socket dropped %d frames (%v): the test process fell behind, so the frames captured are not all the switch sent", c.sock.iface, n, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// WaitForFrames waits until the captures together hold want frames, or
// until quiet has passed without a new frame (then the switch has dropped
// or not yet sent the rest; callers assert on what arrived). It gives up
// after limit.
func WaitForFrames(caps []*Capture, want int, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, lastChange := -1, time.Now()
	for time.Now().Before(deadline) {
		n := 0
		for _, c := range caps {
			n += c.Count()
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
