package sim

import (
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// writeAllOrNone applies a ROLLBACK_ON_ERROR or DATAPLANE_ATOMIC batch
// (§12.2). The whole batch runs in one hold of the switch's lock, so the
// traffic model (the data plane) and Reads see the state before the batch
// or after it, never in between: that is DATAPLANE_ATOMIC, and it is
// stronger than ROLLBACK_ON_ERROR needs, which the spec allows. At the first
// failing update the batch stops and everything it changed is rolled back
// from the Write's before-image (txn.go). The failed update gets its own
// code in the §12.3 details, every other one ABORTED. Called with writeMu
// held, after beginWrite.
func (s *Switch) writeAllOrNone(st *state, scope *roleScope, req *p4v1.WriteRequest) (*p4v1.WriteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	updates := req.GetUpdates()
	for i, u := range updates {
		err := scope.check(st.schema, req.GetRole(), u)
		if err == nil {
			err = st.apply(u)
		}
		if err == nil {
			continue
		}
		st.rollback()
		st.commit()
		s.log.Debug("write batch rolled back", "atomicity", req.GetAtomicity(), "index", i, "type", u.GetType(), "err", err)
		errs := make([]*p4v1.Error, len(updates))
		for j := range errs {
			errs[j] = &p4v1.Error{CanonicalCode: int32(codes.Aborted), Message: fmt.Sprintf("not applied: update %d failed and the batch was rolled back", i), Space: errorSpace}
		}
		errs[i] = toP4Error(err)
		return nil, batchStatus(fmt.Sprintf("Write failure: update %d of %d failed; %v batch rolled back", i, len(updates), req.GetAtomicity()), errs)
	}
	st.commit()
	return &p4v1.WriteResponse{}, nil
}
