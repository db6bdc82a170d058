package wire

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/blowfish"
)

func codec(t testing.TB, f Framing, cluster, key string, opts ...Option) *Codec {
	t.Helper()
	c, err := NewCodec(f, cluster, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Framing{Authenticated, Legacy} {
		a, b := codec(t, f, "cluster1", "mykey"), codec(t, f, "cluster1", "mykey")
		for _, m := range []string{"ECHO HELLO=yes", "APP_STATUS app=apache lvinfo=yes", "x", strings.Repeat("A", 5000)} {
			fr, err := a.Seal(m)
			if err != nil {
				t.Fatal(err)
			}
			if fr[len(fr)-1] != '\n' || bytes.Count(fr, []byte("\n")) != 1 {
				t.Fatalf("%v: frame is not one line", f)
			}
			got, err := b.Open(fr)
			if err != nil || got != m {
				t.Fatalf("%v: got %q %v", f, got, err)
			}
		}
	}
}

// L7595-7600 exactly: hex, "RandomIV" + IV, Blowfish-448-CBC of
// "<md5hex>,<request>" with PKCS#5 padding, key from the codeword.
func TestLegacyLayoutIsTheReferences(t *testing.T) {
	c := codec(t, Legacy, "ignored", "mykey")
	fr, _ := c.Seal("TIME")
	raw, err := hex.DecodeString(strings.TrimSpace(string(fr)))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:8]) != "RandomIV" {
		t.Fatalf("header %q", raw[:8])
	}
	k := md5.Sum([]byte("mykey"))
	key := k[:]
	for len(key) < 56 {
		n := md5.Sum(key)
		key = append(key, n[:]...)
	}
	b, _ := blowfish.NewCipher(key[:56])
	plain := make([]byte, len(raw)-16)
	cipher.NewCBCDecrypter(b, raw[8:16]).CryptBlocks(plain, raw[16:])
	sum := md5.Sum([]byte("TIME"))
	want := hex.EncodeToString(sum[:]) + ",TIME"
	if string(plain[:len(want)]) != want {
		t.Fatalf("plain %q", plain)
	}
	// The cluster name takes no part in the legacy frame.
	if _, err := codec(t, Legacy, "other", "mykey").Open(fr); err != nil {
		t.Fatal(err)
	}
}

// Pinned frames: a change to either layout breaks interoperability
// between versions, so it must show up here.
func TestGoldenFrames(t *testing.T) {
	zero := bytes.NewReader(make([]byte, 64))
	l := codec(t, Legacy, "", "mykey", WithRand(zero))
	fr, _ := l.Seal("ECHO")
	if got := strings.TrimSpace(string(fr)); got != goldenLegacy {
		t.Errorf("legacy frame\n got %s\nwant %s", got, goldenLegacy)
	}
	a := codec(t, Authenticated, "cluster1", "mykey", WithRand(bytes.NewReader(make([]byte, 64))),
		WithClock(func() time.Time { return time.Unix(1_800_000_000, 0) }))
	fr, _ = a.Seal("ECHO")
	if got := strings.TrimSpace(string(fr)); got != goldenAuth {
		t.Errorf("authenticated frame\n got %s\nwant %s", got, goldenAuth)
	}
}

const (
	goldenLegacy = "52616e646f6d49560000000000000000d9d391ce57652fd49545ae09dd105fa914b61a2bce91c5c0c6267d0c27769c427282053fb600a1cd"
	goldenAuth   = "0318fae27693b4000000000000000000000000000000000000dccd00b52e7ef1257c71ee45d6bc562cd066aa1ee674fb9adf1ccc1d2974d21595262d6d85c62495753597a6a270cfcabc42231f07465a21424ec169a5f607352f102341ae6f6e08d3a06bd56b641bf08975674c3033ab18ad96ae75932a9672"
)

func TestRejections(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	a := codec(t, Authenticated, "cluster1", "mykey", WithClock(clock))
	fr, _ := a.Seal("CHANGE_DSTATE state=UP")
	fresh := func() *Codec { return codec(t, Authenticated, "cluster1", "mykey", WithClock(clock)) }

	// Every single flipped bit of the frame is caught.
	raw, _ := hex.DecodeString(strings.TrimSpace(string(fr)))
	for i := 0; i < len(raw)*8; i++ {
		m := append([]byte(nil), raw...)
		m[i/8] ^= 1 << (i % 8)
		if _, err := fresh().Open([]byte(hex.EncodeToString(m))); err == nil {
			t.Fatalf("flipped bit %d accepted", i)
		}
	}
	if _, err := codec(t, Authenticated, "cluster1", "otherkey", WithClock(clock)).Open(fr); !errors.Is(err, ErrAuth) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := codec(t, Authenticated, "cluster2", "mykey", WithClock(clock)).Open(fr); !errors.Is(err, ErrAuth) {
		t.Fatalf("other cluster: %v", err)
	}
	b := fresh()
	if _, err := b.Open(fr); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(fr); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	later := codec(t, Authenticated, "cluster1", "mykey", WithClock(func() time.Time { return now.Add(16 * time.Minute) }))
	if _, err := later.Open(fr); !errors.Is(err, ErrStale) {
		t.Fatalf("old frame: %v", err)
	}
	// Legacy detects corruption and a wrong key through the MD5.
	l := codec(t, Legacy, "", "mykey")
	lf, _ := l.Seal("TIME")
	if _, err := codec(t, Legacy, "", "otherkey").Open(lf); err == nil {
		t.Fatal("legacy frame opened under another key")
	}
	lraw, _ := hex.DecodeString(strings.TrimSpace(string(lf)))
	lraw[len(lraw)-12] ^= 0x10
	if _, err := l.Open([]byte(hex.EncodeToString(lraw))); err == nil {
		t.Fatal("corrupt legacy frame accepted")
	}
	if _, err := l.Open([]byte("zz\n")); !errors.Is(err, ErrFormat) {
		t.Fatal(err)
	}
	if _, err := l.Seal("two\nlines"); err == nil {
		t.Fatal("newline sealed")
	}
}

