package tofinomodel

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/tofino"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// Addresses inside the test's namespace, where nothing else listens.
const (
	// nsP4RTAddr is bf_switchd's P4Runtime server (--p4rt-server).
	nsP4RTAddr = "127.0.0.1:9559"
	// nsModelAddr is tofino-model's first DMA-simulation port (its
	// default --tcp-port-base, 8001), which bf_switchd connects to; the
	// model listens on it once it is ready for the driver.
	nsModelAddr = "127.0.0.1:8001"
)

// DeviceID is the P4Runtime device id of the model: bf_switchd's P4Runtime
// server maps it to SDE device 0, the only chip of SwitchdConfJSON.
const DeviceID = 0

// Program is the P4 program name packed into the device config.
const Program = "qos"

type config struct {
	ports        int
	startTimeout time.Duration
}

// Option is an optional setting of Start.
type Option func(*config)

// WithPorts gives the model device ports 1..n, each the SwitchIface end of a
// veth pair whose HostIface end has a packet socket (Switch.Port).
func WithPorts(n int) Option { return func(c *config) { c.ports = n } }

// WithStartTimeout bounds how long Start waits for each process to open its
// port (default 5 minutes: on a loaded 2-core machine the model and the
// driver's cold boot of a Tofino are slow).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// Switch is one tofino-model and the bf_switchd driving it, in a namespace
// of the test's, both killed by their pids when the test ends.
type Switch struct {
	sde        SDE
	ns         *bmv2env.Netns
	ports      map[int]*bmv2env.PacketSocket
	modelLog   *bmv2env.LockedBuffer
	switchdLog *bmv2env.LockedBuffer
	model      *bmv2env.Proc
	switchd    *bmv2env.Proc
}

// Start runs tofino-model and then bf_switchd (with its P4Runtime server
// and no program) and waits until the P4Runtime server accepts
// connections. It skips the test as Require does.
func Start(t testing.TB, opts ...Option) *Switch {
	t.Helper()
	sde := Require(t)
	cfg := config{ports: 2, startTimeout: 5 * time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	dir := t.TempDir()
	portMap, conf, err := writeFiles(dir, cfg.ports)
	if err != nil {
		t.Fatal(err)
	}
	s := &Switch{sde: sde, ports: map[int]*bmv2env.PacketSocket{},
		modelLog: &bmv2env.LockedBuffer{}, switchdLog: &bmv2env.LockedBuffer{}}
	s.ns = bmv2env.NewNetns(t, "p4qos-tfm")
	for p := 1; p <= cfg.ports; p++ {
		s.ns.AddPort(t, p)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("tofino-model output:\n%s\nbf_switchd output:\n%s", s.modelLog.String(), s.switchdLog.String())
		}
	})

	// Chip type 2 is Tofino 1 (B0), as open-p4studio's run_tofino_model.sh
	// starts it for --arch tofino. The model writes its logs into its
	// working directory and --log-dir: both the test's temporary directory.
	s.model = s.start(t, dir, s.modelLog, sde.Model(), "--chip-type", "2", "-d", "1", "-f", portMap,
		"--install-dir", sde.Dir, "--log-dir", dir, "--no-cli")
	s.waitListen(t, nsModelAddr, s.model, "tofino-model", cfg.startTimeout)
	s.switchd = s.start(t, dir, s.switchdLog, sde.Switchd(), "--install-dir", sde.Dir, "--conf-file", conf,
		"--background", "--skip-p4", "--p4rt-server", nsP4RTAddr)
	s.waitListen(t, nsP4RTAddr, s.switchd, "bf_switchd", cfg.startTimeout)

	for p := 1; p <= cfg.ports; p++ {
		s.ports[p] = s.ns.OpenPacketSocket(t, bmv2env.HostIface(p))
	}
	return s
}

