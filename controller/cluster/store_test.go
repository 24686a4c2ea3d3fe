package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/p4qos/p4qos/internal/etcdtest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   []string
		secure bool
		bad    bool
	}{
		{"etcd://127.0.0.1:2379", []string{"http://127.0.0.1:2379"}, false, false},
		{"etcd://a:1, b:2 ,c:3", []string{"http://a:1", "http://b:2", "http://c:3"}, false, false},
		{"etcds://[::1]:2379", []string{"https://[::1]:2379"}, true, false},
		{"127.0.0.1:2379", nil, false, true},
		{"http://a:1", nil, false, true},
		{"etcd://a", nil, false, true},
		{"etcd://:1", nil, false, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, secure, err := ParseURL(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want bad=%v", err, tc.bad)
			}
			if tc.bad {
				return
			}
			if secure != tc.secure || len(got) != len(tc.want) {
				t.Fatalf("got %v secure=%v, want %v secure=%v", got, secure, tc.want, tc.secure)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("endpoint %d: %s, want %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestStore(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	cli, err := Connect(Options{URL: etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := NewStore(cli)
	if _, ok, err := st.Get(ctx); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	seen := make(chan Intent, 8)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go st.Watch(wctx, func(in Intent) { seen <- in })
	steps := []struct {
		policy string
		expect int64
		want   int64
		err    error
	}{
		{"p1", 0, 1, nil},
		{"p2", 1, 2, nil},
		{"stale", 1, 0, ErrConflict},
		{"racing create", 0, 0, ErrConflict},
		{"p3", 2, 3, nil},
	}
	for _, s := range steps {
		rev, err := st.Put(ctx, []byte(s.policy), []byte("topo"), s.expect, "test")
		if !errors.Is(err, s.err) || rev != s.want {
			t.Fatalf("put %s at %d: revision %d, %v; want %d, %v", s.policy, s.expect, rev, err, s.want, s.err)
		}
	}
	hist, err := st.History(ctx)
	if err != nil || len(hist) != 3 || string(hist[0].Policy) != "p1" || string(hist[2].Policy) != "p3" {
		t.Fatalf("history: %d revisions, %v", len(hist), err)
	}
	if _, err := st.Revision(ctx, 9); !errors.Is(err, ErrNoRevision) {
		t.Errorf("revision 9: %v, want ErrNoRevision", err)
	}
	// The watch saw the revisions in order, ending with the current one.
	var last Intent
	for last.Revision != 3 {
		select {
		case in := <-seen:
			if in.Revision <= last.Revision {
				t.Fatalf("watch: revision %d after %d", in.Revision, last.Revision)
			}
			last = in
		case <-ctx.Done():
			t.Fatalf("watch: last revision seen %d, want 3", last.Revision)
		}
	}
}
