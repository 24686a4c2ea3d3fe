package bmv2

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestHarness checks the test machinery itself, without BMv2: a namespace
// with a veth pair, AF_PACKET send and capture across it, and a TCP
// connection dialled into the namespace from the host-namespace test
// process. If this fails, the packet tests' results mean nothing.
func TestHarness(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and veth pairs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 `ip`")
	}
	ns := newNetns(t)
	ns.addPort(t, 1)

	t.Run("frames cross the veth pair", func(t *testing.T) {
		tx := openPacketSocket(t, ns, hostIface(1))
		rx := openPacketSocket(t, ns, switchIface(1))
		c := startCapture(rx)
		txCap := startCapture(tx)
		frame := pkt{src: v4a, dst: v4b, l4: udpL4, sport: 1, dport: 2, id: 7, payload: 10}.bytes()
		// The kernel strips a received 802.1Q tag into metadata; capture
		// must put it back or VLAN checks would be meaningless.
		tagged := pkt{vlan: 42, src: v4a, dst: v4b, l4: udpL4, id: 8}.bytes()
		for _, f := range [][]byte{frame, tagged} {
			if err := tx.send(f); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		waitForFrames([]*capture{c}, 2, time.Second, 10*time.Second)
		got := c.stop(t)
		if len(got) != 2 || !bytes.Equal(got[0], frame) || !bytes.Equal(got[1], tagged) {
			t.Fatalf("captured %d frames %x, want the two sent", len(got), got)
		}
		p, err := parse(got[0])
		if err != nil || p.id != 7 || p.dport != 2 || !p.ipv4ChecksumOK {
			t.Errorf("parsed %+v, %v", p, err)
		}
		// The sender's own socket must not report its outgoing frame.
		if n := len(txCap.stop(t)); n != 0 {
			t.Errorf("sending socket captured %d frames, want 0 (outgoing frames are ignored)", n)
		}
	})

	t.Run("dial into the namespace", func(t *testing.T) {
		var ln net.Listener
		if err := ns.do(func() error {
			var err error
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			return err
		}); err != nil {
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
		conn, err := ns.dial(ctx, ln.Addr().String())
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

// TestSwitchSession starts simple_switch_grpc in a namespace and becomes its
// primary controller over the in-namespace gRPC connection: the part of every
// packet test that needs BMv2 but not the compiled program.
func TestSwitchSession(t *testing.T) {
	b := startBed(t, 2)
	if !b.sw.alive() {
		t.Fatalf("switch exited:\n%s", b.sw.log.String())
	}
	// Without a program a P4Runtime server must refuse reads with
	// FAILED_PRECONDITION (P4Runtime §10); that a reply comes back at all
	// shows that unary RPCs reach the switch too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := b.client.Read(ctx, &p4v1.ReadRequest{DeviceId: deviceID, Entities: []*p4v1.Entity{{
		Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}}}})
	if err == nil {
		_, err = rc.Recv()
	}
	if code := status.Code(err); code != codes.FailedPrecondition {
		t.Errorf("Read before a pipeline is loaded: %v (code %v), want FAILED_PRECONDITION", err, code)
	}

	t.Run("thrift inside the namespace", func(t *testing.T) {
		setQueueRate(t, b.ns, requireCLI(t), 2, 100)
	})
}
