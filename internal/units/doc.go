// Package units parses and formats the bit rates and byte sizes that appear
// in policies, topologies and allocation problems.
//
// Rates are bits per second and use decimal SI prefixes, as link speeds do:
// "10Mbps" = 10,000,000 bit/s; bps, Kbps, Mbps, Gbps and Tbps are accepted
// (case-insensitive prefix, optional space, "bit/s" spelling too). A bare
// number is bits per second.
//
// Sizes are bytes: B, KB (1000), MB, GB use decimal prefixes; KiB (1024), MiB,
// GiB use binary ones. A bare number is bytes.
package units
