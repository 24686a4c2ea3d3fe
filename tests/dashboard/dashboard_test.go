// Package dashboard tests the daemon's live web dashboard in a real
// browser: Debian's chromium, headless, driven over the DevTools protocol
// (chromedp). The daemon runs in-process on sims (p4qos demo --ui); the test
// checks what the page shows against the status API, then stops the server
// and checks that the page says it is disconnected.
package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/internal/demo"
)

var updateDocs = flag.Bool("update-screenshot", false, "also write the screenshot to docs/img/dashboard.png")

const rounds = 7

// chromium finds Debian's chromium, or skips the test saying why.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("chromium not found (/usr/bin/chromium or on PATH): apt-get install chromium to run the dashboard's browser test")
	return ""
}

func repoFile(rel string) string { return filepath.Join("..", "..", rel) }

// startDemo runs `p4qos demo --ui=127.0.0.1:0` in-process on the example
// fabric with policy; it returns the dashboard's URL and a function that
// stops the demo (and its server).
func startDemo(t *testing.T, policy string) (url string, stop func()) {
	return startDemoRounds(t, policy, rounds)
}

// startDemoRounds is startDemo with n closed-loop rounds.
func startDemoRounds(t *testing.T, policy string, n int) (url string, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- demo.Run(ctx, &out, demo.Options{
			Topology: repoFile("topo/examples/fabric.yaml"), Policy: policy,
			P4Info: repoFile("p4src/build/qos.p4info.txtpb"), Rounds: n, Interval: 100 * time.Millisecond,
			UI: "127.0.0.1:0", Serving: func(u string) { urls <- u },
		})
	}()
	select {
	case url = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("demo ended before serving: %v\n%s", err, out.String())
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v\n%s", err, out.String())
		}
	}
	t.Cleanup(stop)
	return url, stop
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// page is what the dashboard shows, read from its DOM.
type page struct {
	Conn     string
	Revision string
	Rounds   string
	Ready    string
	Switches map[string]struct{ Stream, Converged, Drift, Errors string }
	Groups   map[string]struct{ Demand, Allocation, Enforced, Bottleneck string }
	Links    map[string]struct{ Util, Down string }
	Areas    map[string]string
	Colors   map[string][]string
	// ChartRounds is how many rounds the chart draws; ConvergedEvents how
	// many switch-converged events the event list shows.
	ChartRounds     string
	ConvergedEvents int
}

const readPage = `(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const p = { Conn: document.getElementById('conn').dataset.state, Revision: document.getElementById('revision').textContent,
    Rounds: document.getElementById('rounds').textContent, Ready: document.getElementById('ready').dataset.ready,
    Switches: {}, Groups: {}, Links: {}, Areas: {}, Colors: {},
    ChartRounds: document.getElementById('alloc-chart').dataset.rounds,
    ConvergedEvents: q('#events li[data-kind="switch-converged"]').length };
  for (const tr of q('#switches tr[data-switch]')) p.Switches[tr.dataset.switch] = {
    Stream: tr.querySelector('.stream').dataset.stream, Converged: tr.querySelector('.converged').dataset.converged,
    Drift: tr.querySelector('.drift').dataset.value, Errors: tr.querySelector('.errors').dataset.value };
  for (const tr of q('#flow-groups tr[data-fg]')) p.Groups[tr.dataset.fg] = {
    Demand: tr.querySelector('.demand').dataset.bps, Allocation: tr.querySelector('.allocation').dataset.bps,
    Enforced: tr.querySelector('.enforced').dataset.bps, Bottleneck: tr.querySelector('.bottleneck').textContent };
  for (const l of q('#topology line.link')) p.Links[l.dataset.link] = { Util: l.dataset.util, Down: l.dataset.down };
  for (const a of q('#alloc-chart polygon.area')) p.Areas[a.dataset.fg] = a.dataset.bps;
  for (const c of q('#colors .class-colors')) p.Colors[c.dataset.class] = [...c.querySelectorAll('.bar div')].map((d) => d.dataset.share);
  return p;
})()`

func num(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("not a number in the DOM: %q", s)
	}
	return v
}

