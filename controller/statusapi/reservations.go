package statusapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// RequestReservation posts req to the daemon at base.
func RequestReservation(ctx context.Context, base string, req ReservationRequest) (Answer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Answer{}, err
	}
	return call(ctx, http.MethodPost, base, "", body)
}

// ReleaseReservation deletes reservation id at the daemon at base.
func ReleaseReservation(ctx context.Context, base, id string) (Answer, error) {
	return call(ctx, http.MethodDelete, base, "/"+id, nil)
}

// ListReservations reads the daemon's reservations.
func ListReservations(ctx context.Context, base string) (ReservationList, error) {
	var l ReservationList
	data, _, err := do(ctx, http.MethodGet, base, "", nil)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(data, &l); err != nil || l.APIVersion != Version {
		return l, fmt.Errorf("status API %s: not a p4qos %s reservation list", base, Version)
	}
	return l, nil
}

func call(ctx context.Context, method, base, suffix string, body []byte) (Answer, error) {
	var a Answer
	data, code, err := do(ctx, method, base, suffix, body)
	if err != nil {
		return a, err
	}
	if json.Unmarshal(data, &a) != nil || a.Outcome == "" {
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return a, fmt.Errorf("status API %s: %s (HTTP %d)", base, e.Error, code)
		}
		return a, fmt.Errorf("status API %s: HTTP %d, not a reservation answer", base, code)
	}
	return a, nil
}

// do sends one request to base/api/v1/reservations+suffix. Admission
// recompiles and installs before it answers: more than a status read, so
// it gets a minute.
func do(ctx context.Context, method, base, suffix string, body []byte) ([]byte, int, error) {
	return request(ctx, method, base, "/reservations"+suffix, 60*time.Second, body)
}

// request sends one request to base/api/v1+path within timeout; a failure
// to get a response is an error, any HTTP status is the caller's.
func request(ctx context.Context, method, base, path string, timeout time.Duration, body []byte) ([]byte, int, error) {
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
