// wsload: an independent WebSocket load client for checking `troupe bench ws`.
//
// It shares no code with the project's Node client: Go, gorilla/websocket,
// one goroutine per connection, closed loop (one request in flight per
// connection). Scenarios: ping (round trip through the session actor), chat
// (chat.send until its chat.final), echo (a reference echo server returns
// the request frame). It prints one JSON object.
//
// Build with Debian's packages only (no module download):
//
//	apt-get install golang-go golang-github-gorilla-websocket-dev
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o wsload bench/independent/wsload.go
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      *bool           `json:"ok"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

type runPayload struct {
	RunID string `json:"runId"`
	Text  string `json:"text"`
}

type result struct {
	Client    string  `json:"client"`
	Scenario  string  `json:"scenario"`
	Conns     int     `json:"conns"`
	Connected int64   `json:"connected"`
	DurationS float64 `json:"durationS"`
	Completed int64   `json:"completed"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"perSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P90Ms     float64 `json:"p90Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
}

// Samples are kept per connection (no lock on the hot path) and bounded.
const maxSamplesPerConn = 200_000

func main() {
	target := flag.String("url", "ws://127.0.0.1:8787/ws", "WebSocket endpoint (127.0.0.1 only)")
	conns := flag.Int("conns", 100, "connections")
	duration := flag.Duration("duration", 10*time.Second, "measured window")
	warmup := flag.Duration("warmup", 2*time.Second, "load before the window, not counted")
	scenario := flag.String("scenario", "ping", "ping | chat | echo")
	token := flag.String("token", os.Getenv("TROUPE_TOKEN"), "JWT sent as ?token=")
	agent := flag.String("agent", "", "agent for chat.send (default: the server's)")
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		fmt.Fprintln(os.Stderr, "wsload: --url must be a loopback ws:// URL")
		os.Exit(2)
	}
	if *scenario != "ping" && *scenario != "chat" && *scenario != "echo" {
		fmt.Fprintln(os.Stderr, "wsload: --scenario must be ping, chat or echo")
		os.Exit(2)
	}
	if *token != "" {
		q := u.Query()
		q.Set("token", *token)
		u.RawQuery = q.Encode()
	}

	agentField := ""
	if *agent != "" {
		name, _ := json.Marshal(*agent)
		agentField = `,"agent":` + string(name)
	}
	var measuring, stopping atomic.Bool
	var connected, completed, errors atomic.Int64
	samples := make([][]time.Duration, *conns)
	var ready, done sync.WaitGroup
	ready.Add(*conns)
	done.Add(*conns)
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}

	for i := 0; i < *conns; i++ {
		go func(i int) {
			defer done.Done()
			c, _, err := dialer.Dial(u.String(), nil)
			if err != nil {
				errors.Add(1)
				ready.Done()
				return
			}
			defer c.Close()
			if *scenario != "echo" {
				if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"req","id":"c","method":"connect","params":{}}`)); err != nil {
					errors.Add(1)
					ready.Done()
					return
				}
				if _, _, err := c.ReadMessage(); err != nil {
					errors.Add(1)
					ready.Done()
					return
				}
			}
			connected.Add(1)
			ready.Done()
			local := make([]time.Duration, 0, 1024)
			defer func() { samples[i] = local }()
			for n := 0; !stopping.Load(); n++ {
				id := strconv.Itoa(n)
				var req string
				if *scenario == "chat" {
					req = `{"type":"req","id":"` + id + `","method":"chat.send","params":{"message":"hello","sessionKey":"wsload-` + strconv.Itoa(i) + `"` + agentField + `}}`
				} else {
					req = `{"type":"req","id":"` + id + `","method":"ping","params":{}}`
				}
				start := time.Now()
				if err := c.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
					errors.Add(1)
					return
				}
				ok, err := await(c, id, *scenario)
				if err != nil {
					errors.Add(1)
					return
				}
				if !measuring.Load() {
					continue
				}
				if !ok {
					errors.Add(1)
					continue
				}
				completed.Add(1)
				if len(local) < maxSamplesPerConn {
					local = append(local, time.Since(start))
				}
			}
		}(i)
	}
	ready.Wait()
	time.Sleep(*warmup)
	measuring.Store(true)
	began := time.Now()
	time.Sleep(*duration)
	measuring.Store(false)
	elapsed := time.Since(began)
	stopping.Store(true)
	waitTimeout(&done, 10*time.Second)

	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		k := int(float64(len(all)-1) * p)
		return float64(all[k].Microseconds()) / 1000
	}
	r := result{
		Client: "go-gorilla", Scenario: *scenario, Conns: *conns, Connected: connected.Load(),
		DurationS: elapsed.Seconds(), Completed: completed.Load(), Errors: errors.Load(),
		PerSecond: float64(completed.Load()) / elapsed.Seconds(),
		P50Ms:     pct(0.50), P90Ms: pct(0.90), P99Ms: pct(0.99), MaxMs: pct(1.0),
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

// await reads frames until the answer to request `id` is complete: the res
// (ping, echo) or the chat.final / chat.error of the run that res named.
func await(c *websocket.Conn, id, scenario string) (bool, error) {
	runID := ""
	// A run's terminal event may overtake the res that names it.
	early := map[string]bool{}
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return false, err
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			return false, nil
		}
		switch {
		case scenario == "echo":
			return f.ID == id, nil
		case f.Type == "res" && f.ID == id:
			if f.OK == nil || !*f.OK {
				return false, nil
			}
			if scenario == "ping" {
				return true, nil
			}
			var p runPayload
			if json.Unmarshal(f.Payload, &p) != nil || p.RunID == "" {
				return false, nil
			}
			runID = p.RunID
			if ok, seen := early[runID]; seen {
				return ok, nil
			}
		case f.Type == "event" && (f.Event == "chat.final" || f.Event == "chat.error"):
			var p runPayload
			if json.Unmarshal(f.Payload, &p) != nil {
				return false, nil
			}
			ok := f.Event == "chat.final" && p.Text != ""
			if runID == "" {
				if len(early) < 64 {
					early[p.RunID] = ok
				}
				continue
			}
			if p.RunID == runID {
				return ok, nil
			}
		}
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
	}
}
