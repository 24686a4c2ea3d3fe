// Package cluster tests `p4qos run --cluster` as processes: three
// controller instances built from cmd/p4qos, eight embedded sim switches
// and a real etcd (internal/etcdtest; the tests skip when etcd is not
// installed). The controllers are killed with SIGKILL and paused with
// SIGSTOP; what the tests check is read from the switches, from etcd and
// from the controllers' metrics, never from their logs.
package cluster
