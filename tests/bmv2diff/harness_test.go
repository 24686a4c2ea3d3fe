package bmv2diff

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestHarness checks the namespace, veth and AF_PACKET machinery without
// BMv2, so that a BMv2 mismatch cannot be the harness's fault.
func TestHarness(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and veth pairs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 `ip`")
	}
	ns := newNetns(t)
	ns.addPort(t, 1)
	tx := openSocket(t, ns, hostIface(1))
	rx := openSocket(t, ns, swIface(1))
	frame := probePacket{src: netip.MustParseAddr("10.1.0.1"), dst: netip.MustParseAddr("10.2.0.1"), proto: 17, sport: 1, dport: 2, dscp: 46, payload: 10}.frame()
	if err := tx.send(frame); err != nil {
		t.Fatalf("send: %v", err)
	}
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); got == nil && time.Now().Before(deadline); {
		got = rx.recvOnce()
	}
	if !bytes.Equal(got, frame) {
		t.Fatalf("received %x, want the frame sent", got)
	}
	if d, err := frameDSCP(got); err != nil || d != 46 {
		t.Errorf("DSCP %d, %v; want 46", d, err)
	}
	if f := tx.recvOnce(); f != nil {
		t.Errorf("the sender saw its own frame")
	}
	if ipChecksum(frame[14:34]) != 0 {
		t.Errorf("IPv4 header checksum does not verify")
	}

	var ln net.Listener
	if err := ns.do(func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_, _ = c.Write([]byte("hi"))
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ns.dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatalf("dial into the namespace: %v", err)
	}
	defer c.Close()
	if b, err := io.ReadAll(c); err != nil || string(b) != "hi" {
		t.Errorf("read %q, %v", b, err)
	}
}
