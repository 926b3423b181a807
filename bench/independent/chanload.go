// chanload: an independent load harness for `troupe bench channel`.
//
// It shares no code with the project's Node harness (bench/channel/): Go's
// standard library only. For one platform it serves the API the gateway
// replies through (the paths and JSON of test/fakes/<platform>_platform.ts)
// and sends the webhooks the platform would send, signed as the platform
// signs them:
//
//	telegram  POST /bot<token>/{getMe,sendMessage,editMessageText,sendChatAction,setWebhook,deleteWebhook}
//	          webhook header X-Telegram-Bot-Api-Secret-Token
//	slack     POST /api/{auth.test,chat.postMessage,chat.update} (form or JSON, Bearer token)
//	          webhook headers X-Slack-Request-Timestamp, X-Slack-Signature (v0 HMAC-SHA256)
//	whatsapp  GET /<v>/<phone id>, POST /<v>/<phone id>/messages (Bearer token)
//	          webhook header X-Hub-Signature-256 (HMAC-SHA256 of the raw body)
//
// Closed loop: -conns chats, one message in flight each, for -warmup then
// -duration. Replies in a chat arrive in order, so the k-th completed reply
// (its text equal to -expect: the first post, or the edit that completes a
// streamed reply) answers the k-th webhook sent to that chat:
//
//	chat c:  sent = [t0, t1, …]   reply complete ──► latency = now - sent[done++]
//	lost       = webhooks answered 200 whose reply never completed by the end of -drain
//	duplicated = new messages (posts) beyond one per webhook
//
// Protocol on stdout, one JSON object a line: {"event":"listening","port":P}
// once the API is served; then per leg {"event":"measuring"} when the window
// opens, {"event":"drained"} when the window's replies are in (or the drain
// ran out), and {"event":"result",…}. With -webhook it runs one leg against
// that URL and exits; otherwise it runs one leg per webhook URL read from
// stdin (so the gateway can be started against the port first, and legs of
// other harnesses interleaved on the same gateway) until stdin ends. CPU is
// this process's own (getrusage), from "measuring" to "drained", per reply
// completed.
//
// Build with Debian's Go, no module download:
//
//	apt-get install golang-go
//	GO111MODULE=off go build -o chanload bench/independent/chanload.go
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	platform, token, secret, phone, version, text, expect string
	conns                                                 int
	warmup, duration, drain                               time.Duration
}

// chat is one user's conversation with the bot; its fields are guarded by mu.
type chat struct {
	id       string
	mu       sync.Mutex
	sent     []time.Time
	measured []bool
	done     int
	posts    int
	samples  []time.Duration
	wake     chan struct{}
}

// leg is one run of the load (warm-up, window, drain) with its own chats and counts.
type leg struct {
	chats       map[string]*chat
	order       []*chat
	measuring   atomic.Bool
	windowEnd   atomic.Int64 // unix ns; replies after it are not in the window
	completed   atomic.Int64
	inWindow    atomic.Int64
	duplicated  atomic.Int64
	rejected    atomic.Int64
	sentInWin   atomic.Int64
	outstanding atomic.Int64 // webhooks accepted and not yet answered
	allDone     chan struct{}
}

// harness serves the platform's API for as long as it runs, and runs legs one after another.
type harness struct {
	o        options
	cur      atomic.Pointer[leg]
	nextID   atomic.Int64 // event ids stay unique across legs: the gateway deduplicates by them
	messages *messageStore
	out      *json.Encoder
	outMu    sync.Mutex
}

func newLeg(o options) *leg {
	l := &leg{chats: map[string]*chat{}, allDone: make(chan struct{}, 1)}
	for i := 0; i < o.conns; i++ {
		c := &chat{id: chatID(o.platform, i), wake: make(chan struct{}, 1)}
		l.chats[c.id] = c
		l.order = append(l.order, c)
	}
	return l
}

