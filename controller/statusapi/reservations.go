package statusapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// ReservationSource is what the reservation endpoints serve
// (/api/v1/reservations): the controller implements it with its
// admission ledger (docs/admission.md). A Source that does not implement
// it has no such endpoints (404).
type ReservationSource interface {
	// Reservations lists the admitted reservations.
	Reservations() ReservationList
	// RequestReservation decides req; on admission the reservation is
	// persisted and installed before it returns.
	RequestReservation(ctx context.Context, req ReservationRequest) Answer
	// ReleaseReservation removes a dynamic reservation and its entries.
	ReleaseReservation(ctx context.Context, id string) Answer
}

// ReservationRequest is the body of POST /api/v1/reservations. Rates and
// sizes are written with units as on the command line (2Mbps, 10KB),
// MaxDelay as a Go duration (5ms).
type ReservationRequest struct {
	Name         string `json:"name,omitempty"`
	Src          string `json:"src"`
	Dst          string `json:"dst"`
	Protocol     string `json:"protocol,omitempty"`
	DstPort      int    `json:"dst_port,omitempty"`
	Rate         string `json:"rate"`
	Burst        string `json:"burst"`
	Peak         string `json:"peak,omitempty"`
	MaxPacket    string `json:"max_packet,omitempty"`
	Service      string `json:"service,omitempty"`
	MaxDelay     string `json:"max_delay,omitempty"`
	OutOfProfile string `json:"out_of_profile,omitempty"`
}

// Answer is the reply to a request or a release. Outcome is "admitted",
// "rejected" (HTTP 409: nothing was installed), "invalid" (400),
// "released", "not-found" (404) or "error" (500). Text is the answer as
// p4qos admit prints it: the bound and per-hop terms, or the hop, resource
// and numbers that failed.
type Answer struct {
	Outcome string `json:"outcome"`
	ID      string `json:"id,omitempty"`
	// BoundSeconds is the end-to-end delay bound of an admitted guaranteed
	// reservation.
	BoundSeconds float64 `json:"bound_seconds,omitempty"`
	Text         string  `json:"text"`
}

// Outcomes of an Answer.
const (
	Admitted = "admitted"
	Rejected = "rejected"
	Invalid  = "invalid"
	Released = "released"
	NotFound = "not-found"
	Failed   = "error"
)

var outcomeStatus = map[string]int{Admitted: http.StatusCreated, Rejected: http.StatusConflict, Invalid: http.StatusBadRequest,
	Released: http.StatusOK, NotFound: http.StatusNotFound, Failed: http.StatusInternalServerError}

// ReservationList is GET /api/v1/reservations.
type ReservationList struct {
	APIVersion   string        `json:"api_version"`
	Reservations []Reservation `json:"reservations"`
	// Text is the list as p4qos admit list prints it.
	Text string `json:"text"`
}

// Reservation is one admitted reservation.
type Reservation struct {
	ID      string  `json:"id"`
	Name    string  `json:"name,omitempty"`
	Service string  `json:"service"`
	Src     string  `json:"src"`
	Dst     string  `json:"dst"`
	RateBps float64 `json:"rate_bps"`
	// Static: from the policy's reservations: section (released by editing
	// the policy), else admitted through the API.
	Static       bool    `json:"static"`
	BoundSeconds float64 `json:"bound_seconds,omitempty"`
	// Broken says why the reservation's promise no longer holds (a link
	// failure or topology change re-checked it); empty while it holds.
	Broken string `json:"broken,omitempty"`
}

// maxRequestBody bounds a POSTed reservation.
const maxRequestBody = 64 << 10

func (s *Server) reservations(rs ReservationSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/api/"+Version+"/reservations"), "/")
		switch {
		case r.Method == http.MethodGet && id == "":
			l := rs.Reservations()
			l.APIVersion = Version
			writeJSON(w, http.StatusOK, l)
		case (r.Method == http.MethodPost && id == "" || r.Method == http.MethodDelete && id != "") && !s.mayWrite(w, r):
			// A write that may not: mayWrite has answered 401 or 403.
		case r.Method == http.MethodPost && id == "":
			var req ReservationRequest
			dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				writeJSON(w, http.StatusBadRequest, Answer{Outcome: Invalid, Text: "invalid reservation request: " + err.Error()})
				return
			}
			a := rs.RequestReservation(r.Context(), req)
			writeJSON(w, outcomeStatus[a.Outcome], a)
		case r.Method == http.MethodDelete && id != "":
			a := rs.ReleaseReservation(r.Context(), id)
			writeJSON(w, outcomeStatus[a.Outcome], a)
		default:
			w.Header().Set("Allow", "GET, POST (collection), DELETE (/reservations/ID)")
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
		}
	})
}

