// Package units parses and formats the bit rates and byte sizes that appear
// in policies, topologies, allocation problems, sim flow files and flags.
// Every such input goes through ParseBitrate or ParseBytes, so one spelling
// means the same thing everywhere.
//
// Units are case-sensitive, because case is what tells bits from bytes:
// b is a bit and B a byte, as in SI and IEC usage. A case-insensitive reader
// turns "10MBps" (megabytes/s) into 10 Mbit/s, 8× too little, and no later
// check can notice. Spellings that only differ in case from accepted ones
// ("mbps", "MBPS", "kb") are refused with a hint naming the readings.
//
// Rates (result in bit/s; decimal prefixes k or K = 10³, M, G, T):
//
//	bps  Kbps kbps Mbps Gbps Tbps          bits/s
//	b/s  Kb/s kb/s Mb/s Gb/s Tb/s          bits/s
//	bit/s Kbit/s Mbit/s Gbit/s Tbit/s      bits/s
//	bit  kbit mbit gbit tbit               bits/s (tc's spelling)
//	Bps  KBps kBps MBps GBps TBps          bytes/s, ×8
//	B/s  KB/s kB/s MB/s GB/s TB/s          bytes/s, ×8
//
// Lowercase "kbps" is accepted as kilobits/s because k is the SI kilo and
// that is how kbps is used for link and codec rates; note that tc reads its
// kbps as kilobytes/s. Lowercase m, g and t mean nothing sensible before
// "bps" (milli? mega?), so "mbps" is refused: tc reads it as megabytes/s, most
// people as megabits/s. Spellings with the word "bit" cannot be mistaken for
// bytes and are read case-insensitively, as tc does ("10mbit", "10MBIT").
// A bare number is bits/s.
//
// Sizes (result in bytes; decimal K or k, M, G, T; binary Ki, Mi, Gi, Ti):
//
//	B  KB kB MB GB TB  KiB MiB GiB TiB     bytes
//	b  Kb Mb Gb Tb     Kib Mib Gib Tib     bits, ÷8
//	bit kbit mbit gbit tbit                bits, ÷8 (tc's spelling)
//
// A size must come to a whole number of bytes ("12b" is refused). "kb", "mb"
// and "gb" are refused: by SI they are bits, but they are widely written for
// bytes. A bare number is bytes.
package units
