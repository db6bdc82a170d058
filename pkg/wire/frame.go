// Package wire frames, encrypts and authenticates the one-line requests
// and replies that every linuxha daemon and tool exchange (DESIGN §4,
// Reference §25.4 L7588-7600). It imports none of the project's packages.
//
// Two framings exist. Legacy is the Reference's frame exactly:
//
//	hex( Blowfish-448-CBC( "<md5hex of plain>,<REQUEST arg=val ...>" ) ) "\n"
//
// laid out as Perl's Crypt::CBC 2.x wrote it ("RandomIV" header, 8-byte
// IV, PKCS#5 padding, key = MD5 chain of the codeword). It detects
// corruption but not forgery or replay. Authenticated (the default) keeps
// Blowfish and adds a random IV per message, a timestamp and nonce, an
// envelope (sender, recipient, what it answers, the sender's incarnation)
// and an HMAC-SHA256 over the whole frame under a key separate from the
// cipher key; both keys are derived with HKDF from Global.key and the
// cluster name, so a frame from another cluster, a changed bit, a frame
// seen before and a frame meant for another recipient are all rejected
// (SECURITY.md).
package wire

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/blowfish"
)

// Framing selects the frame format.
type Framing int

const (
	Authenticated Framing = 1 + iota // default: HMAC, freshness, replay protection
	Legacy                           // the Reference's frame (L7592-7600)
)

// FramingOf maps Global.framing ("legacy", else authenticated) to a Framing.
func FramingOf(name string) Framing {
	if name == "legacy" {
		return Legacy
	}
	return Authenticated
}

func (f Framing) String() string {
	switch f {
	case Authenticated:
		return "authenticated"
	case Legacy:
		return "legacy"
	}
	return "unknown"
}

// Errors a frame can be rejected with.
var (
	ErrTooLarge = errors.New("wire: frame too large")
	ErrFormat   = errors.New("wire: malformed frame")
	ErrCorrupt  = errors.New("wire: checksum mismatch")
	ErrAuth     = errors.New("wire: authentication failed")
	ErrReplay   = errors.New("wire: replayed frame")
	ErrStale    = errors.New("wire: frame outside freshness window")
	ErrNotMine  = errors.New("wire: frame addressed to another recipient")
	ErrUnbound  = errors.New("wire: frame not bound to this exchange")
)

// MaxFrame bounds one line on the wire (hex doubles the size).
const MaxFrame = 64 << 10

// DefaultWindow is how far a frame's timestamp may be from the receiver's
// clock. The nodes may legitimately differ by up to 10 minutes before
// forming is refused (L1874), so the window is wider than that.
const DefaultWindow = 15 * time.Minute

const (
	legacyHeader = "RandomIV"
	authVersion  = 0x03
	authHeadLen  = 1 + 8 + 8 + blowfish.BlockSize // version, time, nonce, IV
	macLen       = sha256.Size
)

// Envelope binds an authenticated frame to its exchange. Legacy frames
// have none (every field empty).
type Envelope struct {
	From string // "node/service" of the sender (Svc)
	To   string // "node/service" the frame is meant for; "" = any
	// Re ties the frame to what came before: in a request, the challenge
	// the server sent on this connection; in a reply, the request's ID;
	// in a heartbeat, the receiver's incarnation as the sender last
	// learned it.
	Re  string
	ID  string // this frame's nonce (hex), set by Seal
	Inc string // the sending Codec's incarnation (hex), set by Seal
}

// Svc names one end of an exchange: the node and the service on it
// ("cldaemon", "lems/<app>", "cllockd", "clnetd", or a tool's name).
func Svc(node, service string) string { return node + "/" + service }

// Codec seals and opens frames for one cluster. It is safe for concurrent
// use; its replay cache is shared by every connection that uses it.
type Codec struct {
	framing   Framing
	from      string // Envelope.From of every frame sealed
	inc       string // this process's incarnation: random per Codec
	block     cipher.Block
	macKey    []byte
	window    time.Duration
	now       func() time.Time
	rand      io.Reader
	dial      func(ctx context.Context, addr string) (net.Conn, error) // nil: TCP
	mu        sync.Mutex                                               // guards seen and lastPrune: every connection checks nonces
	seen      map[[8]byte]int64                                        // nonce -> timestamp, for the window
	lastPrune int64
}

// Option adjusts a Codec.
type Option func(*Codec)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(c *Codec) { c.now = now } }

// WithRand replaces the source of IVs and nonces, for golden tests.
func WithRand(r io.Reader) Option { return func(c *Codec) { c.rand = r } }

// WithWindow sets the freshness window.
func WithWindow(d time.Duration) Option { return func(c *Codec) { c.window = d } }

