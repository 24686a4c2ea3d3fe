package controlplane

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unavailable RPC", wrapRPC("read", status.Error(codes.Unavailable, "down")), true},
		{"not primary", fmt.Errorf("x: %w", &WriteError{RPC: wrapRPC("write", status.Error(codes.PermissionDenied, "no"))}), true},
		{"invalid argument update", &WriteError{Updates: []*UpdateError{{Code: codes.InvalidArgument}}}, false},
		{"table full update", &WriteError{Updates: []*UpdateError{{Code: codes.ResourceExhausted}}}, true},
		{"terminal wrapper", Terminal(status.Error(codes.Unavailable, "down")), false},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), true},
		{"no session", fmt.Errorf("s1: %w", ErrNoSession), true},
		{"plain error", errors.New("decode"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestSentinelsMatchRPCAndUpdateErrors(t *testing.T) {
	rpc := wrapRPC("write", status.Error(codes.NotFound, "gone"))
	if !errors.Is(rpc, ErrNotFound) || errors.Is(rpc, ErrAlreadyExists) {
		t.Errorf("RPC-level NOT_FOUND: Is(ErrNotFound)=%v Is(ErrAlreadyExists)=%v", errors.Is(rpc, ErrNotFound), errors.Is(rpc, ErrAlreadyExists))
	}
	if status.Code(rpc) != codes.NotFound {
		t.Errorf("status.Code through the wrapper = %v", status.Code(rpc))
	}
	we := fmt.Errorf("apply: %w", &WriteError{Updates: []*UpdateError{{Code: codes.AlreadyExists}, {Code: codes.OutOfRange}}})
	for _, s := range []error{ErrAlreadyExists, ErrOutOfRange} {
		if !errors.Is(we, s) {
			t.Errorf("errors.Is(%v, %v) = false", we, s)
		}
	}
	if errors.Is(we, ErrNotPrimary) {
		t.Error("a per-update error matched ErrNotPrimary")
	}
}

func TestIsCanceled(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, true},
		{fmt.Errorf("reconcile leaf1: %w", wrapRPC("read", status.Error(codes.Canceled, "context canceled"))), true},
		{fmt.Errorf("reconcile leaf1: %w", wrapRPC("read", status.Error(codes.Unavailable, "down"))), false},
		{errors.New("code = Canceled, said a message"), false},
	} {
		if got := isCanceled(tc.err); got != tc.want {
			t.Errorf("isCanceled(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
