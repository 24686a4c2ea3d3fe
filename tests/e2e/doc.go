// Package e2e holds end-to-end tests that run p4qos against BMv2 switches in
// a Mininet lab. Every test skips, with the reason, unless it runs as root
// on a machine with Mininet (Debian package) and BMv2 simple_switch_grpc.
package e2e