// WithDialer replaces TCP for the connections Call and Dial make: the
// daemons' in-process tests run them over a mock network.
func WithDialer(dial func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(c *Codec) { c.dial = dial }
}

// WithFrom names the sender ("node/service") in every frame sealed.
func WithFrom(from string) Option { return func(c *Codec) { c.from = from } }

// NewCodec derives the keys for cluster and key (Global.name, Global.key).
func NewCodec(f Framing, cluster, key string, opts ...Option) (*Codec, error) {
	c := &Codec{framing: f, window: DefaultWindow, now: time.Now, rand: rand.Reader, seen: map[[8]byte]int64{}}
	var ck []byte
	switch f {
	case Legacy:
		ck = legacyKey(key)
	case Authenticated:
		// HKDF (RFC 5869) with the cluster name as salt: the two keys are
		// independent, and another cluster with the same key derives
		// others. The key's own strength is clbuild's check (KeyStrength).
		var err error
		if ck, err = hkdf.Key(sha256.New, []byte(key), []byte(cluster), "linuxha cipher v2", 56); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		if c.macKey, err = hkdf.Key(sha256.New, []byte(key), []byte(cluster), "linuxha mac v2", 32); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
	default:
		return nil, fmt.Errorf("wire: unknown framing %d", f)
	}
	b, err := blowfish.NewCipher(ck)
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	c.block = b
	for _, o := range opts {
		o(c)
	}
	var inc [8]byte
	if _, err := io.ReadFull(c.rand, inc[:]); err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	c.inc = hex.EncodeToString(inc[:])
	return c, nil
}

// Framing tells which framing the codec speaks.
func (c *Codec) Framing() Framing { return c.framing }

// Inc is this codec's incarnation, carried in every authenticated frame.
func (c *Codec) Inc() string { return c.inc }

// From is the sender name the codec puts in its frames.
func (c *Codec) From() string { return c.from }

// Challenge returns a fresh random challenge (hex) for a server to send.
func (c *Codec) Challenge() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// legacyKey is Crypt::CBC 2.x's key material for a 56-byte (448-bit)
// Blowfish key: MD5 of the codeword, extended by MD5 of what is there.
func legacyKey(key string) []byte {
	s := md5.Sum([]byte(key))
	k := s[:]
	for len(k) < 56 {
		n := md5.Sum(k)
		k = append(k, n[:]...)
	}
	return k[:56]
}

// Seal frames msg (a request or reply without newline) as one line,
// newline included, with an envelope naming no recipient.
func (c *Codec) Seal(msg string) ([]byte, error) {
	f, _, err := c.SealEnv(Envelope{}, msg)
	return f, err
}

// SealEnv frames msg with env's To and Re (From is the codec's unless env
// names one; ID and Inc are the codec's) and returns the frame and its ID. Legacy frames carry no
// envelope.
func (c *Codec) SealEnv(env Envelope, msg string) ([]byte, string, error) {
	if strings.ContainsAny(msg, "\n\r") {
		return nil, "", fmt.Errorf("%w: message contains a newline", ErrFormat)
	}
	if c.framing == Authenticated {
		for _, f := range []string{c.from, env.From, env.To, env.Re} {
			if strings.ContainsAny(f, " \n\r") {
				return nil, "", fmt.Errorf("%w: envelope field %q", ErrFormat, f)
			}
		}
	}
	from := c.from
	if env.From != "" {
		from = env.From // a server answers as the service it is
	}
	sum := md5.Sum([]byte(msg))
	text := hex.EncodeToString(sum[:]) + ","
	if c.framing == Authenticated {
		text += field(from) + " " + field(env.To) + " " + field(env.Re) + " " + c.inc + "\n"
	}
	plain := pad([]byte(text + msg))
	var raw []byte
	var id string
	switch c.framing {
	case Legacy:
		raw = make([]byte, len(legacyHeader)+blowfish.BlockSize+len(plain))
		copy(raw, legacyHeader)
		iv := raw[len(legacyHeader) : len(legacyHeader)+blowfish.BlockSize]
		if _, err := io.ReadFull(c.rand, iv); err != nil {
			return nil, "", err
		}
		cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(raw[len(legacyHeader)+blowfish.BlockSize:], plain)
	case Authenticated:
		raw = make([]byte, authHeadLen+len(plain)+macLen)
		raw[0] = authVersion
		binary.BigEndian.PutUint64(raw[1:9], uint64(c.now().UnixNano()))
		if _, err := io.ReadFull(c.rand, raw[9:authHeadLen]); err != nil { // nonce and IV
			return nil, "", err
		}
		id = hex.EncodeToString(raw[9:17])
		iv := raw[17:authHeadLen]
		body := raw[authHeadLen : authHeadLen+len(plain)]
		cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(body, plain)
		m := hmac.New(sha256.New, c.macKey)
		m.Write(raw[:authHeadLen+len(plain)])
		copy(raw[authHeadLen+len(plain):], m.Sum(nil))
	}
	out := make([]byte, hex.EncodedLen(len(raw))+1)
	hex.Encode(out, raw)
	out[len(out)-1] = '\n'
	if len(out) > MaxFrame {
		return nil, "", ErrTooLarge
	}
	return out, id, nil
}

