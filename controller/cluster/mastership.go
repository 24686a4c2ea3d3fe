package cluster

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/p4qos/p4qos/controlplane"
)

// DefaultLeaseTTL is how long an instance's lease outlives its last
// keepalive: the time a dead master keeps its switches, and the time a
// master cut off from etcd keeps writing before it steps down.
const DefaultLeaseTTL = 5 * time.Second

// ChangeKind says what changed.
type ChangeKind string

// Change kinds.
const (
	// Acquired: this instance became the switch's master (ElectionID is its
	// fencing id).
	Acquired ChangeKind = "acquired"
	// Released: this instance is no longer the switch's master (Reason:
	// rebalance, lease lost, taken over, fenced, shutdown); ElectionID is the
	// backup id it now uses.
	Released ChangeKind = "released"
	// Backup: the backup election id of a switch this instance does not
	// master (set at every (re)join).
	Backup ChangeKind = "backup"
	// Joined: this instance registered with a new lease.
	Joined ChangeKind = "joined"
	// Unreachable: etcd could not be reached (Err); the instance masters
	// nothing until it is back.
	Unreachable ChangeKind = "unreachable"
)

// Change is reported to the Mastership's callback, synchronously: the
// callback applies the election id before the mastership goes on (so a
// released switch is never written after its key is deleted).
type Change struct {
	Kind       ChangeKind
	Switch     string
	ElectionID controlplane.ElectionID
	Reason     string
	Err        error
}

// MasterID is the fencing election id of a master whose key was created at
// revision rev.
func MasterID(rev int64) controlplane.ElectionID {
	return controlplane.ElectionID{High: 1, Low: uint64(rev)}
}

// BackupID is the backup election id of an instance whose member key was
// created at revision rev: unique among live instances, below every master.
func BackupID(rev int64) controlplane.ElectionID { return controlplane.ElectionID{Low: uint64(rev)} }

// Mastership is one instance's part of the per-switch elections.
type Mastership struct {
	cli      *clientv3.Client
	id       string
	switches []string
	ttl      time.Duration
	onChange func(Change)
	log      *slog.Logger
	kick     chan struct{}

	mu     sync.Mutex
	owned  map[string]int64 // switch → creation revision of our key
	backup controlplane.ElectionID
	stats  Stats
}

// Stats count mastership moves of this instance.
type Stats struct {
	Acquired, Released int
}

// MastershipOption configures a Mastership.
type MastershipOption func(*Mastership)

// WithLeaseTTL sets the lease TTL (default DefaultLeaseTTL; etcd rounds to
// whole seconds, at least 1).
func WithLeaseTTL(d time.Duration) MastershipOption { return func(m *Mastership) { m.ttl = d } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) MastershipOption { return func(m *Mastership) { m.log = l } }

// NewMastership takes part in the elections of switches as instance id.
// onChange is called for every change, from the Mastership's goroutine.
func NewMastership(cli *clientv3.Client, id string, switches []string, onChange func(Change), opts ...MastershipOption) *Mastership {
	m := &Mastership{cli: cli, id: id, switches: append([]string(nil), switches...), ttl: DefaultLeaseTTL,
		onChange: onChange, owned: map[string]int64{}, kick: make(chan struct{}, 1)}
	for _, o := range opts {
		o(m)
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sort.Strings(m.switches)
	return m
}

func memberKey(id string) string     { return Prefix + "members/" + id }
func masterKey(sw string) string     { return Prefix + "masters/" + sw }
func ttlSeconds(d time.Duration) int { return max(int((d+time.Second-1)/time.Second), 1) }

// Owned returns the switches this instance masters with their fencing ids.
func (m *Mastership) Owned() map[string]controlplane.ElectionID {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]controlplane.ElectionID{}
	for sw, rev := range m.owned {
		out[sw] = MasterID(rev)
	}
	return out
}

// ownedRevs copies the owned switches with their key revisions.
func (m *Mastership) ownedRevs() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.owned))
	for sw, rev := range m.owned {
		out[sw] = rev
	}
	return out
}