func TestParseRequest(t *testing.T) {
	r, err := ParseRequest("app_status APP=apache lvinfo=yes")
	if err != nil || r.Verb != "APP_STATUS" {
		t.Fatal(r, err)
	}
	if v, _ := r.Arg("app"); v != "apache" {
		t.Fatal(r)
	}
	if r.String() != "APP_STATUS app=apache lvinfo=yes" {
		t.Fatal(r.String())
	}
	r, _ = ParseRequest("CMD httpd MAXCOUNT 10")
	if strings.Join(r.Words, " ") != "httpd MAXCOUNT 10" {
		t.Fatal(r)
	}
	if _, err := ParseRequest("   "); err == nil {
		t.Fatal("empty accepted")
	}
}

func startServer(t *testing.T, lim Limits) (addr string, rejects func() []error) {
	t.Helper()
	return serve(t, &Server{
		Codec:   codec(t, Authenticated, "c", "k"),
		Handler: func(_ context.Context, req string, _ net.Addr) string { return "OK " + req },
		Limits:  lim,
	})
}

// serve runs s on a loopback port until the test ends and records what
// it rejected.
func serve(t *testing.T, s *Server) (addr string, rejects func() []error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var rej []error
	s.OnReject = func(_ net.Addr, err error) {
		mu.Lock()
		rej = append(rej, err)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), func() []error { mu.Lock(); defer mu.Unlock(); return append([]error(nil), rej...) }
}

func TestServerCallTriesEachAddress(t *testing.T) {
	addr, _ := startServer(t, Limits{})
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	reply, used, err := Call(context.Background(), codec(t, Authenticated, "c", "k"), "", []string{deadAddr, addr}, "ECHO", time.Second)
	if err != nil || reply != "OK ECHO" || used != addr {
		t.Fatalf("%q %q %v", reply, used, err)
	}
}

// Oversized and slow-drip frames close that connection; others go on.
func TestServerLimits(t *testing.T) {
	addr, rejects := startServer(t, Limits{LineTimeout: 300 * time.Millisecond, FirstTimeout: 300 * time.Millisecond})
	big, _ := net.Dial("tcp", addr)
	defer big.Close()
	go big.Write(bytes.Repeat([]byte("a"), MaxFrame+10))
	slow, _ := net.Dial("tcp", addr)
	defer slow.Close()
	slow.Write([]byte("ab"))
	// A well-behaved client is served meanwhile.
	reply, _, err := Call(context.Background(), codec(t, Authenticated, "c", "k"), "", []string{addr}, "TIME", time.Second)
	if err != nil || reply != "OK TIME" {
		t.Fatalf("%q %v", reply, err)
	}
	for _, c := range []net.Conn{big, slow} {
		// The challenge line comes first, then the close.
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("connection left open: %v", err)
		}
	}
	got := rejects()
	var large, slowSeen bool
	for _, e := range got {
		large = large || errors.Is(e, ErrTooLarge)
		slowSeen = slowSeen || strings.Contains(e.Error(), "not complete")
	}
	if !large || !slowSeen {
		t.Fatalf("rejections: %v", got)
	}
}

func TestServerRejectsForeignFrame(t *testing.T) {
	addr, rejects := startServer(t, Limits{})
	_, _, err := Call(context.Background(), codec(t, Authenticated, "c", "wrong"), "", []string{addr}, "ABORT", time.Second)
	if err == nil {
		t.Fatal("frame under another key answered")
	}
	if r := rejects(); len(r) != 1 || !errors.Is(r[0], ErrAuth) {
		t.Fatalf("%v", r)
	}
}

func FuzzOpen(f *testing.F) {
	for _, fr := range []Framing{Authenticated, Legacy} {
		c := codec(f, fr, "c", "k")
		b, _ := c.Seal("ECHO HELLO=yes")
		f.Add(b, fr == Legacy)
	}
	f.Add([]byte("00"), true)
	f.Fuzz(func(t *testing.T, b []byte, legacy bool) {
		fr := Authenticated
		if legacy {
			fr = Legacy
		}
		c := codec(t, fr, "c", "k")
		msg, err := c.Open(b)
		if err != nil {
			return
		}
		if strings.ContainsAny(msg, "\n") {
			t.Fatal("opened message holds a newline")
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("ECHO HELLO=yes")
	f.Fuzz(func(t *testing.T, m string) {
		c := codec(t, Authenticated, "c", "k")
		fr, err := c.Seal(m)
		if err != nil {
			return
		}
		got, err := c.Open(fr)
		if err != nil || got != m {
			t.Fatalf("%q -> %q %v", m, got, err)
		}
	})
}

func BenchmarkFrames(b *testing.B) {
	for _, f := range []Framing{Authenticated, Legacy} {
		b.Run(f.String(), func(b *testing.B) {
			seal := codec(b, f, "cluster1", "mykey")
			open := codec(b, f, "cluster1", "mykey", WithWindow(time.Hour))
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for b.Loop() {
				fr, _ := seal.Seal("APP_STATUS app=apache lvinfo=yes")
				if _, err := open.Open(fr); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "frames/s")
		})
	}
}
