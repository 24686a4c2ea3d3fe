//go:build !unix

package writebench

import "time"

// processCPU is not measured here: Cost.CPU stays 0.
func processCPU() time.Duration { return 0 }
