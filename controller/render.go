package controller

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/p4qos/p4qos/controlplane"
)

// WriteOnce prints the result of Once, one line per switch in name order
// (`p4qos run --once`).
func WriteOnce(w io.Writer, switches []controlplane.SwitchConfig, stats map[string]controlplane.ReconcileStats) {
	names := make([]string, 0, len(switches))
	for _, sw := range switches {
		names = append(names, sw.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		st, ok := stats[n]
		if !ok {
			fmt.Fprintf(w, "%s: FAILED (see the error below)\n", n)
			continue
		}
		fmt.Fprintf(w, "%s: pushed_pipeline=%v read=%d inserts=%d modifies=%d deletes=%d written=%d rpcs=%d undone=%d queue_params=%d\n",
			n, st.Pushed, st.Read, st.Inserts, st.Modifies, st.Deletes, st.Write.Updates, st.Write.RPCs, st.Write.Undone, st.SideWritten)
	}
}

// OnceReport runs Once and prints its result (WriteOnce): `p4qos run --once`.
func (c *Controller) OnceReport(ctx context.Context, w io.Writer) error {
	stats, err := c.Once(ctx)
	WriteOnce(w, c.Fabric().Switches(), stats)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}