// Stats returns the moves so far.
func (m *Mastership) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Kick makes the mastership look at etcd again now.
func (m *Mastership) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// StepDown gives a switch up at once (the switch refused a write: another
// master took over). The key is deleted if it is still ours.
func (m *Mastership) StepDown(ctx context.Context, sw, reason string) {
	m.mu.Lock()
	rev, ok := m.owned[sw]
	m.mu.Unlock()
	if !ok {
		return
	}
	m.release(ctx, sw, rev, reason)
	m.Kick()
}

// Run takes part in the elections until ctx ends. While etcd is
// unreachable it retries; a lost lease gives every switch up.
func (m *Mastership) Run(ctx context.Context) error {
	var lastErr string
	for ctx.Err() == nil {
		sess, err := m.newSession(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if err.Error() != lastErr {
				m.log.Warn("etcd unreachable; mastering nothing until it is back", "err", err)
				m.onChange(Change{Kind: Unreachable, Err: err})
				lastErr = err.Error()
			}
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		lastErr = ""
		err = m.term(ctx, sess)
		if ctx.Err() != nil {
			m.releaseAll(ctx, "shutdown", true)
			// A clean shutdown revokes the lease: the others take over at once.
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = m.cli.Revoke(cctx, sess.Lease())
			cancel()
			break
		}
		// The keys went with the lease: step down locally only.
		m.releaseAll(ctx, "lease lost", false)
		sess.Orphan()
		m.log.Warn("etcd lease lost; stepped down from every switch", "err", err)
		m.onChange(Change{Kind: Unreachable, Err: fmt.Errorf("lease lost: %v", err)})
	}
	return nil
}

// newSession grants a lease within a bounded time (etcd may be down) and
// keeps it alive for ctx.
func (m *Mastership) newSession(ctx context.Context) (*concurrency.Session, error) {
	gctx, cancel := ctxTimeout(ctx, m.ttl+2*time.Second)
	defer cancel()
	g, err := m.cli.Grant(gctx, int64(ttlSeconds(m.ttl)))
	if err != nil {
		return nil, err
	}
	return concurrency.NewSession(m.cli, concurrency.WithLease(g.ID), concurrency.WithContext(ctx))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// term is one lease's life: register, then balance on every change.
func (m *Mastership) term(ctx context.Context, sess *concurrency.Session) error {
	lease := sess.Lease()
	pctx, cancel := ctxTimeout(ctx, m.ttl)
	resp, err := m.cli.Put(pctx, memberKey(m.id), m.id, clientv3.WithLease(lease))
	cancel()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.backup = BackupID(resp.Header.Revision)
	m.mu.Unlock()
	for _, sw := range m.switches {
		m.onChange(Change{Kind: Backup, Switch: sw, ElectionID: m.backup})
	}
	m.log.Info("joined the cluster", "instance", m.id, "lease", fmt.Sprintf("%x", lease), "backup_election_id", m.backup.String())
	m.onChange(Change{Kind: Joined, ElectionID: m.backup})
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	watch := m.cli.Watch(clientv3.WithRequireLeader(wctx), Prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := m.balance(ctx, lease); err != nil && ctx.Err() == nil {
			m.log.Debug("balance failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sess.Done():
			return fmt.Errorf("lease %x expired or revoked", lease)
		case _, ok := <-watch:
			if !ok {
				watch = m.cli.Watch(clientv3.WithRequireLeader(wctx), Prefix, clientv3.WithPrefix())
			}
		case <-tick.C:
		case <-m.kick:
		}
	}
}

type owner struct {
	id  string
	rev int64
}

// balance reads the members and masters and acquires or releases switches
// so that this instance holds its share: at most ⌈switches/members⌉.
func (m *Mastership) balance(ctx context.Context, lease clientv3.LeaseID) error {
	gctx, cancel := ctxTimeout(ctx, m.ttl)
	defer cancel()
	resp, err := m.cli.Get(gctx, Prefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	members := map[string]bool{m.id: true}
	masters := map[string]owner{}
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		switch {
		case strings.HasPrefix(k, Prefix+"members/"):
			members[strings.TrimPrefix(k, Prefix+"members/")] = true
		case strings.HasPrefix(k, Prefix+"masters/"):
			masters[strings.TrimPrefix(k, Prefix+"masters/")] = owner{string(kv.Value), kv.CreateRevision}
		}
	}
	owned := m.ownedRevs()
	for sw, rev := range owned {
		if o := masters[sw]; o.id != m.id || o.rev != rev {
			m.release(ctx, sw, rev, "taken over")
			delete(owned, sw)
		}
	}
	share := (len(m.switches) + len(members) - 1) / len(members)
	if excess := len(owned) - share; excess > 0 {
		mine := make([]string, 0, len(owned))
		for sw := range owned {
			mine = append(mine, sw)
		}
		sort.Slice(mine, func(i, j int) bool { return rank(m.id, mine[i]) > rank(m.id, mine[j]) })
		for _, sw := range mine[:excess] {
			m.release(ctx, sw, owned[sw], "rebalance")
		}
		return nil
	}
	var free []string
	for _, sw := range m.switches {
		if _, taken := masters[sw]; !taken {
			free = append(free, sw)
		}
	}
	// Instances try the free switches in different orders, so that they
	// rarely contend for the same one.
	sort.Slice(free, func(i, j int) bool { return rank(m.id, free[i]) < rank(m.id, free[j]) })
	for _, sw := range free {
		if len(owned) >= share {
			break
		}
		rev, ok, err := m.acquire(gctx, sw, lease)
		if err != nil {
			return err
		}
		if ok {
			owned[sw] = rev
		}
	}
	return nil
}

func rank(id, sw string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id + "\x00" + sw))
	return h.Sum64()
}

// acquire creates the switch's master key if there is none.
func (m *Mastership) acquire(ctx context.Context, sw string, lease clientv3.LeaseID) (int64, bool, error) {
	k := masterKey(sw)
	resp, err := m.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, m.id, clientv3.WithLease(lease))).Commit()
	if err != nil || !resp.Succeeded {
		return 0, false, err
	}
	rev := resp.Header.Revision
	m.mu.Lock()
	m.owned[sw] = rev
	m.stats.Acquired++
	m.mu.Unlock()
	m.log.Info("mastership acquired", "switch", sw, "election_id", MasterID(rev).String())
	m.onChange(Change{Kind: Acquired, Switch: sw, ElectionID: MasterID(rev)})
	return rev, true, nil
}

