package admission

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/p4qos/p4qos/internal/units"
)

// Service is an IntServ service class.
type Service string

const (
	Guaranteed     Service = "guaranteed"      // RFC 2212
	ControlledLoad Service = "controlled-load" // RFC 2211
)

// TSpec is a token-bucket traffic specification (RFC 2215): the flow's
// traffic in any interval of length t is at most min(M + p·t, b + r·t).
type TSpec struct {
	Rate      float64 // r, bits/s
	Burst     float64 // b, bytes
	Peak      float64 // p, bits/s; 0 = unlimited (not used to tighten the bound)
	MaxPacket float64 // M, bytes
}

// Request asks for a reservation.
type Request struct {
	Name     string // optional label; the ID is derived from the request
	Src, Dst string // host names
	Protocol string // optional: tcp, udp
	DstPort  int    // optional, 0 = any
	TSpec    TSpec
	Service  Service
	MaxDelay time.Duration // guaranteed only; 0 = no delay requirement
	// Excess is what the ingress edge does with the flow's packets outside
	// its TSpec (the reservation's direct meter does not mark them
	// green): ExcessRemark (the default) or ExcessDrop.
	Excess Excess
}

// Excess is the handling of out-of-profile packets.
type Excess string

const (
	// ExcessRemark sends them on as best effort (DSCP 0): RFC 2212
	// ("Policing") has nonconforming datagrams treated as best effort.
	ExcessRemark Excess = "remark"
	// ExcessDrop drops them at the ingress edge, as RFC 3246 §2.5 allows
	// for EF traffic above its rate.
	ExcessDrop Excess = "drop"
)

// DSCP is the codepoint, i.e. the PHB, an admitted flow's conforming
// packets are marked with at the ingress edge: EF (46, RFC 3246) for
// guaranteed service, whose bound assumes the strict-priority EF queue;
// AF41 (34, RFC 2597) for controlled load, served below EF.
func (s Service) DSCP() uint8 {
	if s == ControlledLoad {
		return 34
	}
	return 46
}

// Reservation is an admitted request.
type Reservation struct {
	ID string
	Request
	// Bound is the end-to-end delay bound (guaranteed service) at the last
	// admission or release.
	Bound time.Duration
}

func (r Request) validate() error {
	var errs []string
	if r.Src == "" || r.Dst == "" {
		errs = append(errs, "src and dst hosts are required")
	}
	if r.Src != "" && r.Src == r.Dst {
		errs = append(errs, "src and dst are the same host")
	}
	if r.TSpec.Rate <= 0 {
		errs = append(errs, "rate must be > 0")
	}
	if r.TSpec.MaxPacket <= 0 {
		errs = append(errs, "max packet must be > 0")
	}
	if r.TSpec.Burst < r.TSpec.MaxPacket {
		errs = append(errs, fmt.Sprintf("burst %s is smaller than the max packet %s", units.FormatBytes(uint64(r.TSpec.Burst)), units.FormatBytes(uint64(r.TSpec.MaxPacket))))
	}
	if r.TSpec.Peak != 0 && r.TSpec.Peak < r.TSpec.Rate {
		errs = append(errs, "peak must be ≥ rate")
	}
	switch r.Service {
	case Guaranteed, ControlledLoad:
	default:
		errs = append(errs, fmt.Sprintf("service %q: want guaranteed or controlled-load", r.Service))
	}
	if r.Service == ControlledLoad && r.MaxDelay != 0 {
		errs = append(errs, "max delay applies to guaranteed service only")
	}
	if r.Protocol != "" && r.Protocol != "tcp" && r.Protocol != "udp" {
		errs = append(errs, fmt.Sprintf("protocol %q: want tcp or udp", r.Protocol))
	}
	if r.Excess != "" && r.Excess != ExcessRemark && r.Excess != ExcessDrop {
		errs = append(errs, fmt.Sprintf("out of profile %q: want remark or drop", r.Excess))
	}
	if r.DstPort < 0 || r.DstPort > 65535 {
		errs = append(errs, "dst port must be 0..65535")
	}
	if len(errs) > 0 {
		return &InvalidError{Msg: "invalid reservation: " + strings.Join(errs, "; ")}
	}
	return nil
}

// key is the canonical text of a request, hashed into its ID.
func (r Request) key() string {
	return fmt.Sprintf("%s|%s|%s|%s|%d|%g|%g|%g|%g|%s|%d", r.Name, r.Src, r.Dst, r.Protocol, r.DstPort,
		r.TSpec.Rate, r.TSpec.Burst, r.TSpec.Peak, r.TSpec.MaxPacket, r.Service, r.MaxDelay)
}

// BaseID is the ID the request gets in a ledger that has no other
// reservation with the same ID (admitting it twice gives ID.2).
func (r Request) BaseID() string { return r.baseID() }

// baseID is deterministic: the same request gets the same ID in every run
// and on every controller, so admitting then releasing leaves no trace.
func (r Request) baseID() string {
	h := fnv.New32a()
	h.Write([]byte(r.key()))
	prefix := "g"
	if r.Service == ControlledLoad {
		prefix = "cl"
	}
	return fmt.Sprintf("%s-%s-%s-%06x", prefix, r.Src, r.Dst, h.Sum32()&0xffffff)
}

// InvalidError is a request that is not well-formed (usage, exit 2).
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }
func (e *InvalidError) ExitCode() int { return 2 }

// ErrNotFound is wrapped by Release for an unknown ID.
var ErrNotFound = errors.New("no such reservation")

// Rejection says why a request was refused: which reservation's promise or
// which hop's resource would break, and the numbers.
type Rejection struct {
	Reservation string // the request's ID, or an admitted reservation whose bound would break
	Hop         string // directed link, e.g. "leaf1:3->spine1:1"
	Resource    string // "EF share", "delay bound", "controlled-load utilisation", "path"
	Need, Limit string // formatted numbers
	Detail      string
}

func (r *Rejection) Error() string {
	s := fmt.Sprintf("rejected: %s", r.Resource)
	if r.Hop != "" {
		s += " at hop " + r.Hop
	}
	if r.Reservation != "" {
		s += " (reservation " + r.Reservation + ")"
	}
	s += fmt.Sprintf(": need %s, limit %s", r.Need, r.Limit)
	if r.Detail != "" {
		s += "; " + r.Detail
	}
	return s
}

// ExitCode is 1: rejected is a normal answer, not invalid input.
func (r *Rejection) ExitCode() int { return 1 }

func fmtDur(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond / 10).String()
}
