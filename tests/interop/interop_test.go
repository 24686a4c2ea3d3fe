package interop

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/antoninbas/p4runtime-go-client/pkg/client"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

const (
	mainModule = "../.."
	p4infoPath = "../../p4src/build/qos.p4info.txtpb"
	deviceID   = 1
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// p4qosBinary builds the main module's CLI once per test run.
func p4qosBinary(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("the go tool is needed to build p4qos for the interop test and was not found")
		}
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "p4qos-interop-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "p4qos")
		cmd := exec.Command(goTool, "build", "-o", binPath, "./cmd/p4qos")
		cmd.Dir = mainModule
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building p4qos: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// startSim runs `p4qos sim` on a free loopback port and returns its address.
func startSim(t *testing.T) string {
	t.Helper()
	bin := p4qosBinary(t)
	cmd := exec.Command(bin, "sim", "--listen", "127.0.0.1:0", "--device-id", "1", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start p4qos sim: %v", err)
	}
	exited := make(chan error, 1)
	addrCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("p4qos sim exited with %v after SIGTERM, want status 0", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("p4qos sim ignored SIGTERM")
		}
	})
	select {
	case addr := <-addrCh:
		return addr
	case err := <-exited:
		t.Fatalf("p4qos sim exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("p4qos sim printed no address")
	}
	return ""
}

// session is one p4runtime-go-client client with its stream running.
type session struct {
	c      *client.Client
	arb    chan bool
	stop   chan struct{}
	closed bool
}

