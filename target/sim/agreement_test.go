package sim

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/tables"
)

// TestValidationAgreesWithTables cross-checks the sim's server-side
// validation with the tables package's client-side one (which the
// controller uses) on every write case that does not depend on switch
// state. The two are written independently on purpose: a shared bug would
// make the controller and its test target agree on something a real switch
// rejects. A disagreement means one of them misreads the spec (or PI/BMv2:
// unknown P4 ids are INVALID_ARGUMENT as in PI's make_invalid_p4_id_status,
// PIR < CIR is rejected as by BMv2's Meter::set_rate).
func TestValidationAgreesWithTables(t *testing.T) {
	ts, err := tables.New(loadP4Info(t, "testdata/generic.p4info.txtpb"))
	if err != nil {
		t.Fatalf("tables.New: %v", err)
	}
	stateful := map[codes.Code]bool{codes.NotFound: true, codes.AlreadyExists: true, codes.ResourceExhausted: true, codes.FailedPrecondition: true}
	for _, tc := range writeCases() {
		if len(tc.setup) > 0 || stateful[tc.want] {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got := codes.OK
			if err := ts.ValidateUpdate(tc.u); err != nil {
				got = tables.Code(err)
			}
			if got != tc.want {
				t.Errorf("tables.ValidateUpdate: %v, sim: %v", got, tc.want)
			}
		})
	}
}
