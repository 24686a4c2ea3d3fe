package admission

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/topo"
)

// BindFlags adds the flags of `p4qos admit request` (policy and topology
// flags are the caller's).
func BindFlags(fs *pflag.FlagSet) {
	fs.Bool("dry-run", false, "decide offline against the policy and topology files instead of asking the running daemon")
	fs.String("src", "", "source host")
	fs.String("dst", "", "destination host")
	fs.String("proto", "", "protocol: tcp or udp (default any)")
	fs.Int("dst-port", 0, "destination port (default any)")
	fs.String("rate", "", "token rate r, e.g. 2Mbps")
	fs.String("burst", "", "bucket depth b, e.g. 10KB")
	fs.String("peak", "", "peak rate p (default unlimited)")
	fs.String("max-packet", "1500B", "max packet size M")
	fs.String("service", "guaranteed", "guaranteed or controlled-load")
	fs.Duration("max-delay", 0, "delay requirement (guaranteed; 0 = none)")
	fs.String("reservations", "", "YAML file with a reservations: section admitted first")
	fs.Float64("ef-share", DefaultParams().EFShare, "fraction of each link the EF queue may be reserved to (--dry-run; default the policy's admission.ef_share)")
	fs.String("out-of-profile", "", "packets outside the TSpec at the ingress edge: remark (to best effort, default) or drop")
}

// Command runs `p4qos admit request` on a loaded topology with the
// parameters p (the policy's; --ef-share overrides). It prints the answer
// and returns nil (admitted), a *Rejection (exit 1) or an *InvalidError
// (exit 2).
func Command(t *topo.Topology, p Params, fs *pflag.FlagSet, args []string, out io.Writer) error {
	if len(args) != 1 || args[0] != "request" {
		return &InvalidError{Msg: "admit --dry-run: want `admit request` (release and list act on the running daemon)"}
	}
	if fs.Changed("ef-share") {
		p.EFShare, _ = fs.GetFloat64("ef-share")
	}
	if p.EFShare <= 0 || p.EFShare > 1 {
		return &InvalidError{Msg: fmt.Sprintf("--ef-share %g: want 0 < share ≤ 1", p.EFShare)}
	}
	l := NewLedger(t, p, nil)
	if file, _ := fs.GetString("reservations"); file != "" {
		data, err := inputfile.Read(file, inputfile.Policy)
		if err != nil {
			return &InvalidError{Msg: err.Error()}
		}
		reqs, err := ParseReservations(file, data)
		if err != nil {
			return &InvalidError{Msg: yamlerr.Counted(err).Error()}
		}
		for _, r := range reqs {
			if _, err := l.Admit(r); err != nil {
				fmt.Fprintf(out, "static reservation %q (%s → %s) not admitted\n", r.Name, r.Src, r.Dst)
				printRejection(out, err)
				return err
			}
		}
		fmt.Fprintf(out, "%d static reservation(s) admitted from %s\n", len(reqs), file)
		listTable(out, l.List())
	}
	src, _ := fs.GetString("src")
	if src == "" && fs.Changed("reservations") {
		return nil
	}
	req, err := requestFromFlags(fs)
	if err != nil {
		return err
	}
	a, err := l.Check(req)
	if err != nil {
		printRejection(out, err)
		return err
	}
	Print(out, a)
	return nil
}

// PrintError writes a refusal as the CLI prints it: a rejection's hop,
// resource and numbers, or the error.
func PrintError(out io.Writer, err error) {
	if _, ok := err.(*Rejection); ok {
		printRejection(out, err)
		return
	}
	fmt.Fprintln(out, err)
}

// PrintList writes admitted reservations as a table.
func PrintList(out io.Writer, rs []Reservation) { listTable(out, rs) }

