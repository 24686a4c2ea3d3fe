package statusapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed ui
var uiFiles embed.FS

// recent is how many of the latest events a new stream gets first.
const recent = 50

// maxQueued bounds the events queued for one slow stream client; beyond it
// the oldest are dropped (the status snapshot that follows is complete).
const maxQueued = 256

// Server serves the API and the dashboard.
type Server struct {
	src       Source
	metrics   http.Handler
	keepalive time.Duration
	token     string

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	recent []Event
	closed chan struct{}
	once   sync.Once
}

type subscriber struct {
	mu      sync.Mutex
	queue   []Event
	dropped int
	wake    chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithMetrics serves h at /metrics (the Prometheus registry's handler).
func WithMetrics(h http.Handler) Option { return func(s *Server) { s.metrics = h } }

// WithKeepalive sets how often an idle event stream gets an SSE comment
// (default 15s), so that proxies and the browser keep it open.
func WithKeepalive(d time.Duration) Option { return func(s *Server) { s.keepalive = d } }

// WithWriteToken makes the write endpoints (POST and DELETE
// /api/v1/reservations) require "Authorization: Bearer token". Without a
// token they accept only requests that arrive on a loopback address: a
// listener reachable from elsewhere must not let anyone change the
// switches. Reads never need it.
func WithWriteToken(token string) Option { return func(s *Server) { s.token = token } }

// New returns a server for src.
func New(src Source, opts ...Option) *Server {
	s := &Server{src: src, keepalive: 15 * time.Second, subs: map[*subscriber]struct{}{}, closed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Publish sends e to every event stream. It never blocks.
func (s *Server) Publish(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recent) == recent {
		s.recent = append(s.recent[:0], s.recent[1:]...)
	}
	s.recent = append(s.recent, e)
	for sub := range s.subs {
		sub.mu.Lock()
		if len(sub.queue) == maxQueued {
			sub.queue = sub.queue[1:]
			sub.dropped++
		}
		sub.queue = append(sub.queue, e)
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

// Close ends every event stream (the HTTP server's shutdown calls it: a
// stream never goes idle on its own).
func (s *Server) Close() { s.once.Do(func() { close(s.closed) }) }

// Handler is the whole HTTP surface: /api/v1/*, /healthz, /readyz, /ui/,
// /metrics (WithMetrics); anything else is a JSON 404.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/status", get(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.status()) }))
	mux.Handle("/api/v1/switches", get(func(w http.ResponseWriter, _ *http.Request) {
		st := s.status()
		writeJSON(w, http.StatusOK, map[string]any{"api_version": Version, "ready": st.Ready, "switches": st.Switches})
	}))
	mux.Handle("/api/v1/allocation", get(func(w http.ResponseWriter, _ *http.Request) {
		st := s.status()
		writeJSON(w, http.StatusOK, map[string]any{"api_version": Version, "allocation": st.Allocation, "classes": st.Classes})
	}))
	mux.Handle("/api/v1/events", get(s.events))
	if rs, ok := s.src.(ReservationSource); ok {
		mux.Handle("/api/v1/reservations", s.reservations(rs))
		mux.Handle("/api/v1/reservations/", s.reservations(rs))
	}
	mux.Handle("/healthz", get(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.Handle("/readyz", get(s.readyz))
	if s.metrics != nil {
		mux.Handle("/metrics", s.metrics)
	}
	mux.Handle("/ui/", get(serveUI))
	mux.Handle("/", get(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/ui/", http.StatusFound)
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %q (the API is under /api/%s/)", r.URL.Path, Version))
	}))
	return recoverJSON(mux)
}

// serveUI serves the embedded dashboard; a file it does not have is a
// JSON 404 like any other path.
func serveUI(w http.ResponseWriter, r *http.Request) {
	ui, _ := fs.Sub(uiFiles, "ui")
	name := strings.TrimPrefix(r.URL.Path, "/ui/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(ui, name); err != nil || st.IsDir() {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such dashboard file %q", r.URL.Path))
		return
	}
	http.StripPrefix("/ui/", http.FileServerFS(ui)).ServeHTTP(w, r)
}

func (s *Server) status() Status {
	st := s.src.Status()
	st.APIVersion = Version
	if st.Switches == nil {
		st.Switches = []Switch{}
	}
	if st.Allocation.FlowGroups == nil {
		st.Allocation.FlowGroups = []FlowGroup{}
	}
	if st.Allocation.Links == nil {
		st.Allocation.Links = []Link{}
	}
	if st.Allocation.History == nil {
		st.Allocation.History = []Round{}
	}
	if st.Classes == nil {
		st.Classes = []ClassShare{}
	}
	return st
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := s.status()
	waiting := []string{}
	for _, sw := range st.Switches {
		if !sw.ConvergedOnce {
			waiting = append(waiting, sw.Name)
		}
	}
	code := http.StatusOK
	if !st.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": st.Ready, "waiting": waiting})
}

// events streams Server-Sent Events: on connect the latest events (up to
// 50) as "controller" events and a "status" snapshot, then per controller
// event a "controller" event followed by a fresh "status" (one per burst).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported by this connection")
		return
	}
	sub := &subscriber{wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	replay := append([]Event(nil), s.recent...)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	for _, e := range replay {
		if writeEvent(w, "controller", e) != nil {
			return
		}
	}
	if writeEvent(w, "status", s.status()) != nil {
		return
	}
	fl.Flush()
	tick := time.NewTicker(s.keepalive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
		case <-sub.wake:
			sub.mu.Lock()
			queue, dropped := sub.queue, sub.dropped
			sub.queue, sub.dropped = nil, 0
			sub.mu.Unlock()
			if dropped > 0 && writeEvent(w, "dropped", map[string]int{"events": dropped}) != nil {
				return
			}
			for _, e := range queue {
				if writeEvent(w, "controller", e) != nil {
					return
				}
			}
			if writeEvent(w, "status", s.status()) != nil {
				return
			}
		}
		fl.Flush()
	}
}

func writeEvent(w http.ResponseWriter, name string, v any) error {
	data, err := encode(v, "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n", name, data)
	return err
}

// encode is JSON with link names such as "leaf1:3->spine1:1" left
// readable (no HTML escaping), ending in a newline.
func encode(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// get allows GET and HEAD; other methods get a JSON 405.
func get(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (GET only)", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	})
}

// recoverJSON turns a handler's panic into a JSON 500 (http.ErrAbortHandler
// still aborts the connection, as net/http intends).
func recoverJSON(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error (please report this): %v", v))
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := encode(v, "  ")
	if err != nil {
		code, data = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed","status":500}`+"\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: strings.TrimSpace(msg), Status: code})
}
