// Package topo loads a network topology (switches, hosts, links) from YAML,
// validates it with positioned errors, and answers path questions: every
// equal-cost shortest path between two nodes (ECMP sets), the k shortest
// loop-free paths (for the allocator's preferred mode), the ECMP next hops a
// switch uses towards a host (destination-based routing). It is the input
// model only: it imports nothing of the project (the compiler turns paths
// into an allocator problem).
//
// The file format is documented in docs/topology.md; examples live in
// topo/examples/. Switch router MACs default to 02:00:00:xx:xx:xx, where
// xx:xx:xx are the low 24 bits of the device id, when not given.
//
// Graph model: every link is full duplex and contributes one directed Edge
// per direction, each with the link's capacity; a host contributes the two
// directed edges of its access link. Hosts are always leaves (one
// interface), so no path transits a host. Path cost is the sum of the edges'
// costs (link `cost`, default 1: hop count).
package topo