func main() {
	var o options
	var listen, webhook string
	flag.StringVar(&o.platform, "platform", "telegram", "telegram | slack | whatsapp")
	flag.StringVar(&o.token, "token", "", "the bot's token the API must see (Telegram token, Slack bot token, WhatsApp access token)")
	flag.StringVar(&o.secret, "secret", "", "what webhooks are signed with (Telegram webhook secret, Slack signing secret, WhatsApp app secret)")
	flag.StringVar(&o.phone, "phone", "", "WhatsApp phone number id")
	flag.StringVar(&o.version, "graph-version", "v21.0", "WhatsApp Graph API version")
	flag.StringVar(&o.text, "text", "how is the weather", "what every user writes")
	flag.StringVar(&o.expect, "expect", "", "the bot's whole reply to -text (a reply is complete when its text is this)")
	flag.IntVar(&o.conns, "conns", 50, "chats, one message in flight each")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before the window, not counted")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured window")
	flag.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait for a reply before counting it lost")
	flag.StringVar(&listen, "listen", "127.0.0.1:0", "where to serve the platform's API (loopback)")
	flag.StringVar(&webhook, "webhook", "", "the gateway's webhook URL (default: read a line from stdin)")
	flag.Parse()
	if o.platform != "telegram" && o.platform != "slack" && o.platform != "whatsapp" {
		fail("-platform must be telegram, slack or whatsapp")
	}
	if o.token == "" || o.secret == "" || o.expect == "" || (o.platform == "whatsapp" && o.phone == "") {
		fail("-token, -secret and -expect are required (and -phone for whatsapp)")
	}
	if o.conns < 1 {
		fail("-conns must be positive")
	}
	h := &harness{o: o, messages: newMessageStore(1 << 16), out: json.NewEncoder(os.Stdout)}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fail("listen: " + err.Error())
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); host != "127.0.0.1" && host != "::1" {
		fail("-listen must be a loopback address")
	}
	go func() { _ = http.Serve(ln, http.HandlerFunc(h.serveAPI)) }()
	h.emit(map[string]any{"event": "listening", "port": ln.Addr().(*net.TCPAddr).Port})

	if webhook != "" {
		h.emit(h.run(checkWebhook(webhook)))
		return
	}
	// One leg per line; the API stays up between legs, so the gateway keeps its connections.
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		if line := strings.TrimSpace(lines.Text()); line != "" {
			h.emit(h.run(checkWebhook(line)))
		}
	}
}

func checkWebhook(webhook string) string {
	u, err := url.Parse(webhook)
	if err != nil || u.Hostname() != "127.0.0.1" {
		fail("the webhook URL must be http://127.0.0.1:…")
	}
	return webhook
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "chanload: "+msg)
	os.Exit(2)
}

func (h *harness) emit(v any) {
	h.outMu.Lock()
	defer h.outMu.Unlock()
	_ = h.out.Encode(v)
}

func chatID(platform string, i int) string {
	if platform == "slack" {
		return fmt.Sprintf("D%08d", i)
	}
	return strconv.Itoa(15_550_100_000 + i)
}

// ---- the load: closed loop over the chats ----