func newSession(t *testing.T, addr string, electionID uint64) *session {
	t.Helper()
	conn, err := grpc.Dial(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &session{
		c:    client.NewClient(p4v1.NewP4RuntimeClient(conn), deviceID, &p4v1.Uint128{High: 0, Low: electionID}),
		arb:  make(chan bool, 16),
		stop: make(chan struct{}),
	}
	go func() { _ = s.c.Run(s.stop, s.arb, make(chan *p4v1.StreamMessageResponse, 16)) }()
	t.Cleanup(s.close)
	return s
}

func (s *session) close() {
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
}

// primary reports the next arbitration outcome the client saw.
func (s *session) primary(t *testing.T) bool {
	t.Helper()
	select {
	case ok := <-s.arb:
		return ok
	case <-time.After(10 * time.Second):
		t.Fatal("no arbitration update")
	}
	return false
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// clientP4Info returns the qos P4Info as text this client's P4Info
// (p4runtime v1.4.0-rc.5) can parse: fields added later, such as
// initial_default_action, are dropped, as an older client would.
func clientP4Info(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(p4infoPath)
	if err != nil {
		t.Skipf("qos P4Info not available: %v", err)
	}
	info := &p4configv1.P4Info{}
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, info); err != nil {
		t.Fatalf("parse %s: %v", p4infoPath, err)
	}
	out, err := prototext.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInteropArbitrationTablesCounters(t *testing.T) {
	p4info := clientP4Info(t)
	addr := startSim(t)
	ctx := ctx(t)

	// Arbitration: the first client is primary, a lower one a backup.
	a := newSession(t, addr, 10)
	if !a.primary(t) {
		t.Fatal("client with election id 10 is not primary")
	}
	b := newSession(t, addr, 5)
	if b.primary(t) {
		t.Fatal("client with election id 5 became primary")
	}

	if _, err := a.c.SetFwdPipeFromBytes(ctx, []byte("{}"), p4info, 0xc0ffee); err != nil {
		t.Fatalf("SetFwdPipe: %v", err)
	}
	cfg, err := b.c.GetFwdPipe(ctx, client.GetFwdPipeCookieOnly)
	if err != nil || cfg == nil || cfg.Cookie != 0xc0ffee {
		t.Fatalf("GetFwdPipe cookie: %+v %v, want 0xc0ffee", cfg, err)
	}
	if _, err := b.c.GetFwdPipe(ctx, client.GetFwdPipeAll); err != nil { // loads the P4Info into b
		t.Fatal(err)
	}

	// Table insert / read / delete on the classifier (ternary + range).
	entry := a.c.NewTableEntry("QosIngress.classifier", map[string]client.MatchInterface{
		"ipv4_dst":    &client.TernaryMatch{Value: []byte{10, 0, 0, 0}, Mask: []byte{255, 0, 0, 0}},
		"l4_dst_port": &client.RangeMatch{Low: []byte{0x13, 0x88}, High: []byte{0x13, 0xec}},
	}, a.c.NewTableActionDirect("QosIngress.set_class", [][]byte{{3}, {46}}), &client.TableEntryOptions{Priority: 10})
	if err := a.c.InsertTableEntry(ctx, entry); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := b.c.InsertTableEntry(ctx, entry); status.Code(err) != codes.PermissionDenied {
		t.Errorf("insert from backup: %v, want PERMISSION_DENIED", err)
	}
	if err := a.c.InsertTableEntry(ctx, entry); err == nil {
		t.Errorf("duplicate insert succeeded")
	}
	got, err := b.c.ReadTableEntryWildcard(ctx, "QosIngress.classifier")
	if err != nil || len(got) != 1 {
		t.Fatalf("read classifier: %d entries, %v; want 1", len(got), err)
	}
	if p := got[0].GetAction().GetAction().GetParams(); len(p) != 2 || p[1].GetValue()[0] != 46 {
		t.Errorf("read back action params %v", p)
	}

	// Action selector: members, a group, and an LPM route to it.
	for id, port := range map[uint32]byte{1: 1, 2: 2} {
		m := a.c.NewActionProfileMember("QosIngress.ecmp_selector", id, "QosIngress.set_next_hop", [][]byte{{port}, {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 2}})
		if err := a.c.InsertActionProfileMember(ctx, m); err != nil {
			t.Fatalf("member %d: %v", id, err)
		}
	}
	g := a.c.NewActionProfileGroup("QosIngress.ecmp_selector", 7, []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 1}, {MemberId: 2, Weight: 1}}, 4)
	if err := a.c.InsertActionProfileGroup(ctx, g); err != nil {
		t.Fatalf("group: %v", err)
	}
	route := a.c.NewTableEntry("QosIngress.ipv4_lpm", map[string]client.MatchInterface{
		"ipv4_dst": &client.LpmMatch{Value: []byte{10, 1, 0, 0}, PLen: 16},
	}, a.c.NewTableActionGroup(7), nil)
	if err := a.c.InsertTableEntry(ctx, route); err != nil {
		t.Fatalf("route: %v", err)
	}
	if err := a.c.DeleteActionProfileGroup(ctx, g); status.Code(err) == codes.OK {
		t.Errorf("deleted a group still used by a route")
	}

	// Counters: write a cell, read it back, wildcard over the array.
	if err := a.c.ModifyCounterEntry(ctx, "QosEgress.class_counter", 3, &p4v1.CounterData{ByteCount: 1500, PacketCount: 1}); err != nil {
		t.Fatalf("modify counter: %v", err)
	}
	cd, err := b.c.ReadCounterEntry(ctx, "QosEgress.class_counter", 3)
	if err != nil || cd.GetByteCount() != 1500 || cd.GetPacketCount() != 1 {
		t.Errorf("counter cell 3 = %v, %v; want 1500 bytes 1 packet", cd, err)
	}
	all, err := b.c.ReadCounterEntryWildcard(ctx, "QosEgress.class_counter")
	if err != nil || len(all) != 256 {
		t.Errorf("wildcard counter read: %d cells, %v; want 256", len(all), err)
	}

	// Meters: configure a cell with a raw update, read it back through the
	// client's meter API; the other cells read back with no config.
	info := &p4configv1.P4Info{}
	if err := prototext.Unmarshal(p4info, info); err != nil {
		t.Fatal(err)
	}
	var meterID uint32
	for _, m := range info.GetMeters() {
		if m.GetPreamble().GetName() == "QosIngress.class_meter" {
			meterID = m.GetPreamble().GetId()
		}
	}
	cfg5 := &p4v1.MeterConfig{Cir: 125000, Cburst: 15000, Pir: 250000, Pburst: 30000}
	if err := a.c.WriteUpdate(ctx, &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{
		MeterEntry: &p4v1.MeterEntry{MeterId: meterID, Index: &p4v1.Index{Index: 5}, Config: cfg5}}}}); err != nil {
		t.Fatalf("modify meter: %v", err)
	}
	if got, err := b.c.ReadMeterEntry(ctx, "QosIngress.class_meter", 5); err != nil || !proto.Equal(got, cfg5) {
		t.Errorf("meter cell 5 = %v, %v; want %v", got, err, cfg5)
	}
	if got, err := b.c.ReadMeterEntry(ctx, "QosIngress.class_meter", 6); err != nil || got != nil {
		t.Errorf("meter cell 6 = %v, %v; want no config (default)", got, err)
	}

	// Delete, then the table is empty again.
	if err := a.c.DeleteTableEntry(ctx, entry); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, err := b.c.ReadTableEntryWildcard(ctx, "QosIngress.classifier"); err != nil || len(got) != 0 {
		t.Errorf("after delete: %d entries, %v", len(got), err)
	}

	// The primary leaves: the switch has no primary, the backup is told so
	// (NOT_FOUND, a non-OK status for this client) and still cannot write.
	a.close()
	if b.primary(t) {
		t.Errorf("backup became primary when the primary left; P4Runtime §5 keeps the role without a primary")
	}
	if err := b.c.InsertTableEntry(ctx, entry); status.Code(err) != codes.PermissionDenied {
		t.Errorf("insert from backup after primary left: %v, want PERMISSION_DENIED", err)
	}
}
