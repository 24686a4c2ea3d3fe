package p4compile

import (
	"os"
	"testing"

	"github.com/p4qos/p4qos/internal/bmv2json"
)

// TestCommittedJSONIsRepaired guards `make p4`'s repair step: the committed
// BMv2 JSON must give tables that share ecmp_selector one copy of each
// action, or BMv2 aborts on the first packet routed through a member
// created with the other copy.
func TestCommittedJSONIsRepaired(t *testing.T) {
	in, err := os.ReadFile(committedJSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, changed, err := bmv2json.UnifySharedProfileActions(in); err != nil || changed {
		t.Fatalf("committed %s still needs the repair (changed=%v, err=%v): run make p4", committedJSON, changed, err)
	}
}
