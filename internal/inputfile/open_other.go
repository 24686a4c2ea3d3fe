//go:build !unix

package inputfile

import "os"

// openNonBlocking opens path read-only; Read has refused anything but a
// regular file before, from its stat.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