// start runs bin inside the namespace (`ip netns exec` execs it after
// setns, so the pid is bin's own) with the SDE's environment.
func (s *Switch) start(t testing.TB, dir string, log *bmv2env.LockedBuffer, bin string, args ...string) *bmv2env.Proc {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", s.ns.Name(), bin}, args...)...)
	cmd.Dir, cmd.Env = dir, s.sde.Env()
	p, err := bmv2env.StartProc(cmd, log)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitListen waits until addr in the namespace accepts a TCP connection,
// failing the test if p exits first or timeout passes.
func (s *Switch) waitListen(t testing.TB, addr string, p *bmv2env.Proc, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := s.ns.Dial(ctx, addr)
		cancel()
		if err == nil {
			conn.Close()
			return
		}
		if !p.Alive() {
			t.Fatalf("%s exited before listening on %s", name, addr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within %v: %v", name, addr, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop kills bf_switchd, then tofino-model (each by its process group) and
// waits for both.
func (s *Switch) Stop() {
	for _, p := range []*bmv2env.Proc{s.switchd, s.model} {
		if p != nil {
			p.Kill()
		}
	}
}

// Alive reports whether both processes are running.
func (s *Switch) Alive() bool {
	return s.model != nil && s.model.Alive() && s.switchd != nil && s.switchd.Alive()
}

// Log is what both processes have written so far.
func (s *Switch) Log() string {
	return "tofino-model:\n" + s.modelLog.String() + "\nbf_switchd:\n" + s.switchdLog.String()
}

// Port is the socket on the host end of device port p, or nil.
func (s *Switch) Port(p int) *bmv2env.PacketSocket { return s.ports[p] }

// Netns is the test's namespace.
func (s *Switch) Netns() *bmv2env.Netns { return s.ns }

// Addr is the P4Runtime server's address inside the namespace.
func (s *Switch) Addr() string { return nsP4RTAddr }

// Dial opens a TCP connection inside the namespace; its signature is that
// of grpc.WithContextDialer.
func (s *Switch) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return s.ns.Dial(ctx, addr)
}

// Conn is a gRPC client connection to the P4Runtime server, closed when the
// test ends.
func (s *Switch) Conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+nsP4RTAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(s.Dial))
	if err != nil {
		t.Fatalf("gRPC client for %s: %v", nsP4RTAddr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Driver is the p4qos Tofino driver for the committed Tofino 1 outputs,
// packed as bf_switchd's P4Runtime server reads them (tofino.FormatPIBfrt).
func Driver(schema *tables.Schema) (*tofino.Driver, error) {
	read := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("tofinomodel: %w", err)
		}
		return b, nil
	}
	bin, err := read(Binary)
	if err != nil {
		return nil, err
	}
	ctxJSON, err := read(Context)
	if err != nil {
		return nil, err
	}
	bfrt, err := read(BfRt)
	if err != nil {
		return nil, err
	}
	return tofino.New(schema, Program, bin, ctxJSON, tofino.WithPIBfrt(bfrt))
}

// Push loads the committed Tofino 1 pipeline through a p4qos P4Runtime
// session (controlplane.Session: arbitration, then
// SetForwardingPipelineConfig VERIFY_AND_COMMIT with the driver's device
// config and cookie), and closes the session, so that the test can then
// become primary itself. It fails the test on error.
func (s *Switch) Push(t testing.TB, schema *tables.Schema) {
	t.Helper()
	RequirePipeline(t)
	d, err := Driver(schema)
	if err != nil {
		t.Fatal(err)
	}
	p, err := controlplane.NewPipeline(schema.P4Info(), d)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := controlplane.Dial(controlplane.SwitchConfig{Name: "tofino-model", Address: "passthrough:///" + nsP4RTAddr, DeviceID: DeviceID},
		controlplane.WithDialOptions(grpc.WithContextDialer(s.Dial)))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	// A Tofino pipeline load on the model (device warm init, then every
	// table's default entries) takes far longer than on BMv2.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := sess.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	pushed, err := sess.EnsurePipeline(ctx, p)
	if err != nil {
		t.Fatalf("push the Tofino pipeline: %v\n%s", err, s.Log())
	}
	if !pushed {
		t.Fatalf("the model already ran a pipeline with cookie %#x before the push", p.Cookie)
	}
	if !s.Alive() {
		t.Fatal("the model or bf_switchd exited during the push")
	}
}
