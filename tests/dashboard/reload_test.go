package dashboard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controller/statusapi"
)

// TestDemoReloadsObjective: while `p4qos demo --ui` runs, an edit of its
// policy file that switches the allocation objective to α-fair is picked
// up live (the status API's intent revision goes from 1 to 2); that a
// reload switches the closed loop's objective is
// controller.TestClosedLoopAlphaFair. Needs no browser.
func TestDemoReloadsObjective(t *testing.T) {
	base, err := os.ReadFile(repoFile("topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, base, 0o600); err != nil {
		t.Fatal(err)
	}
	url, _ := startDemo(t, policy)
	api := strings.TrimSuffix(url, "ui/") + "api/v1/status"
	var st statusapi.Status
	getJSON(t, api, &st)
	if st.IntentRevision != 1 {
		t.Fatalf("intent revision %d before the edit, want 1", st.IntentRevision)
	}
	edited := append(append([]byte{}, base...), "\nallocation: {objective: alpha-fair, alpha: 1}\n"...)
	if err := os.WriteFile(policy, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.IntentRevision < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		getJSON(t, api, &st)
	}
	if st.IntentRevision != 2 {
		t.Fatalf("intent revision %d 20 s after the policy edit, want 2 (the reload)", st.IntentRevision)
	}
	// The loop goes on under the new policy to its last round (the
	// baseline sample and the rounds), after which the demo only serves.
	var alloc struct{ Allocation statusapi.Allocation }
	for alloc.Allocation.Rounds < rounds+1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		getJSON(t, strings.TrimSuffix(api, "status")+"allocation", &alloc)
	}
	if alloc.Allocation.Rounds != rounds+1 || alloc.Allocation.IntentRevision != 2 {
		t.Fatalf("after the reload: %d rounds under intent revision %d, want %d under 2", alloc.Allocation.Rounds, alloc.Allocation.IntentRevision, rounds+1)
	}
}