func printRejection(out io.Writer, err error) {
	if rj, ok := err.(*Rejection); ok {
		fmt.Fprintf(out, "REJECTED %s\n  hop:      %s\n  resource: %s\n  need:     %s\n  limit:    %s\n", rj.Reservation, orDash(rj.Hop), rj.Resource, rj.Need, rj.Limit)
		if rj.Detail != "" {
			fmt.Fprintf(out, "  detail:   %s\n", rj.Detail)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func requestFromFlags(fs *pflag.FlagSet) (Request, error) {
	s := func(n string) string { v, _ := fs.GetString(n); return v }
	var r Request
	r.Src, r.Dst, r.Protocol, r.Service, r.Excess = s("src"), s("dst"), s("proto"), Service(s("service")), Excess(s("out-of-profile"))
	r.DstPort, _ = fs.GetInt("dst-port")
	r.MaxDelay, _ = fs.GetDuration("max-delay")
	var errs []string
	rate := func(flag string, dst *float64, required bool) {
		if v := s(flag); v != "" {
			x, err := units.ParseBitrate(v)
			if err != nil {
				errs = append(errs, "--"+flag+": "+err.Error())
			}
			*dst = x
		} else if required {
			errs = append(errs, "missing --"+flag)
		}
	}
	size := func(flag string, dst *float64, required bool) {
		if v := s(flag); v != "" {
			x, err := units.ParseBytes(v)
			if err != nil {
				errs = append(errs, "--"+flag+": "+err.Error())
			}
			*dst = float64(x)
		} else if required {
			errs = append(errs, "missing --"+flag)
		}
	}
	rate("rate", &r.TSpec.Rate, true)
	rate("peak", &r.TSpec.Peak, false)
	size("burst", &r.TSpec.Burst, true)
	size("max-packet", &r.TSpec.MaxPacket, true)
	if r.Src == "" || r.Dst == "" {
		errs = append(errs, "missing --src or --dst")
	}
	if len(errs) > 0 {
		return r, &InvalidError{Msg: "admit request: " + strings.Join(errs, "; ")}
	}
	return r, nil
}

// Print writes an admission: the bound and the per-hop terms, or the
// controlled-load checks.
func Print(out io.Writer, a *Admission) {
	r := a.Reservation
	fmt.Fprintf(out, "ADMITTED %s (%s, %s → %s, rate %s, burst %s)\n", r.ID, r.Service, r.Src, r.Dst,
		units.FormatBitrate(r.TSpec.Rate), units.FormatBytes(uint64(r.TSpec.Burst)))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	if r.Service == Guaranteed {
		req := "no max delay"
		if r.MaxDelay > 0 {
			req = "max delay " + r.MaxDelay.String()
		}
		fmt.Fprintf(out, "end-to-end delay bound %s (%s), worst ECMP path; %s\n", a.Bound, req, a.Method)
		fmt.Fprintln(tw, "HOP\tEF RATE R\tLATENCY T\tEF AGG RATE\tEF AGG BURST\tDELAY d\tPROPAGATION")
		for _, h := range a.Hops {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Hop, units.FormatBitrate(h.EFRate), h.Latency,
				units.FormatBitrate(h.AggRate), units.FormatBytes(uint64(h.AggBurst+0.5)), h.Delay, h.Prop)
		}
	} else {
		fmt.Fprintln(tw, "HOP\tLOAD\tSOURCE\tLIMIT")
		for _, c := range a.CL {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Hop, units.FormatBitrate(c.Measured), c.Source, units.FormatBitrate(c.Limit))
		}
	}
	tw.Flush()
	if a.Note != "" {
		fmt.Fprintf(out, "note: %s\n", a.Note)
	}
}

func listTable(out io.Writer, rs []Reservation) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSERVICE\tSRC\tDST\tRATE\tBURST\tBOUND\tMAX DELAY")
	for _, r := range rs {
		bound, md := "-", "-"
		if r.Service == Guaranteed {
			bound = r.Bound.String()
		}
		if r.MaxDelay > 0 {
			md = r.MaxDelay.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.Name), r.Service, r.Src, r.Dst, units.FormatBitrate(r.TSpec.Rate), units.FormatBytes(uint64(r.TSpec.Burst)), bound, md)
	}
	tw.Flush()
}

// reservationsFile is the file of static reservations.
type reservationsFile struct {
	Reservations []*Entry `yaml:"reservations"`
}

