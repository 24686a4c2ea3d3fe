package bmv2env

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// frame is a hand-made Ethernet + IPv4 + UDP frame; the IPv4 checksum is
// not checked by anything here (only the bytes are compared).
func frame(t *testing.T, vlan bool) []byte {
	t.Helper()
	s := "020000000002" + "020000000001" // dst, src
	if vlan {
		s += "8100" + "002a" // 802.1Q, VID 42
	}
	s += "0800" + "4500001e00070000401100000a0000010a000002" + "00010002000a0000" + "0102"
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHarness checks the machinery itself, without BMv2: a namespace with a
// veth pair, AF_PACKET send and capture across it, and a TCP connection
// dialled into the namespace from the host-namespace test process. If this
// fails, the BMv2 tests' results mean nothing.
func TestHarness(t *testing.T) {
	ns := NewNetns(t, "p4qos-env")
	ns.AddPort(t, 1)

	t.Run("frames cross the veth pair", func(t *testing.T) {
		tx := ns.OpenPacketSocket(t, HostIface(1))
		rx := ns.OpenPacketSocket(t, SwitchIface(1))
		c := rx.Capture()
		txCap := tx.Capture()
		// The kernel strips a received 802.1Q tag into metadata; capture
		// must put it back or VLAN checks would be meaningless.
		plain, tagged := frame(t, false), frame(t, true)
		for _, f := range [][]byte{plain, tagged} {
			if err := tx.Send(f); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		WaitForFrames([]*Capture{c}, 2, time.Second, 10*time.Second)
		got := c.Stop(t)
		if len(got) != 2 || !bytes.Equal(got[0], plain) || !bytes.Equal(got[1], tagged) {
			t.Fatalf("captured %d frames %x, want the two sent", len(got), got)
		}
		if n := len(c.Times()); n != 2 {
			t.Errorf("%d arrival times for 2 frames", n)
		}
		// The sender's own socket must not report its outgoing frames.
		if n := len(txCap.Stop(t)); n != 0 {
			t.Errorf("sending socket captured %d frames, want 0 (outgoing frames are ignored)", n)
		}
	})

	t.Run("Recv", func(t *testing.T) {
		tx := ns.OpenPacketSocket(t, HostIface(1))
		rx := ns.OpenPacketSocket(t, SwitchIface(1))
		if f, err := rx.Recv(20 * time.Millisecond); f != nil || err != nil {
			t.Fatalf("Recv on a silent link: %x, %v; want nil, nil", f, err)
		}
		want := frame(t, true)
		if err := tx.Send(want); err != nil {
			t.Fatalf("send: %v", err)
		}
		got, err := rx.Recv(5 * time.Second)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Recv: %x, %v; want the frame sent", got, err)
		}
		if f, err := tx.Recv(20 * time.Millisecond); f != nil || err != nil {
			t.Errorf("the sender received %x, %v: its own frame", f, err)
		}
	})

	// Capture.Stop fails a test when its socket dropped frames; that check
	// is only worth something if drops are really counted.
	t.Run("drops are counted", func(t *testing.T) {
		tx := ns.OpenPacketSocket(t, HostIface(1))
		rx := ns.OpenPacketSocket(t, SwitchIface(1))
		// The kernel doubles the value and enforces a minimum of a few
		// kilobytes: room for a handful of frames, far fewer than 200.
		if err := unix.SetsockoptInt(rx.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1); err != nil {
			t.Fatalf("SO_RCVBUFFORCE: %v", err)
		}
		f := frame(t, false)
		for range 200 {
			if err := tx.Send(f); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		n, err := rx.Drops()
		if err != nil || n == 0 {
			t.Fatalf("Drops after 200 unread frames into a tiny buffer: %d, %v; want > 0", n, err)
		}
		if n, err := rx.Drops(); err != nil || n != 0 {
			t.Errorf("Drops again: %d, %v; want 0 (the counter resets when read)", n, err)
		}
	})

	t.Run("dial into the namespace", func(t *testing.T) {
		ln, err := ns.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen in namespace: %v", err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				_, _ = c.Write([]byte("hello"))
				c.Close()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := ns.Dial(ctx, ln.Addr().String())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		b, err := io.ReadAll(conn)
		if err != nil || string(b) != "hello" {
			t.Errorf("read %q, %v", b, err)
		}
		// The same address from the host namespace must not reach the
		// listener: proof that the socket really lived in the namespace.
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("listener reachable from the host namespace")
		}
	})
}