// mayWrite reports whether r may change the daemon's state; when not, it
// has answered 401 (wrong or missing token) or 403 (no token configured,
// and r came in on an address that is not loopback).
func (s *Server) mayWrite(w http.ResponseWriter, r *http.Request) bool {
	if s.token == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && isLoopback(a) {
			return true
		}
		writeError(w, http.StatusForbidden, "reservation writes on a listener that is not loopback need an API token: set api-token (P4QOS_API_TOKEN) on the daemon and the client (docs/controller.md)")
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="p4qos"`)
		writeError(w, http.StatusUnauthorized, "reservation writes need the daemon's API token (Authorization: Bearer …; p4qos admit sends $P4QOS_API_TOKEN)")
		return false
	}
	return true
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		host = a.String()
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Client calls a daemon's reservation endpoints.
type Client struct {
	// Base is the daemon's status API (its metrics-addr URL).
	Base string
	// Token is sent as a bearer token on writes (api-token); empty: none.
	Token string
}

// RequestReservation posts req.
func (c Client) RequestReservation(ctx context.Context, req ReservationRequest) (Answer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Answer{}, err
	}
	return c.call(ctx, http.MethodPost, "", body)
}

// ReleaseReservation deletes reservation id.
func (c Client) ReleaseReservation(ctx context.Context, id string) (Answer, error) {
	return c.call(ctx, http.MethodDelete, "/"+id, nil)
}

// ListReservations reads the daemon's reservations.
func (c Client) ListReservations(ctx context.Context) (ReservationList, error) {
	var l ReservationList
	data, _, err := c.do(ctx, http.MethodGet, "", nil)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(data, &l); err != nil || l.APIVersion != Version {
		return l, fmt.Errorf("status API %s: not a p4qos %s reservation list", c.Base, Version)
	}
	return l, nil
}

// RequestReservation posts req to the daemon at base, without a token.
func RequestReservation(ctx context.Context, base string, req ReservationRequest) (Answer, error) {
	return Client{Base: base}.RequestReservation(ctx, req)
}

// ReleaseReservation deletes reservation id at the daemon at base, without
// a token.
func ReleaseReservation(ctx context.Context, base, id string) (Answer, error) {
	return Client{Base: base}.ReleaseReservation(ctx, id)
}

// ListReservations reads the daemon's reservations.
func ListReservations(ctx context.Context, base string) (ReservationList, error) {
	return Client{Base: base}.ListReservations(ctx)
}

func (c Client) call(ctx context.Context, method, suffix string, body []byte) (Answer, error) {
	var a Answer
	data, code, err := c.do(ctx, method, suffix, body)
	if err != nil {
		return a, err
	}
	if json.Unmarshal(data, &a) != nil || a.Outcome == "" {
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return a, fmt.Errorf("status API %s: %s (HTTP %d)", c.Base, e.Error, code)
		}
		return a, fmt.Errorf("status API %s: HTTP %d, not a reservation answer", c.Base, code)
	}
	return a, nil
}

// do sends one request to base/api/v1/reservations+suffix. Admission
// recompiles and installs before it answers: more than a status read, so
// it gets a minute.
func (c Client) do(ctx context.Context, method, suffix string, body []byte) ([]byte, int, error) {
	return request(ctx, method, c.Base, "/reservations"+suffix, 60*time.Second, body, c.Token)
}

// request sends one request to base/api/v1+path within timeout; a failure
// to get a response is an error, any HTTP status is the caller's.
func request(ctx context.Context, method, base, path string, timeout time.Duration, body []byte, token string) ([]byte, int, error) {
	url := strings.TrimSuffix(base, "/") + "/api/" + Version + path
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("status API %s: %w", base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("status API unreachable: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("status API %s: %w", url, err)
	}
	return data, resp.StatusCode, nil
}