// Entry is one item of a reservations: section as written (a policy's, a
// --reservations file's or the daemon's state file); Requests checks it.
type Entry struct {
	Name      string        `yaml:"name"`
	Src       string        `yaml:"src"`
	Dst       string        `yaml:"dst"`
	Protocol  string        `yaml:"protocol"`
	DstPort   int           `yaml:"dst_port"`
	Rate      string        `yaml:"rate"`
	Burst     string        `yaml:"burst"`
	Peak      string        `yaml:"peak"`
	MaxPacket string        `yaml:"max_packet"`
	Service   string        `yaml:"service"`
	MaxDelay  topo.Duration `yaml:"max_delay"`
	// OutOfProfile is Request.Excess: remark (default) or drop.
	OutOfProfile string `yaml:"out_of_profile"`
}

// ParseReservations reads a file whose only section is reservations:;
// problems come back as a yamlerr.List with file:line:column.
func ParseReservations(file string, data []byte) ([]Request, error) {
	doc, err := yamlerr.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var f reservationsFile
	errs := doc.Decode(&f)
	out, more := Requests(doc, "reservations", f.Reservations)
	errs = append(errs, more...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Requests checks the decoded entries of the section at path of doc and
// returns them as requests, with every problem positioned.
func Requests(doc *yamlerr.Document, path string, entries []*Entry) ([]Request, yamlerr.List) {
	var errs yamlerr.List
	var out []Request
	for i, e := range entries {
		if e == nil {
			continue
		}
		p := yamlerr.Index(path, i)
		n := len(errs)
		bad := func(key, format string, args ...any) { errs.Add(doc.Errorf(yamlerr.Key(p, key), format, args...)) }
		r := Request{Name: e.Name, Src: e.Src, Dst: e.Dst, Protocol: e.Protocol, DstPort: e.DstPort,
			Service: Service(e.Service), MaxDelay: time.Duration(e.MaxDelay), Excess: Excess(e.OutOfProfile)}
		if r.Excess != "" && r.Excess != ExcessRemark && r.Excess != ExcessDrop {
			bad("out_of_profile", "out_of_profile %s: want remark or drop", yamlerr.Quote(e.OutOfProfile))
		}
		if r.Service == "" {
			r.Service = Guaranteed
		}
		if r.Service != Guaranteed && r.Service != ControlledLoad {
			bad("service", "service %s: want guaranteed or controlled-load", yamlerr.Quote(e.Service))
		}
		if e.Src == "" || e.Dst == "" {
			errs.Add(doc.Errorf(p, "missing src or dst"))
		}
		rate := func(key, v string, dst *float64, required bool) {
			if v == "" {
				if required {
					errs.Add(doc.Errorf(p, "missing %s", key))
				}
				return
			}
			x, err := units.ParseBitrate(v)
			if err != nil {
				bad(key, "%v", err)
			}
			*dst = x
		}
		size := func(key, v string, dst *float64) {
			if v == "" {
				errs.Add(doc.Errorf(p, "missing %s", key))
				return
			}
			x, err := units.ParseBytes(v)
			if err != nil {
				bad(key, "%v", err)
			}
			*dst = float64(x)
		}
		if e.MaxPacket == "" {
			e.MaxPacket = "1500B"
		}
		rate("rate", e.Rate, &r.TSpec.Rate, true)
		rate("peak", e.Peak, &r.TSpec.Peak, false)
		size("burst", e.Burst, &r.TSpec.Burst)
		size("max_packet", e.MaxPacket, &r.TSpec.MaxPacket)
		if len(errs) == n {
			if err := r.validate(); err != nil {
				errs.Add(doc.Errorf(p, "%v", err))
			}
		}
		out = append(out, r)
	}
	return out, errs
}

// EntryOf is the section entry that Requests reads back as r (the
// daemon's state file is written with it). Rates are written in bits/s
// in full, so that the round trip is exact.
func EntryOf(r Request) *Entry {
	bps := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "bps" }
	e := &Entry{Name: r.Name, Src: r.Src, Dst: r.Dst, Protocol: r.Protocol, DstPort: r.DstPort,
		Rate: bps(r.TSpec.Rate), Burst: fmt.Sprintf("%dB", int64(r.TSpec.Burst)),
		MaxPacket: fmt.Sprintf("%dB", int64(r.TSpec.MaxPacket)), Service: string(r.Service),
		MaxDelay: topo.Duration(r.MaxDelay), OutOfProfile: string(r.Excess)}
	if r.TSpec.Peak > 0 {
		e.Peak = bps(r.TSpec.Peak)
	}
	return e
}
