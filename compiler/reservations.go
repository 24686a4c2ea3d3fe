package compiler

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
)

// WithReservations makes Compile install admitted reservations
// (docs/admission.md): one reservation entry per reservation and address
// family, with the TSpec as its direct meter, at the reservation's ingress
// edge switch (the switch its source host is cabled to) and nowhere else:
// the flow is policed once, where it enters the DiffServ domain, and
// carries its PHB's DSCP from there (RFC 2998 §4.3, IntServ over a
// DiffServ core). Admission is the caller's (an admission.Ledger); Compile
// only checks that the hosts exist and that the table holds them.
func WithReservations(rs []admission.Reservation) Option {
	return func(c *config) { c.reservations = rs }
}

// ReservationMeter is a reservation's direct meter configuration (bytes/s
// and bytes): a packet is green only when it conforms to both token
// buckets of the TSpec, (r, b) as the committed and (p, M) as the peak
// bucket of the trTCM (RFC 2698). Without a peak rate the peak bucket
// repeats the committed one, so it never binds. Rates are rounded down
// to whole bytes/s: never let more through than was admitted.
func ReservationMeter(ts admission.TSpec) *tables.MeterConfig {
	m := &tables.MeterConfig{CIR: int64(ts.Rate / 8), CBurst: int64(ts.Burst)}
	m.PIR, m.PBurst = m.CIR, m.CBurst
	if ts.Peak > 0 {
		m.PIR, m.PBurst = int64(ts.Peak/8), int64(math.Ceil(ts.MaxPacket))
	}
	return m
}

// reservationPriority ranks a more specific reservation above a broader
// one for the same hosts (a port beats any port, a protocol beats any).
func reservationPriority(r admission.Reservation) int32 {
	p := int32(1)
	if r.Protocol != "" {
		p++
	}
	if r.DstPort != 0 {
		p += 2
	}
	return p
}

// classForDSCP is the id of the first policy class marking packets with
// d, whose class_counter then counts the reserved flows; 0 (the default
// class) when none does.
func (c *compilation) classForDSCP(d uint8) int {
	for _, cl := range c.p.Classes {
		if uint8(cl.PHB.DSCP) == d {
			return cl.ID
		}
	}
	return 0
}

// flowAddr is an address as the reservation table's src/dst see it:
// IPv4 zero-extended to 128 bits (meta.flow_src/flow_dst), IPv6 as is.
func flowAddr(a netip.Addr) []byte {
	if a.Is4() {
		b := make([]byte, 16)
		v4 := a.As4()
		copy(b[12:], v4[:])
		return b
	}
	b := a.As16()
	return b[:]
}

var fullMask = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (c *compilation) buildReservations(per []switchEntities) error {
	for _, r := range c.cfg.reservations {
		src, okS := c.t.Host(r.Src)
		dst, okD := c.t.Host(r.Dst)
		if !okS || !okD {
			c.bad("reservations", "reservation %s: %s → %s: both must be hosts of the topology", yamlerr.Quote(r.ID), yamlerr.Quote(r.Src), yamlerr.Quote(r.Dst))
			continue
		}
		si, ok := c.swIdx[src.Switch]
		if !ok {
			c.bad("reservations", "reservation %s: host %s is cabled to %s, not a switch of the topology", yamlerr.Quote(r.ID), yamlerr.Quote(r.Src), yamlerr.Quote(src.Switch))
			continue
		}
		dscp := r.Service.DSCP()
		drop := 0
		if r.Excess == admission.ExcessDrop {
			drop = 1
		}
		action := tables.Action(contract.Reserve, tables.Param(contract.ParamClassID, c.classForDSCP(dscp)),
			tables.Param(contract.ParamDSCP, int(dscp)), tables.Param(contract.ParamExcessDrop, drop))
		n := 0
		for _, fam := range [][2]netip.Prefix{{netip.Prefix(src.IPv4), netip.Prefix(dst.IPv4)}, {netip.Prefix(src.IPv6), netip.Prefix(dst.IPv6)}} {
			s, d := fam[0].Addr(), fam[1].Addr()
			if !s.IsValid() || !d.IsValid() {
				continue
			}
			ver := 6
			if s.Is4() {
				ver = 4
			}
			m := []tables.Match{
				tables.Ternary(contract.KeyIPVersion, ver, 0xf),
				tables.Ternary(contract.KeySrc, flowAddr(s), fullMask),
				tables.Ternary(contract.KeyDst, flowAddr(d), fullMask),
			}
			switch r.Protocol {
			case "tcp":
				m = append(m, tables.Ternary(contract.KeyIPProto, 6, 0xff))
			case "udp":
				m = append(m, tables.Ternary(contract.KeyIPProto, 17, 0xff))
			}
			if r.DstPort != 0 {
				m = append(m, tables.Ternary(contract.KeyL4DstPort, r.DstPort, 0xffff))
			}
			te, err := c.s.TableEntry(contract.Reservation, m, action, tables.Priority(reservationPriority(r)), tables.WithMeterConfig(ReservationMeter(r.TSpec)))
			if err != nil {
				return internal(fmt.Sprintf("reservation entry of %s", r.ID), err)
			}
			per[si].reservation = append(per[si].reservation, tables.EntityOf(te))
			n++
		}
		if n == 0 {
			c.bad("reservations", "reservation %s: hosts %s and %s share no address family", yamlerr.Quote(r.ID), yamlerr.Quote(r.Src), yamlerr.Quote(r.Dst))
		}
	}
	return nil
}
