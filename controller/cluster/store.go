package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Intent is one revision of the shared intent.
type Intent struct {
	// Revision counts the puts: 1 for the first intent, then +1 each.
	Revision int64  `json:"revision"`
	Policy   []byte `json:"policy"`
	Topology []byte `json:"topology"`
	// Reservations are the dynamic admission-control reservations
	// admitted through a daemon's API (a reservations: section, the
	// format of the single-process state file; docs/admission.md): intent
	// like the policy, so that every instance, and a new master after a
	// failover, installs them.
	Reservations []byte    `json:"reservations,omitempty"`
	Time         time.Time `json:"time"`
	// Note says where it came from ("put", "seeded from files", "rollback to 3").
	Note string `json:"note,omitempty"`
}

// ErrConflict: the store's revision was not the expected one (a concurrent
// update); nothing was written.
var ErrConflict = errors.New("the intent changed concurrently (revision mismatch); nothing written: read it again and retry")

// ErrNoRevision: rollback to a revision the history does not have.
var ErrNoRevision = errors.New("no such intent revision")

// Store keeps the intent in etcd with its history.
type Store struct{ cli *clientv3.Client }

// NewStore uses cli.
func NewStore(cli *clientv3.Client) *Store { return &Store{cli: cli} }

const currentKey = Prefix + "intent/current"

func historyKey(rev int64) string { return fmt.Sprintf("%sintent/history/%020d", Prefix, rev) }

// Get returns the current intent; ok is false when the store is empty.
func (s *Store) Get(ctx context.Context) (in Intent, ok bool, err error) {
	resp, err := s.cli.Get(ctx, currentKey)
	if err != nil || len(resp.Kvs) == 0 {
		return in, false, err
	}
	err = json.Unmarshal(resp.Kvs[0].Value, &in)
	return in, err == nil, err
}

// Content is what a revision holds besides its bookkeeping.
type Content struct {
	Policy, Topology, Reservations []byte
}

// Put stores policy and topology, with no reservations, as revision
// expect+1, only if the current revision is expect (0: the store is
// empty). The caller validates first.
func (s *Store) Put(ctx context.Context, policy, topology []byte, expect int64, note string) (int64, error) {
	return s.PutContent(ctx, Content{Policy: policy, Topology: topology}, expect, note)
}

// PutContent is Put with the reservations.
func (s *Store) PutContent(ctx context.Context, c Content, expect int64, note string) (int64, error) {
	in := Intent{Revision: expect + 1, Policy: c.Policy, Topology: c.Topology, Reservations: c.Reservations, Time: time.Now().UTC(), Note: note}
	data, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	// The key's etcd version counts its puts since creation: it is the
	// intent revision, so the compare needs no read.
	resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.Version(currentKey), "=", expect)).
		Then(clientv3.OpPut(currentKey, string(data)), clientv3.OpPut(historyKey(in.Revision), string(data))).Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return in.Revision, nil
}

// History returns every revision, oldest first.
func (s *Store) History(ctx context.Context) ([]Intent, error) {
	resp, err := s.cli.Get(ctx, Prefix+"intent/history/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, err
	}
	out := make([]Intent, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var in Intent
		if err := json.Unmarshal(kv.Value, &in); err != nil {
			return nil, fmt.Errorf("%s: %w", kv.Key, err)
		}
		out = append(out, in)
	}
	return out, nil
}

// Revision returns one revision of the history.
func (s *Store) Revision(ctx context.Context, rev int64) (Intent, error) {
	var in Intent
	resp, err := s.cli.Get(ctx, historyKey(rev))
	if err != nil {
		return in, err
	}
	if len(resp.Kvs) == 0 {
		return in, fmt.Errorf("%w: %d", ErrNoRevision, rev)
	}
	err = json.Unmarshal(resp.Kvs[0].Value, &in)
	return in, err
}

// Watch calls f with the current intent and then with every new revision
// until ctx ends. Watch errors (etcd away) are retried.
func (s *Store) Watch(ctx context.Context, f func(Intent)) {
	var last int64
	for ctx.Err() == nil {
		if in, ok, err := s.Get(ctx); err == nil && ok && in.Revision != last {
			last = in.Revision
			f(in)
		}
		wctx, cancel := context.WithCancel(ctx)
		for wr := range s.cli.Watch(clientv3.WithRequireLeader(wctx), currentKey) {
			if wr.Err() != nil {
				break
			}
			for _, ev := range wr.Events {
				var in Intent
				if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &in) == nil && in.Revision != last {
					last = in.Revision
					f(in)
				}
			}
		}
		cancel()
		sleep(ctx, 500*time.Millisecond)
	}
}