func (h *harness) run(webhook string) map[string]any {
	l := newLeg(h.o)
	h.cur.Store(l)
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: h.o.conns, MaxIdleConnsPerHost: h.o.conns, DisableCompression: true, IdleConnTimeout: time.Minute,
	}, Timeout: h.o.drain}
	start := time.Now()
	stopAt := start.Add(h.o.warmup + h.o.duration)
	l.windowEnd.Store(stopAt.UnixNano())
	var measureStart time.Time
	var cpuStart time.Duration
	opened := make(chan struct{})
	open := func() {
		measureStart = time.Now()
		cpuStart = ownCPU()
		l.measuring.Store(true)
		h.emit(map[string]any{"event": "measuring"})
		close(opened)
	}
	if h.o.warmup > 0 {
		go func() {
			time.Sleep(h.o.warmup)
			open()
		}()
	} else {
		open() // before the first webhook, so every one is measured
	}
	var wg sync.WaitGroup
	for _, c := range l.order {
		wg.Add(1)
		go func(c *chat) {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				// A reply that came after its wait ran out must not end the next wait early.
				select {
				case <-c.wake:
				default:
				}
				if !h.send(l, client, webhook, c) {
					continue
				}
				select {
				case <-c.wake:
				case <-time.After(h.o.drain):
				}
			}
		}(c)
	}
	wg.Wait()
	<-opened
	measured := stopAt.Sub(measureStart)
	// Drain: wait for the replies still on their way, bounded. A signal left from a moment
	// mid-run when no reply was outstanding must not end it.
	select {
	case <-l.allDone:
	default:
	}
	if l.outstanding.Load() > 0 {
		select {
		case <-l.allDone:
		case <-time.After(h.o.drain):
		}
	}
	cpu := ownCPU() - cpuStart
	h.emit(map[string]any{"event": "drained"})
	time.Sleep(200 * time.Millisecond) // late duplicates

	var all []time.Duration
	lost := 0
	for _, c := range l.order {
		c.mu.Lock()
		lost += len(c.sent) - c.done
		all = append(all, c.samples...)
		c.mu.Unlock()
	}
	completed := l.completed.Load()
	perMsg := func(d time.Duration) float64 {
		n := completed
		if n < 1 {
			n = 1
		}
		return round3(float64(d.Microseconds()) / 1000 / float64(n))
	}
	return map[string]any{
		"event": "result", "client": "go-chanload", "platform": h.o.platform, "conns": h.o.conns,
		"measuredS": measured.Seconds(), "sent": l.sentInWin.Load(), "rejected": l.rejected.Load(),
		"completed": completed, "lost": lost, "duplicated": l.duplicated.Load(),
		"messagesPerSec": round1(float64(l.inWindow.Load()) / measured.Seconds()),
		"latencyMs":      summarize(all), "cpuMs": round3(float64(cpu.Microseconds()) / 1000), "cpuMsPerMessage": perMsg(cpu),
	}
}

// send posts one signed webhook for a new user message in c; false if the gateway did not accept it.
func (h *harness) send(l *leg, client *http.Client, webhook string, c *chat) bool {
	n := h.nextID.Add(1)
	body, headers := h.webhook(c.id, n)
	measuring := l.measuring.Load()
	c.mu.Lock()
	c.sent = append(c.sent, time.Now())
	c.measured = append(c.measured, measuring)
	c.mu.Unlock()
	l.outstanding.Add(1)
	if measuring {
		l.sentInWin.Add(1)
	}
	req, _ := http.NewRequest(http.MethodPost, webhook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	status := 0
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = res.StatusCode
	}
	if status == http.StatusOK {
		return true
	}
	// Not accepted: forget it, so it is neither waited for nor counted lost.
	c.mu.Lock()
	c.sent = c.sent[:len(c.sent)-1]
	c.measured = c.measured[:len(c.measured)-1]
	c.mu.Unlock()
	l.outstanding.Add(-1)
	if measuring {
		l.sentInWin.Add(-1)
	}
	l.rejected.Add(1)
	return false
}

// webhook is the body and headers the platform would POST for message n from the user of chat id.
func (h *harness) webhook(id string, n int64) ([]byte, map[string]string) {
	now := time.Now()
	text, _ := json.Marshal(h.o.text)
	switch h.o.platform {
	case "telegram":
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"from":{"id":%s,"is_bot":false,"first_name":"Ada","username":"ada"},"chat":{"id":%s,"type":"private","first_name":"Ada"},"date":%d,"text":%s}}`,
			n, n, id, id, now.Unix(), text)
		return []byte(body), map[string]string{"X-Telegram-Bot-Api-Secret-Token": h.o.secret}
	case "slack":
		body := fmt.Sprintf(`{"token":"unused","team_id":"T0001","api_app_id":"A0001","type":"event_callback","event_id":"EvGo%d","event_time":%d,"event":{"type":"message","channel":"%s","user":"U%s","text":%s,"ts":"%d.%06d","channel_type":"im","event_ts":"%d.%06d"}}`,
			n, now.Unix(), id, id[1:], text, now.Unix(), n%1_000_000, now.Unix(), n%1_000_000)
		ts := strconv.FormatInt(now.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(h.o.secret))
		mac.Write([]byte("v0:" + ts + ":"))
		mac.Write([]byte(body))
		return []byte(body), map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + hex.EncodeToString(mac.Sum(nil))}
	default: // whatsapp
		body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"WABA-1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Tester"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.go.%d","timestamp":"%d","type":"text","text":{"body":%s}}]}}]}]}`,
			h.o.phone, id, id, n, now.Unix(), text)
		mac := hmac.New(sha256.New, []byte(h.o.secret))
		mac.Write([]byte(body))
		return []byte(body), map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
	}
}

