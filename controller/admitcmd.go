package controller

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// BindAdmitFlags adds the flags of `p4qos admit`: admission's request
// flags, the files of --dry-run and the daemon's API address.
func BindAdmitFlags(fs *pflag.FlagSet) {
	fs.StringP("policy", "p", "", "policy file (--dry-run)")
	fs.StringP("topology", "t", "", "topology file (--dry-run)")
	fs.String("api", statusapi.DefaultURL, "the running daemon's status API (its metrics-addr)")
	fs.String("api-token", "", "bearer token for the daemon's reservation writes (its api-token; default $"+EnvPrefix+"API_TOKEN, which is better: flags show in ps)")
	admission.BindFlags(fs)
}

// AdmitCommand is `p4qos admit request|release ID|list`. With --dry-run,
// request decides offline against the policy and topology files
// (admission.Command); otherwise all three go to the running daemon's API,
// which decides with its ledger, persists and installs. Exit statuses: 0
// admitted (or done), 1 rejected or not found, 2 invalid input.
func AdmitCommand(ctx context.Context, fs *pflag.FlagSet, args []string, stdin io.Reader, out io.Writer) error {
	if dry, _ := fs.GetBool("dry-run"); dry {
		p, _ := fs.GetString("policy")
		t, _ := fs.GetString("topology")
		pol, tp, err := compiler.LoadInputs(p, t, stdin)
		if err != nil {
			return &admission.InvalidError{Msg: yamlerr.Counted(err).Error()}
		}
		return admission.Command(tp, pol.AdmissionParams(), fs, args, out)
	}
	api, _ := fs.GetString("api")
	token, _ := fs.GetString("api-token")
	if token == "" {
		token = os.Getenv(EnvPrefix + "API_TOKEN")
	}
	cl := statusapi.Client{Base: api, Token: token}
	var a statusapi.Answer
	var err error
	switch {
	case len(args) == 1 && args[0] == "list":
		l, err := cl.ListReservations(ctx)
		if err != nil {
			return err
		}
		_, err = io.WriteString(out, l.Text)
		return err
	case len(args) == 2 && args[0] == "release":
		a, err = cl.ReleaseReservation(ctx, args[1])
	case len(args) == 1 && args[0] == "request":
		a, err = cl.RequestReservation(ctx, requestFlags(fs))
	default:
		return &admission.InvalidError{Msg: "admit: want `admit request [flags]`, `admit release ID` or `admit list`"}
	}
	if err != nil {
		return err
	}
	fmt.Fprint(out, a.Text)
	switch a.Outcome {
	case statusapi.Admitted, statusapi.Released:
		return nil
	case statusapi.Invalid:
		return &admission.InvalidError{Msg: "admit " + args[0] + ": the daemon refused the request as invalid"}
	}
	return &outcomeError{a.Outcome}
}

// outcomeError is a rejection or a missing reservation (exit 1), already
// explained by the daemon's text.
type outcomeError struct{ outcome string }

func (e *outcomeError) Error() string { return "admit: " + e.outcome }
func (e *outcomeError) ExitCode() int { return 1 }

// requestFlags is the API request the flags describe, units as written:
// the daemon checks it as it checks the policy's reservations: section.
func requestFlags(fs *pflag.FlagSet) statusapi.ReservationRequest {
	s := func(n string) string { v, _ := fs.GetString(n); return v }
	var r statusapi.ReservationRequest
	r.Src, r.Dst, r.Protocol, r.Service, r.OutOfProfile = s("src"), s("dst"), s("proto"), s("service"), s("out-of-profile")
	r.Rate, r.Burst, r.Peak, r.MaxPacket = s("rate"), s("burst"), s("peak"), s("max-packet")
	r.DstPort, _ = fs.GetInt("dst-port")
	if d, _ := fs.GetDuration("max-delay"); d > 0 {
		r.MaxDelay = d.String()
	}
	return r
}
