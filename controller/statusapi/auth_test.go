package statusapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// reserving is a Source with reservation endpoints that counts the writes
// that reach it.
type reserving struct {
	fake
	writes atomic.Int32
}

func (r *reserving) Reservations() ReservationList {
	return ReservationList{Reservations: []Reservation{}, Text: "none\n"}
}

func (r *reserving) RequestReservation(context.Context, ReservationRequest) Answer {
	r.writes.Add(1)
	return Answer{Outcome: Admitted, ID: "g-h1-h3-000001", Text: "ADMITTED\n"}
}

func (r *reserving) ReleaseReservation(_ context.Context, id string) Answer {
	r.writes.Add(1)
	return Answer{Outcome: Released, ID: id, Text: "released\n"}
}

// TestWriteToken: the write endpoints need the bearer token when one is
// set, and without one accept only requests that arrive on a loopback
// address; reads never need it. Each case counts the writes that reached
// the source.
func TestWriteToken(t *testing.T) {
	remote := &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 9464}
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9464}
	loop6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 9464}
	cases := []struct {
		name   string
		token  string   // the server's
		local  net.Addr // the listener address the request came in on
		method string   // POST, DELETE or GET
		auth   string   // Authorization header
		code   int      // HTTP status
		writes int32    // writes that reached the source
		body   string   // in the answer
	}{
		{"no token, loopback", "", loop, http.MethodPost, "", http.StatusCreated, 1, "admitted"},
		{"no token, IPv6 loopback", "", loop6, http.MethodDelete, "", http.StatusOK, 1, "released"},
		{"no token, not loopback", "", remote, http.MethodPost, "", http.StatusForbidden, 0, "need an API token"},
		{"no token, not loopback, delete", "", remote, http.MethodDelete, "", http.StatusForbidden, 0, "api-token"},
		{"no token, not loopback, read", "", remote, http.MethodGet, "", http.StatusOK, 0, "none"},
		{"token, right", "s3cret", remote, http.MethodPost, "Bearer s3cret", http.StatusCreated, 1, "admitted"},
		{"token, wrong", "s3cret", remote, http.MethodPost, "Bearer s3cre", http.StatusUnauthorized, 0, "API token"},
		{"token, missing, even on loopback", "s3cret", loop, http.MethodDelete, "", http.StatusUnauthorized, 0, "Bearer"},
		{"token, not bearer", "s3cret", loop, http.MethodPost, "Basic s3cret", http.StatusUnauthorized, 0, "Bearer"},
		{"token, read without it", "s3cret", remote, http.MethodGet, "", http.StatusOK, 0, "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := &reserving{}
			h := New(src, WithWriteToken(c.token)).Handler()
			path, body := "/api/v1/reservations", ""
			switch c.method {
			case http.MethodPost:
				body = `{"src":"h1","dst":"h3","rate":"2Mbps","burst":"10KB"}`
			case http.MethodDelete:
				path += "/g-h1-h3-000001"
			}
			req := httptest.NewRequest(c.method, path, strings.NewReader(body))
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, c.local))
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.code || src.writes.Load() != c.writes || !strings.Contains(w.Body.String(), c.body) {
				t.Errorf("HTTP %d, %d writes, body %s; want %d, %d writes, %q", w.Code, src.writes.Load(), w.Body.String(), c.code, c.writes, c.body)
			}
			if c.code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestClientSendsToken: Client puts its token on the wire; the package
// functions send none.
func TestClientSendsToken(t *testing.T) {
	src := &reserving{}
	srv := httptest.NewServer(New(src, WithWriteToken("s3cret")).Handler())
	defer srv.Close()
	ctx := context.Background()
	req := ReservationRequest{Src: "h1", Dst: "h3", Rate: "2Mbps", Burst: "10KB"}
	if _, err := RequestReservation(ctx, srv.URL, req); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("without the token: %v", err)
	}
	if a, err := (Client{Base: srv.URL, Token: "s3cret"}).RequestReservation(ctx, req); err != nil || a.Outcome != Admitted {
		t.Errorf("with the token: %+v, %v", a, err)
	}
	if a, err := (Client{Base: srv.URL, Token: "s3cret"}).ReleaseReservation(ctx, "g-h1-h3-000001"); err != nil || a.Outcome != Released {
		t.Errorf("release with the token: %+v, %v", a, err)
	}
	if src.writes.Load() != 2 {
		t.Errorf("%d writes reached the source, want 2", src.writes.Load())
	}
}