// reply is called for every message the bot posts and every edit: it times the reply that completes a webhook.
func (h *harness) reply(chatID, text string, post bool) {
	l := h.cur.Load()
	if l == nil {
		return
	}
	c := l.chats[chatID]
	if c == nil {
		return
	}
	c.mu.Lock()
	if post {
		c.posts++
		if c.posts > len(c.sent) {
			l.duplicated.Add(1)
		}
	}
	if strings.TrimSpace(text) != h.o.expect || c.done >= len(c.sent) {
		c.mu.Unlock()
		return
	}
	i := c.done
	c.done++
	if c.measured[i] {
		now := time.Now()
		c.samples = append(c.samples, now.Sub(c.sent[i]))
		l.completed.Add(1)
		if now.UnixNano() <= l.windowEnd.Load() {
			l.inWindow.Add(1)
		}
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if l.outstanding.Add(-1) == 0 {
		select {
		case l.allDone <- struct{}{}:
		default:
		}
	}
}

// ---- the platform's API ----

// messageStore remembers the bot's last `size` messages (chat and text) for edits.
type messageStore struct {
	mu   sync.Mutex
	byID map[string]*sentMessage
	ring []string
	next int
	seq  int64
}

type sentMessage struct{ chat, text string }

func newMessageStore(size int) *messageStore {
	return &messageStore{byID: map[string]*sentMessage{}, ring: make([]string, size)}
}

// add stores a new message under an id made by `id` from a fresh sequence number.
func (s *messageStore) add(chat, text string, id func(int64) string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	key := id(s.seq)
	if old := s.ring[s.next]; old != "" {
		delete(s.byID, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % len(s.ring)
	s.byID[key] = &sentMessage{chat: chat, text: text}
	return key
}

// edit changes a message's text: found is false for an unknown id or another chat, same when the text is unchanged.
func (s *messageStore) edit(id, chat, text string) (found, same bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byID[id]
	if m == nil || m.chat != chat {
		return false, false
	}
	if m.text == text {
		return true, true
	}
	m.text = text
	return true, false
}

// params reads a call's parameters: a JSON object (grammY, fetch) or a form (Slack's WebClient).
func params(r *http.Request) map[string]string {
	out := map[string]string{}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil || len(raw) == 0 {
		return out
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ := url.ParseQuery(string(raw))
		for k := range form {
			out[k] = form.Get(k)
		}
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return out
	}
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v) // numbers and objects keep their JSON text
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (h *harness) serveAPI(w http.ResponseWriter, r *http.Request) {
	switch h.o.platform {
	case "telegram":
		h.serveTelegram(w, r)
	case "slack":
		h.serveSlack(w, r)
	default:
		h.serveWhatsApp(w, r)
	}
}

func (h *harness) serveTelegram(w http.ResponseWriter, r *http.Request) {
	token, method, found := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !strings.HasPrefix(r.URL.Path, "/bot") || !found {
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	if token != h.o.token {
		writeJSON(w, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	p := params(r)
	switch method {
	case "getMe":
		writeJSON(w, 200, `{"ok":true,"result":{"id":777000,"is_bot":true,"first_name":"Troupe","username":"troupe_bench_bot"}}`)
	case "sendMessage":
		chat, text := p["chat_id"], p["text"]
		id := h.messages.add(chat, text, func(n int64) string { return strconv.FormatInt(n, 10) })
		h.reply(chat, text, true)
		writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"result":{"message_id":%s,"date":1700000000,"chat":{"id":%s,"type":"private"},"text":%s}}`, id, chat, quote(text)))
	case "editMessageText":
		chat, id, text := p["chat_id"], p["message_id"], p["text"]
		found, same := h.messages.edit(id, chat, text)
		switch {
		case !found:
			writeJSON(w, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message to edit not found"}`)
		case same:
			writeJSON(w, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}`)
		default:
			h.reply(chat, text, false)
			writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"result":{"message_id":%s,"text":%s}}`, id, quote(text)))
		}
	case "sendChatAction", "setWebhook", "deleteWebhook":
		writeJSON(w, 200, `{"ok":true,"result":true}`)
	default:
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
	}
}

func (h *harness) serveSlack(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if method == r.URL.Path {
		writeJSON(w, 404, `{"ok":false,"error":"not_found"}`)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+h.o.token {
		writeJSON(w, 200, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	p := params(r)
	switch method {
	case "auth.test":
		writeJSON(w, 200, `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"troupe","team_id":"T0001","user_id":"UBOT0001","bot_id":"B0001"}`)
	case "chat.postMessage":
		chat, text := p["channel"], p["text"]
		ts := h.messages.add(chat, text, func(n int64) string { return fmt.Sprintf("1700000000.%06d", n%1_000_000) })
		h.reply(chat, text, true)
		writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"channel":%s,"ts":"%s","message":{"text":%s,"ts":"%s"}}`, quote(chat), ts, quote(text), ts))
	case "chat.update":
		chat, ts, text := p["channel"], p["ts"], p["text"]
		if found, _ := h.messages.edit(ts, chat, text); !found {
			writeJSON(w, 200, `{"ok":false,"error":"message_not_found"}`)
			return
		}
		h.reply(chat, text, false)
		writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"channel":%s,"ts":%s,"text":%s}`, quote(chat), quote(ts), quote(text)))
	default:
		writeJSON(w, 200, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (h *harness) serveWhatsApp(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+h.o.token {
		writeJSON(w, 401, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"go"}}`)
		return
	}
	base := "/" + h.o.version + "/" + h.o.phone
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base:
		writeJSON(w, 200, fmt.Sprintf(`{"id":%s,"display_phone_number":"15550001111"}`, quote(h.o.phone)))
	case r.Method == http.MethodPost && r.URL.Path == base+"/messages":
		var b struct {
			Product string `json:"messaging_product"`
			To      string `json:"to"`
			Type    string `json:"type"`
			Text    struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if json.Unmarshal(raw, &b) != nil || b.Product != "whatsapp" || b.Type != "text" || b.To == "" || b.Text.Body == "" {
			writeJSON(w, 400, `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"go"}}`)
			return
		}
		id := h.messages.add(b.To, b.Text.Body, func(n int64) string { return "wamid.out." + strconv.FormatInt(n, 10) })
		h.reply(b.To, b.Text.Body, true)
		writeJSON(w, 200, fmt.Sprintf(`{"messaging_product":"whatsapp","contacts":[{"input":%s,"wa_id":%s}],"messages":[{"id":"%s"}]}`, quote(b.To), quote(b.To), id))
	default:
		writeJSON(w, 404, `{"error":{"message":"Unknown path","type":"OAuthException","code":803,"fbtrace_id":"go"}}`)
	}
}

// ---- figures ----

func ownCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func summarize(all []time.Duration) map[string]any {
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	ms := func(d time.Duration) float64 { return round3(float64(d.Microseconds()) / 1000) }
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return ms(all[int(float64(len(all)-1)*p)])
	}
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	mean := 0.0
	if len(all) > 0 {
		mean = ms(sum / time.Duration(len(all)))
	}
	return map[string]any{
		"count": len(all), "min": pct(0), "mean": mean, "p50": pct(0.5), "p90": pct(0.9),
		"p99": pct(0.99), "p999": pct(0.999), "max": pct(1),
	}
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
