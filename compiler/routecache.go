package compiler

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// RouteCache keeps, per switch, the route entities (next-hop members,
// groups, IPv4 and IPv6 routes) of the last compile that used it, with
// what they were built from. A later compile given the same cache
// (WithRouteCache) reuses a switch's entities when that input is the same
// — the same next hops (port, peer MAC, weight) towards every host in the
// same order, the same router MAC, hosts, schema, routing mode and
// selector — and builds them otherwise. The routes of a switch are a
// function of exactly that input, so reuse gives what a full compile
// gives; it saves the building, not the next-hop computation.
//
// It is what makes a link change cheap for the controller: at 2,000
// switches a link down changes the next hops of a few switches, and the
// others' 200 routes each were rebuilt for nothing. Safe for concurrent
// use; the zero value is an empty cache.
type RouteCache struct {
	mu      sync.Mutex
	context string
	entries map[string]*cachedRoutes
	reused  int
}

// cachedRoutes is one switch's route entities and their input.
type cachedRoutes struct {
	input                   []byte
	members, groups, v4, v6 []*p4v1.Entity
}

// WithRouteCache makes Compile reuse and refresh the routes in rc.
func WithRouteCache(rc *RouteCache) Option { return func(c *config) { c.routes = rc } }

// Reused is how many switches' routes the last compile using the cache
// took from it (for tests and logs).
func (rc *RouteCache) Reused() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reused
}

// routeContext is what every switch's routes depend on besides its own
// next hops: a compile in another context starts the cache afresh.
func (c *compilation) routeContext() string {
	var b strings.Builder
	// The schema by identity: the controller compiles each target kind's
	// schema with its own names, and the entities carry its ids.
	fmt.Fprintf(&b, "%p %s %d %s %v\n", c.s, c.p.Routing.Mode, c.pl.maxGroupSize, c.pl.selector, c.cfg.watchPorts)
	for _, h := range c.t.Hosts {
		fmt.Fprintf(&b, "%s", h.Name)
		for _, a := range h.Addrs() {
			fmt.Fprintf(&b, " %s", a)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// begin starts a compile's use of the cache: it forgets every entry when
// the context differs from the last compile's.
func (rc *RouteCache) begin(context string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.context != context {
		rc.context, rc.entries = context, map[string]*cachedRoutes{}
	}
	rc.reused = 0
}

// take copies a switch's cached routes into per when their input is
// input, and reports whether it did.
func (rc *RouteCache) take(sw string, input []byte, per *switchEntities) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e := rc.entries[sw]
	if e == nil || string(e.input) != string(input) {
		return false
	}
	per.members = append(per.members, e.members...)
	per.groups = append(per.groups, e.groups...)
	per.v4 = append(per.v4, e.v4...)
	per.v6 = append(per.v6, e.v6...)
	rc.reused++
	return true
}

// put records a switch's routes, the parts of per that routes added
// (from the lengths before them), or forgets the switch (ok false: a
// problem was reported, which reuse would hide).
func (rc *RouteCache) put(sw string, input []byte, per *switchEntities, before [4]int, ok bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !ok {
		delete(rc.entries, sw)
		return
	}
	rc.entries[sw] = &cachedRoutes{input: input,
		members: per.members[before[0]:len(per.members):len(per.members)],
		groups:  per.groups[before[1]:len(per.groups):len(per.groups)],
		v4:      per.v4[before[2]:len(per.v4):len(per.v4)],
		v6:      per.v6[before[3]:len(per.v6):len(per.v6)]}
}

// appendRouteHop appends one next hop of a route (its port, peer MAC and
// weight) to a switch's route input b.
func appendRouteHop(b []byte, nh nextHop, weight int) []byte {
	b = binary.AppendUvarint(b, uint64(nh.port))
	b = append(b, nh.dmac[:]...)
	return binary.AppendUvarint(b, uint64(weight))
}
