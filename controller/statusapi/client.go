package statusapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/p4qos/p4qos/internal/units"
)

// DefaultURL is the daemon's default listener (metrics-addr).
const DefaultURL = "http://127.0.0.1:9464"

// Fetch reads base/api/v1/status. Any failure (unreachable, not the API,
// an error status) is an error saying which.
func Fetch(ctx context.Context, base string) (Status, error) {
	var st Status
	url := strings.TrimSuffix(base, "/") + "/api/" + Version + "/status"
	body, code, err := request(ctx, http.MethodGet, base, "/status", 5*time.Second, nil, "")
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		var e Error
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return st, fmt.Errorf("status API %s: %s (HTTP %d)", url, e.Error, code)
		}
		return st, fmt.Errorf("status API %s: HTTP %d", url, code)
	}
	if err := json.Unmarshal(body, &st); err != nil || st.APIVersion != Version {
		return st, fmt.Errorf("status API %s: not a p4qos %s status document", url, Version)
	}
	return st, nil
}

// WriteJSON prints st as the API serves it.
func WriteJSON(w io.Writer, st Status) error {
	data, err := encode(st, "  ")
	if err == nil {
		_, err = w.Write(data)
	}
	return err
}

// WriteTable prints st for people: the switches, then the allocation.
func WriteTable(w io.Writer, st Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ready: %v   intent revision: %d   p4qos %s, revision %s\n\n", st.Ready, st.IntentRevision, st.Build.Version, short(st.Build.Revision))
	fmt.Fprintln(tw, "SWITCH\tSTREAM\tCONVERGED\tLAST RECONCILE\tRECONCILES\tDRIFT REPAIRED\tERRORS\tPIPELINE")
	for _, sw := range st.Switches {
		last := "-"
		if sw.LastReconcile != nil {
			last = sw.LastReconcile.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%d\t%d\t%s\n", sw.Name, sw.Stream, sw.Converged, last, sw.Reconciles,
			sw.DriftRepaired, sw.ReconcileErrors, orDash(sw.PipelineCookie))
	}
	a := st.Allocation
	fmt.Fprintf(tw, "\nallocation: %d rounds\n", a.Rounds)
	fmt.Fprintln(tw, "FLOW GROUP\tTENANT\tUSAGE\tDEMAND\tALLOCATED\tENFORCED\tBOTTLENECK")
	for _, fg := range a.FlowGroups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fg.Name, fg.Tenant, units.FormatBitrate(fg.Usage), units.FormatBitrate(fg.Demand),
			units.FormatBitrate(fg.Allocation), units.FormatBitrate(fg.Enforced), orDash(fg.Bottleneck))
	}
	return tw.Flush()
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ReadEvent reads one message of an /api/v1/events stream: its event name
// and data line (comments and the retry hint are skipped).
func ReadEvent(r *bufio.Reader) (name, data string, err error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name != "":
			return name, data, nil
		}
	}
}
