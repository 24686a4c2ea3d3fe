package bmv2env

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controller"
)

// RunController builds a controller from cfg and runs it until the test
// ends. Its cleanup, registered after the caller's switch was started and
// so run before the switch's, cancels the run while the switch still
// answers, waits up to 30 s for Run to return (an error other than the
// cancellation fails the test) and prints the controller's log when the
// test failed. It returns the controller and the context it runs under.
func RunController(t testing.TB, cfg controller.Config, opts ...controller.Option) (*controller.Controller, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &LockedBuffer{}
	opts = append([]controller.Option{controller.WithLogger(slog.New(slog.NewTextHandler(log, nil)))}, opts...)
	c, err := controller.New(ctx, cfg, opts...)
	if err != nil {
		cancel()
		t.Fatalf("controller.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("controller Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("controller Run did not return within 30 s of its context's end")
		}
		if t.Failed() {
			t.Logf("controller log:\n%s", log.String())
		}
	})
	return c, ctx
}
