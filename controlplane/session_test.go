package controlplane

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, addr string, id ElectionID, opts ...SessionOption) *Session {
	t.Helper()
	opts = append([]SessionOption{WithElectionID(id), WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	s, err := Dial(SwitchConfig{Name: "s1", Address: addr, DeviceID: 1}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestElectionIDCompare(t *testing.T) {
	tests := []struct {
		a, b ElectionID
		want int
	}{
		{ElectionID{0, 1}, ElectionID{0, 2}, -1},
		{ElectionID{1, 0}, ElectionID{0, ^uint64(0)}, 1}, // the high word dominates
		{ElectionID{3, 4}, ElectionID{3, 4}, 0},
	}
	for _, tt := range tests {
		if got := tt.a.Compare(tt.b); got != tt.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestArbitrationPrimaryBackupFailover(t *testing.T) {
	_, addr := startFake(t)
	ctx := testCtx(t)
	hi := dial(t, addr, ElectionID{High: 1, Low: 0})
	if err := hi.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	lo := dial(t, addr, ElectionID{Low: 5})
	if err := lo.WaitFor(ctx, func(s State) bool { return s.Connected }); err != nil {
		t.Fatal(err)
	}
	st := lo.State()
	if st.Primary {
		t.Fatal("lower election id became primary")
	}
	if st.PrimaryElectionID != (ElectionID{High: 1}) {
		t.Errorf("backup sees primary election id %v, want 1:0", st.PrimaryElectionID)
	}
	// The backup cannot write: PERMISSION_DENIED, errors.Is ErrNotPrimary.
	err := lo.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: tableEntry(1, 1, 1)}})
	if !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("backup write: got %v, want ErrNotPrimary", err)
	}
	if IsRetryable(err) != true {
		t.Error("not-primary should be retryable (primacy can come back)")
	}
	// The primary goes away: the backup is promoted.
	_ = hi.Close()
	if err := lo.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lo.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: tableEntry(1, 1, 1)}}); err != nil {
		t.Fatalf("promoted write: %v", err)
	}
}

func TestReconnectAfterSwitchRestart(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	serve := func(l net.Listener) *grpc.Server {
		f := &fakeSwitch{streams: map[*fakeStream]struct{}{}, entities: map[string]*p4v1.Entity{}}
		srv := grpc.NewServer()
		p4v1.RegisterP4RuntimeServer(srv, f)
		go func() { _ = srv.Serve(l) }()
		return srv
	}
	srv := serve(lis)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	first := s.State().Stream
	srv.Stop()
	if err := s.WaitFor(ctx, func(st State) bool { return !st.Connected }); err != nil {
		t.Fatal(err)
	}
	lis2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot re-bind %s to simulate a restart: %v", addr, err)
	}
	srv2 := serve(lis2)
	defer srv2.Stop()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.State().Stream; got <= first {
		t.Errorf("stream counter %d after reconnect, want > %d", got, first)
	}
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		ca, cert, key   string
		wantErrContains string
	}{
		{"missing CA", filepath.Join(dir, "nope.pem"), "", "", "nope.pem"},
		{"CA without PEM", bad, "", "", "no PEM certificate"},
		{"cert without key", "", bad, "", "together"},
		{"unparsable pair", "", bad, bad, "bad.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TLSFiles(tt.ca, tt.cert, tt.key)
			if err == nil || !contains(err.Error(), tt.wantErrContains) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErrContains)
			}
		})
	}
	if _, err := TLSFiles("", "", ""); err != nil {
		t.Errorf("no files (system roots): %v", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