func TestDashboard(t *testing.T) {
	browser := chromium(t)
	url, stop := startDemo(t, repoFile("topo/examples/fabric-policy.yaml"))
	base := strings.TrimSuffix(url, "ui/")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1250))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// The demo's rounds (and the baseline sample) are done, the stream is
	// live, and the topology and chart have drawn.
	want := fmt.Sprint(rounds + 1)
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById('rounds').textContent === '`+want+`' &&
			document.getElementById('conn').dataset.state === 'live' &&
			document.querySelectorAll('#topology line.link').length > 0 &&
			document.querySelectorAll('#alloc-chart polygon.area').length > 0 &&
			document.querySelectorAll('#colors .class-colors').length > 0`, chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		t.Fatalf("dashboard did not render %s rounds: %v", want, err)
	}
	p, err := chromedp.Run(bctx, chromedp.Evaluate[page](readPage))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	var st statusapi.Status
	getJSON(t, base+"api/v1/status", &st)
	var alloc struct {
		Allocation statusapi.Allocation
		Classes    []statusapi.ClassShare
	}
	getJSON(t, base+"api/v1/allocation", &alloc)
	checkPage(t, p, st, alloc.Allocation, alloc.Classes)
	saveScreenshot(t, shot)

	// The server goes away: the page must say so.
	stop()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById('conn').dataset.state === 'disconnected' &&
			document.body.classList.contains('disconnected')`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("no disconnected state after the server stopped: %v", err)
	}
	conn, err := chromedp.Run(bctx, chromedp.Text("#conn"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(conn, "disconnected") {
		t.Errorf("connection badge %q, want it to say disconnected", conn)
	}

	// A server is back on the same address: the page reconnects by itself
	// and shows what the new one says.
	lis, err := net.Listen("tcp", strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/"))
	if err != nil {
		t.Fatalf("listen again on the dashboard's address: %v", err)
	}
	api := statusapi.New(fixed{statusapi.Status{IntentRevision: 42, Ready: true}})
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(api.Close)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Shutdown(context.Background())
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById('conn').dataset.state === 'live' &&
			document.getElementById('revision').textContent === '42'`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the page did not reconnect to the server back on its address: %v", err)
	}
}

// fixed is a status API source that always says the same.
type fixed struct{ st statusapi.Status }

func (f fixed) Status() statusapi.Status { return f.st }

func checkPage(t *testing.T, p page, st statusapi.Status, a statusapi.Allocation, classes []statusapi.ClassShare) {
	t.Helper()
	if p.Conn != "live" || p.Revision != fmt.Sprint(st.IntentRevision) || p.Rounds != fmt.Sprint(a.Rounds) || p.Ready != "true" || !st.Ready {
		t.Errorf("header: page %+v, API revision %d rounds %d ready %v", p, st.IntentRevision, a.Rounds, st.Ready)
	}
	if len(p.Switches) != len(st.Switches) {
		t.Errorf("page shows %d switches, API %d", len(p.Switches), len(st.Switches))
	}
	for _, sw := range st.Switches {
		got := p.Switches[sw.Name]
		if got.Stream != sw.Stream || got.Converged != fmt.Sprint(sw.Converged) || got.Drift != fmt.Sprint(sw.DriftRepaired) || got.Errors != fmt.Sprint(sw.ReconcileErrors) {
			t.Errorf("switch %s: page %+v, API %+v", sw.Name, got, sw)
		}
	}
	if p.ChartRounds != fmt.Sprint(len(a.History)) || len(a.History) < 2 {
		t.Errorf("chart draws %s rounds, API history has %d (want at least 2)", p.ChartRounds, len(a.History))
	}
	if p.ConvergedEvents < len(st.Switches) {
		t.Errorf("event list shows %d switch-converged events, want one per switch (%d) at least", p.ConvergedEvents, len(st.Switches))
	}
	if len(p.Groups) != len(a.FlowGroups) || len(p.Areas) != len(a.FlowGroups) {
		t.Errorf("page shows %d flow groups and %d chart areas, API %d", len(p.Groups), len(p.Areas), len(a.FlowGroups))
	}
	for _, fg := range a.FlowGroups {
		got := p.Groups[fg.Name]
		if num(t, got.Demand) != fg.Demand || num(t, got.Allocation) != fg.Allocation || num(t, got.Enforced) != fg.Enforced ||
			got.Bottleneck != or(fg.Bottleneck, "-") || num(t, p.Areas[fg.Name]) != fg.Allocation {
			t.Errorf("flow group %s: page %+v (chart %s), API %+v", fg.Name, got, p.Areas[fg.Name], fg)
		}
		if fg.Allocation <= 0 {
			t.Errorf("flow group %s: no allocation after %d rounds", fg.Name, a.Rounds)
		}
	}
	util := map[string]float64{}
	busy := 0
	for _, l := range a.Links {
		k := l.A + "|" + l.B
		if l.B < l.A {
			k = l.B + "|" + l.A
		}
		if l.Capacity > 0 {
			util[k] = math.Max(util[k], l.Load/l.Capacity)
		}
	}
	for k, u := range util {
		got, ok := p.Links[k]
		if !ok || math.Abs(num(t, got.Util)-u) > 1e-12 {
			t.Errorf("link %s: page %+v, API utilisation %v", k, got, u)
		}
		if u > 0 {
			busy++
		}
	}
	if busy == 0 {
		t.Error("no link carries traffic after the demo's rounds")
	}
	if len(p.Colors) != len(classes) {
		t.Errorf("page shows colours of %d classes, API %d", len(p.Colors), len(classes))
	}
	for _, c := range classes {
		sum := float64(c.Green + c.Yellow + c.Red)
		shares := p.Colors[c.Class]
		if len(shares) != 3 || sum == 0 {
			t.Errorf("class %s: page shares %v, API %+v", c.Class, shares, c)
			continue
		}
		for i, n := range []uint64{c.Green, c.Yellow, c.Red} {
			if math.Abs(num(t, shares[i])-float64(n)/sum) > 1e-12 {
				t.Errorf("class %s colour %d: page share %s, API %d of %v", c.Class, i, shares[i], n, sum)
			}
		}
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dashboard.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	// t.TempDir is removed after the test: keep a copy where it can be seen.
	keep := filepath.Join(os.TempDir(), fmt.Sprintf("p4qos-dashboard-%d.png", os.Getpid()))
	if err := os.WriteFile(keep, png, 0o644); err == nil {
		path = keep
	}
	t.Logf("dashboard screenshot: %s", path)
	if *updateDocs {
		if err := os.WriteFile(repoFile("docs/img/dashboard.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("also written to docs/img/dashboard.png")
	}
}
