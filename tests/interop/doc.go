// Package interop checks p4qos's embedded P4Runtime target against an
// independent client, github.com/antoninbas/p4runtime-go-client.
//
// It is a separate Go module because that client only builds with
// github.com/p4lang/p4runtime v1.4.0-rc.5 while p4qos uses v1.5.0; two
// versions of the same generated protobuf package cannot share a binary. The
// tests therefore build the main module's p4qos binary and run `p4qos sim` as
// a subprocess on a free loopback port. Run them with
//
//	cd tests/interop && go test ./...
package interop