func field(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func unfield(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// Open checks and decrypts one line (with or without its newline) and
// returns the message, whatever its envelope.
func (c *Codec) Open(line []byte) (string, error) {
	_, msg, err := c.OpenEnv(line)
	return msg, err
}

// OpenEnv checks and decrypts one line and returns its envelope (empty
// for legacy frames) and message. Checking To and Re is the caller's:
// only it knows who it is and what it sent.
func (c *Codec) OpenEnv(line []byte) (Envelope, string, error) {
	var env Envelope
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > MaxFrame {
		return env, "", ErrTooLarge
	}
	raw := make([]byte, hex.DecodedLen(len(line)))
	if _, err := hex.Decode(raw, line); err != nil {
		return env, "", fmt.Errorf("%w: not hex", ErrFormat)
	}
	var plain []byte
	switch c.framing {
	case Legacy:
		h := len(legacyHeader) + blowfish.BlockSize
		if len(raw) < h+blowfish.BlockSize || (len(raw)-h)%blowfish.BlockSize != 0 || string(raw[:len(legacyHeader)]) != legacyHeader {
			return env, "", fmt.Errorf("%w: bad length or header", ErrFormat)
		}
		plain = make([]byte, len(raw)-h)
		cipher.NewCBCDecrypter(c.block, raw[len(legacyHeader):h]).CryptBlocks(plain, raw[h:])
	case Authenticated:
		if len(raw) < authHeadLen+blowfish.BlockSize+macLen || raw[0] != authVersion || (len(raw)-authHeadLen-macLen)%blowfish.BlockSize != 0 {
			return env, "", fmt.Errorf("%w: bad length or version", ErrFormat)
		}
		body := raw[:len(raw)-macLen]
		m := hmac.New(sha256.New, c.macKey)
		m.Write(body)
		if !hmac.Equal(m.Sum(nil), raw[len(raw)-macLen:]) {
			return env, "", ErrAuth
		}
		ts := int64(binary.BigEndian.Uint64(raw[1:9]))
		var nonce [8]byte
		copy(nonce[:], raw[9:17])
		if err := c.fresh(ts, nonce); err != nil {
			return env, "", err
		}
		env.ID = hex.EncodeToString(nonce[:])
		plain = make([]byte, len(body)-authHeadLen)
		cipher.NewCBCDecrypter(c.block, raw[17:authHeadLen]).CryptBlocks(plain, body[authHeadLen:])
	}
	plain, ok := unpad(plain)
	if !ok {
		return env, "", fmt.Errorf("%w: bad padding", ErrCorrupt)
	}
	sumHex, msg, ok := bytes.Cut(plain, []byte(","))
	if !ok || len(sumHex) != 32 {
		return env, "", fmt.Errorf("%w: no checksum", ErrCorrupt)
	}
	if c.framing == Authenticated {
		head, rest, ok := bytes.Cut(msg, []byte("\n"))
		f := strings.Fields(string(head))
		if !ok || len(f) != 4 {
			return env, "", fmt.Errorf("%w: no envelope", ErrFormat)
		}
		env.From, env.To, env.Re, env.Inc = unfield(f[0]), unfield(f[1]), unfield(f[2]), f[3]
		msg = rest
	}
	sum := md5.Sum(msg)
	if hex.EncodeToString(sum[:]) != string(sumHex) {
		return env, "", ErrCorrupt
	}
	return env, string(msg), nil
}

// fresh enforces the window and remembers nonces for twice its length.
func (c *Codec) fresh(ts int64, nonce [8]byte) error {
	now := c.now().UnixNano()
	w := int64(c.window)
	if ts < now-w || ts > now+w {
		return ErrStale
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.seen[nonce]; dup {
		return ErrReplay
	}
	if now-c.lastPrune > w/4 {
		for n, t := range c.seen {
			if t < now-w {
				delete(c.seen, n)
			}
		}
		c.lastPrune = now
	}
	c.seen[nonce] = ts
	return nil
}

func pad(b []byte) []byte {
	n := blowfish.BlockSize - len(b)%blowfish.BlockSize
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n < 1 || n > blowfish.BlockSize || n > len(b) {
		return nil, false
	}
	for _, x := range b[len(b)-n:] {
		if int(x) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}
