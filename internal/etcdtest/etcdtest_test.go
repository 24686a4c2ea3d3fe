package etcdtest

import (
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int
	}{{"single", 1}, {"three", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			c := Start(t, tc.members)
			if got := len(c.Endpoints()); got != tc.members {
				t.Fatalf("endpoints: %d, want %d", got, tc.members)
			}
			c.Members[0].Kill()
			if err := c.Restart(); err != nil {
				t.Fatalf("restart: %v", err)
			}
			for _, m := range c.Members {
				if err := m.WaitHealthy(10 * time.Second); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
