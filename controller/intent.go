package controller

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/p4qos/p4qos/controller/cluster"
)

// GetIntent returns the cluster's current intent and its revision (0: the
// store is empty).
func GetIntent(ctx context.Context, cli *clientv3.Client) (cluster.Intent, int64, error) {
	in, ok, err := cluster.NewStore(cli).Get(ctx)
	if err != nil || !ok {
		return in, 0, err
	}
	return in, in.Revision, nil
}

// ValidateIntent compiles policy against topology with cfg's pipelines:
// exactly what a controller does before it takes a new intent. Errors are
// *InputError with the compiler's positions.
func ValidateIntent(ctx context.Context, cfg Config, policy, topology []byte) error {
	cfg.Cluster, cfg.Once = "", false
	if sameContent(cfg.Policy, policy) && sameContent(cfg.Topology, topology) {
		_, err := New(ctx, cfg) // the user's files: errors name them
		return err
	}
	dir, err := os.MkdirTemp("", "p4qos-intent-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.Policy, cfg.Topology = filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(cfg.Policy, policy, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(cfg.Topology, topology, 0o600); err != nil {
		return err
	}
	_, err = New(ctx, cfg)
	return err
}

func sameContent(path string, data []byte) bool {
	got, err := os.ReadFile(path)
	return err == nil && bytes.Equal(got, data)
}

// PutIntent validates policy and topology and stores them as the revision
// after expect, only if the store is still at expect (compare-and-swap;
// cluster.ErrConflict otherwise). It returns the new revision. The
// reservations admitted through the API are kept: they are intent of
// their own (p4qos admit), not part of the files.
func PutIntent(ctx context.Context, cli *clientv3.Client, cfg Config, policy, topology []byte, expect int64) (int64, error) {
	if err := ValidateIntent(ctx, cfg, policy, topology); err != nil {
		return 0, err
	}
	st := cluster.NewStore(cli)
	cur, _, err := st.Get(ctx)
	if err != nil {
		return 0, err
	}
	return st.PutContent(ctx, cluster.Content{Policy: policy, Topology: topology, Reservations: keptReservations(cur, expect)}, expect, "put")
}

// keptReservations are the current revision's reservations, carried into
// the revision after expect; none when the store is not at expect (the
// put then fails on the revision anyway).
func keptReservations(cur cluster.Intent, expect int64) []byte {
	if cur.Revision != expect {
		return nil
	}
	return cur.Reservations
}

// RollbackIntent stores revision rev's content again as a new revision
// (validated again: the pipelines may have changed since).
func RollbackIntent(ctx context.Context, cli *clientv3.Client, cfg Config, rev int64) (int64, error) {
	st := cluster.NewStore(cli)
	old, err := st.Revision(ctx, rev)
	if err != nil {
		return 0, err
	}
	in, cur, err := GetIntent(ctx, cli)
	if err != nil {
		return 0, err
	}
	if err := ValidateIntent(ctx, cfg, old.Policy, old.Topology); err != nil {
		return 0, fmt.Errorf("revision %d no longer compiles: %w", rev, err)
	}
	// The policy and topology go back; the reservations admitted since
	// stay (released with p4qos admit release).
	return st.PutContent(ctx, cluster.Content{Policy: old.Policy, Topology: old.Topology, Reservations: keptReservations(in, cur)}, cur, fmt.Sprintf("rollback to %d", rev))
}
