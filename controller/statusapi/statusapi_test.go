package statusapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a Source whose document the test sets.
type fake struct {
	mu    sync.Mutex
	st    Status
	panic bool
}

func (f *fake) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panic {
		panic("boom")
	}
	return f.st
}

func (f *fake) set(st Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
}

func sample(ready bool) Status {
	t := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	return Status{
		Ready: ready, IntentRevision: 3,
		Switches: []Switch{
			{Name: "leaf1", Stream: StreamPrimary, Converged: true, ConvergedOnce: true, LastReconcile: &t, Reconciles: 2, DriftRepaired: 4},
			{Name: "spine1", Stream: StreamDown, ConvergedOnce: ready, ReconcileErrors: 1, LastError: "unavailable"},
		},
		Allocation: Allocation{IntentRevision: 3, Rounds: 5, FlowGroups: []FlowGroup{
			{Name: "a-web", Tenant: "a", Demand: 44e6, Allocation: 40e6, Enforced: 40e6, Bottleneck: "leaf1:3->spine1:1"},
		}, Links: []Link{{Name: "leaf1:3->spine1:1", A: "leaf1", B: "spine1", Capacity: 100e6, Load: 60e6}}},
	}
}

func TestEndpoints(t *testing.T) {
	src := &fake{st: sample(false)}
	srv := httptest.NewServer(New(src, WithMetrics(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("p4qos_build_info 1\n"))
	}))).Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path string
		ready, panic       bool
		code               int
		check              func(t *testing.T, body map[string]any)
	}{
		{name: "status", method: "GET", path: "/api/v1/status", code: 200, check: func(t *testing.T, b map[string]any) {
			if b["api_version"] != "v1" || b["intent_revision"] != 3.0 || b["ready"] != false {
				t.Errorf("status: %v", b)
			}
		}},
		{name: "switches", method: "GET", path: "/api/v1/switches", code: 200, check: func(t *testing.T, b map[string]any) {
			sws := b["switches"].([]any)
			sw := sws[1].(map[string]any)
			if len(sws) != 2 || sw["stream"] != "down" || sw["reconcile_errors"] != 1.0 || sw["last_error"] != "unavailable" {
				t.Errorf("switches: %v", b)
			}
		}},
		{name: "allocation", method: "GET", path: "/api/v1/allocation", code: 200, check: func(t *testing.T, b map[string]any) {
			fg := b["allocation"].(map[string]any)["flow_groups"].([]any)[0].(map[string]any)
			if fg["allocation_bps"] != 40e6 || fg["bottleneck"] != "leaf1:3->spine1:1" || fg["demand_bps"] != 44e6 {
				t.Errorf("allocation: %v", b)
			}
		}},
		{name: "healthz", method: "GET", path: "/healthz", code: 200, check: func(t *testing.T, b map[string]any) {
			if b["status"] != "ok" {
				t.Errorf("healthz: %v", b)
			}
		}},
		{name: "not ready", method: "GET", path: "/readyz", code: 503, check: func(t *testing.T, b map[string]any) {
			if b["ready"] != false || len(b["waiting"].([]any)) != 1 {
				t.Errorf("readyz: %v", b)
			}
		}},
		{name: "ready", method: "GET", path: "/readyz", ready: true, code: 200},
		{name: "unknown path", method: "GET", path: "/api/v2/status", code: 404, check: wantError(404)},
		{name: "unknown dashboard file", method: "GET", path: "/ui/nope.js", code: 404, check: wantError(404)},
		{name: "POST", method: "POST", path: "/api/v1/status", code: 405, check: wantError(405)},
		{name: "DELETE ui", method: "DELETE", path: "/ui/", code: 405, check: wantError(405)},
		{name: "panic", method: "GET", path: "/api/v1/status", panic: true, code: 500, check: wantError(500)},
		{name: "metrics", method: "GET", path: "/metrics", code: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src.set(sample(tc.ready))
			src.mu.Lock()
			src.panic = tc.panic
			src.mu.Unlock()
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.check == nil {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			tc.check(t, body)
		})
	}
}

func wantError(code int) func(t *testing.T, b map[string]any) {
	return func(t *testing.T, b map[string]any) {
		if b["status"] != float64(code) || b["error"] == "" {
			t.Errorf("error body %v, want status %d", b, code)
		}
	}
}

func TestDashboardEmbedded(t *testing.T) {
	srv := httptest.NewServer(New(&fake{}).Handler())
	defer srv.Close()
	for _, tc := range []struct{ path, want string }{
		{"/ui/", "<svg id=\"topology\""}, {"/ui/app.js", "new EventSource('/api/v1/events')"}, {"/ui/style.css", ".conn.disconnected"},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: HTTP %d, body lacks %q", tc.path, resp.StatusCode, tc.want)
		}
	}
}

func sse(t *testing.T, r *bufio.Reader) (name string, data string) {
	t.Helper()
	name, data, err := ReadEvent(r)
	if err != nil {
		t.Fatalf("stream ended: %v", err)
	}
	return name, data
}

func TestEventStream(t *testing.T) {
	src := &fake{st: sample(false)}
	s := New(src)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	s.Publish(Event{Kind: "reload-accepted", What: "policy"}) // before anyone listens
	resp, err := http.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	if name, data := sse(t, r); name != "controller" || !strings.Contains(data, `"kind":"reload-accepted"`) {
		t.Fatalf("first message %s %s, want the latest event replayed", name, data)
	}
	if name, data := sse(t, r); name != "status" || !strings.Contains(data, `"ready":false`) {
		t.Fatalf("first message %s %s, want the status snapshot", name, data)
	}
	// The handler subscribed before it wrote the snapshot: what is published
	// now reaches this stream.
	src.set(sample(true))
	s.Publish(Event{Kind: "switch-converged", Switch: "spine1", Count: 7})
	name, data := sse(t, r)
	var ev Event
	if name != "controller" || json.Unmarshal([]byte(data), &ev) != nil || ev.Switch != "spine1" || ev.Count != 7 {
		t.Fatalf("got %s %s, want the controller event", name, data)
	}
	if name, data := sse(t, r); name != "status" || !strings.Contains(data, `"ready":true`) {
		t.Fatalf("got %s %s, want a fresh status", name, data)
	}
	s.Close()
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("stream still open after Close")
	}
}

func TestFetch(t *testing.T) {
	good := httptest.NewServer(New(&fake{st: sample(true)}).Handler())
	defer good.Close()
	notAPI := httptest.NewServer(http.NotFoundHandler())
	defer notAPI.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + lis.Addr().String()
	lis.Close()
	for _, tc := range []struct {
		name, url, wantErr string
	}{
		{"ok", good.URL, ""},
		{"unreachable", closed, "unreachable"},
		{"not the API", notAPI.URL, "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Fetch(context.Background(), tc.url)
			if tc.wantErr == "" {
				if err != nil || !st.Ready || len(st.Switches) != 2 {
					t.Fatalf("Fetch: %v, %+v", err, st)
				}
				var b bytes.Buffer
				if err := WriteTable(&b, st); err != nil || !strings.Contains(b.String(), "a-web") || !strings.Contains(b.String(), "leaf1:3->spine1:1") {
					t.Errorf("table: %v\n%s", err, b.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Fetch error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