// release steps down locally first (the session goes back to the backup id
// and writes nothing), then deletes the key if it is still ours.
func (m *Mastership) release(ctx context.Context, sw string, rev int64, reason string) {
	if m.stepDownLocal(sw, rev, reason) {
		m.deleteKey(ctx, sw, rev)
	}
}

// stepDownLocal gives the switch up in this process; false if it was not ours.
func (m *Mastership) stepDownLocal(sw string, rev int64, reason string) bool {
	m.mu.Lock()
	if cur, ok := m.owned[sw]; !ok || cur != rev {
		m.mu.Unlock()
		return false
	}
	delete(m.owned, sw)
	m.stats.Released++
	backup := m.backup
	m.mu.Unlock()
	m.log.Info("mastership released", "switch", sw, "reason", reason)
	m.onChange(Change{Kind: Released, Switch: sw, ElectionID: backup, Reason: reason})
	return true
}

func (m *Mastership) deleteKey(ctx context.Context, sw string, rev int64) {
	k := masterKey(sw)
	dctx, cancel := ctxTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, _ = m.cli.Txn(dctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", rev)).Then(clientv3.OpDelete(k)).Commit()
}

func (m *Mastership) releaseAll(ctx context.Context, reason string, deleteKeys bool) {
	owned := m.ownedRevs()
	for sw, rev := range owned {
		if m.stepDownLocal(sw, rev, reason) && deleteKeys {
			m.deleteKey(ctx, sw, rev)
		}
	}
}
