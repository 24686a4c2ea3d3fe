//go:build !unix

package compiler

import "time"

func processCPU() time.Duration { return 0 }
