// Package cluster runs p4qos controllers as a cluster on etcd
// (docs/controller.md, "Cluster"):
//
//   - Connect opens an etcd client from a `cluster` setting
//     (etcd://host:port,... or etcds:// for TLS);
//   - Mastership gives every switch its own master, with leases
//     (clientv3/concurrency sessions): live instances hold at most
//     ⌈switches/instances⌉ switches each, and a join or a leave moves only
//     the switches above that share. The master's P4Runtime election id is
//     {high: 1, low: the creation revision of its mastership key}, so a newer
//     master always outranks an older one on the switch, and an instance that
//     lost its lease without noticing finds its writes refused
//     (PERMISSION_DENIED); non-masters keep a backup stream with
//     {high: 0, low: the creation revision of their member key};
//   - Store keeps the intent (policy, topology and the reservations
//     admitted through the API) with revisions:
//     compare-and-swap puts, history, rollback, and a watch that every
//     instance follows.
//
// Keys live under Prefix: members/<instance>, masters/<switch>,
// intent/current and intent/history/<revision>.
package cluster
